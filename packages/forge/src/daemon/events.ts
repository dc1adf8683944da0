/**
 * The daemon's live events, for `GET /v1/events` (Server-Sent Events) and the dashboard:
 *
 * - `lifecycle`: a plugin changed state (the registry's `plugin.lifecycle.<state>`
 *   telemetry events, on the bus the daemon gave it);
 * - `plugin`: a plugin emitted an event (forge.emit_event), payload in base64;
 * - `audit`: a record was appended to the daemon's audit log (AuditLog.observe).
 *
 * Each event is encoded once and handed to every client that asked for its type; a
 * client's own stream bounds what waits for it (streams.ts). With no client listening,
 * an event costs one size check.
 *
 * SECURITY: everything a plugin or a client supplied (event names, payloads, audit
 * resources and reasons) is JSON-encoded in the `data:` line, and JSON escapes CR and LF,
 * so nothing can end an event early or forge another one.
 */
import type { TelemetryBus, TelemetryEvent } from '@forgeone/common';
import type { AuditEventNotice, AuditLog } from '@forgeone/microkernel';
import type { PluginRegistry } from '@forgeone/plugin-manager';

/** The kinds of events, as the `types` filter and the SSE `event:` field name them. */
export const EVENT_TYPES = ['lifecycle', 'plugin', 'audit'] as const;

/** One of {@link EVENT_TYPES}. */
export type EventType = (typeof EVENT_TYPES)[number];

/** `data` of a `lifecycle` event. */
export interface LifecycleEventData {
  readonly time: string;
  readonly plugin: string;
  readonly from: string;
  readonly to: string;
  /** The lifecycle step that moved it (init, start, stop, ...), null when none did. */
  readonly step: string | null;
  /** Why it failed or was quarantined. */
  readonly error?: { readonly code: string };
}

/** `data` of a `plugin` event. */
export interface PluginEventData {
  readonly time: string;
  readonly plugin: string;
  readonly name: string;
  /** The payload, base64. */
  readonly payload: string;
}

/** `data` of an `audit` event. */
export interface AuditEventData {
  readonly seq: number;
  readonly ts: string;
  readonly principal: string;
  readonly action: string;
  readonly resource?: string;
  readonly decision: 'allow' | 'deny';
  readonly reason?: string;
}

/** Where the events come from. */
export interface EventSources {
  readonly telemetry: TelemetryBus;
  readonly registry: Pick<PluginRegistry, 'onEvent'>;
  readonly audit: AuditLog | undefined;
  /** Milliseconds since the epoch (default Date.now), for plugin events' time. */
  readonly clock?: () => number;
}

interface Client {
  readonly types: ReadonlySet<EventType>;
  readonly deliver: (chunk: string) => void;
}

const LIFECYCLE_PREFIX = 'plugin.lifecycle.';

/** One Server-Sent Event: `event: <type>`, one `data:` line of JSON, a blank line. */
export function sseEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The fan-out of {@link EVENT_TYPES} to the clients listening. */
export class EventHub {
  readonly #clients = new Set<Client>();
  readonly #stops: (() => void)[] = [];
  readonly #clock: () => number;

  constructor(sources: EventSources) {
    this.#clock = sources.clock ?? Date.now;
    this.#stops.push(sources.telemetry.subscribe((event) => this.#telemetry(event)));
    this.#stops.push(sources.registry.onEvent((plugin, name, payload) => this.#plugin(plugin, name, payload)));
    if (sources.audit !== undefined) this.#stops.push(sources.audit.observe((record) => this.#audit(record)));
  }

  /** Clients listening now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Hands every later event of `types` to `deliver`, as an encoded SSE chunk; returns the unsubscribe function. */
  subscribe(types: ReadonlySet<EventType>, deliver: (chunk: string) => void): () => void {
    const client: Client = { types, deliver };
    this.#clients.add(client);
    return () => this.#clients.delete(client);
  }

  /** Stops listening to the sources and drops every client (the daemon stops). */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
    this.#clients.clear();
  }

  #publish(type: EventType, data: () => unknown): void {
    if (this.#clients.size === 0) return;
    let chunk: string | undefined;
    for (const client of [...this.#clients]) {
      if (!client.types.has(type)) continue;
      chunk ??= sseEvent(type, data());
      client.deliver(chunk);
    }
  }

  #telemetry(event: TelemetryEvent): void {
    if (!event.name.startsWith(LIFECYCLE_PREFIX)) return;
    this.#publish('lifecycle', (): LifecycleEventData => {
      const { labels } = event;
      const errorCode = labels['error_code'];
      return {
        time: new Date(event.timestamp).toISOString(),
        plugin: labels['plugin_id'] ?? '',
        from: labels['from'] ?? '',
        to: event.name.slice(LIFECYCLE_PREFIX.length),
        step: labels['step'] ?? null,
        ...(errorCode === undefined ? {} : { error: { code: errorCode } }),
      };
    });
  }

  #plugin(plugin: string, name: string, payload: Uint8Array): void {
    this.#publish('plugin', (): PluginEventData => ({
      time: new Date(this.#clock()).toISOString(),
      plugin,
      name,
      payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'),
    }));
  }

  #audit(record: AuditEventNotice): void {
    this.#publish('audit', (): AuditEventData => ({
      seq: record.seq,
      ts: record.ts,
      principal: record.principal,
      action: record.action,
      ...(record.resource === undefined ? {} : { resource: record.resource }),
      decision: record.decision,
      ...(record.reason === undefined ? {} : { reason: record.reason }),
    }));
  }
}
