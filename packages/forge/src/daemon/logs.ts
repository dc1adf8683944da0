/**
 * The daemon's view of plugin logs: the last `daemon.log_buffer` records of every plugin
 * (for `forge logs` and the dashboard) and live subscribers (`forge logs -f`). Records
 * come from the registry's logger, which tags a plugin's records with its id; the
 * buffer holds plugin-supplied text as given, and every reader escapes it.
 */
import type { LogRecord } from '@forgeone/common';

/** A log record of one plugin, as the API serves it. */
export interface PluginLogRecord {
  readonly plugin: string;
  readonly time: string;
  readonly level: LogRecord['level'];
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

type Subscriber = (record: PluginLogRecord) => void;

/** See the module comment. */
export class PluginLogs {
  readonly #capacity: number;
  readonly #buffers = new Map<string, PluginLogRecord[]>();
  readonly #subscribers = new Map<string, Set<Subscriber>>();

  /** @param capacity records kept per plugin (0: none kept, live subscribers only) */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /**
   * Takes a record from the registry's logger. A plugin's records carry `plugin`: its
   * identity (`{ id, publisher, name, version, digest }`), or its id; records without
   * one are not a plugin's.
   */
  accept(record: LogRecord): void {
    const { plugin: tag, ...fields } = record.fields as { plugin?: unknown } & Record<string, unknown>;
    const plugin = typeof tag === 'string' ? tag : typeof tag === 'object' && tag !== null && typeof (tag as { id?: unknown }).id === 'string' ? (tag as { id: string }).id : undefined;
    if (plugin === undefined) return;
    const entry: PluginLogRecord = { plugin, time: new Date(record.time).toISOString(), level: record.level, message: record.message, fields };
    if (this.#capacity > 0) {
      let buffer = this.#buffers.get(plugin);
      if (buffer === undefined) {
        buffer = [];
        this.#buffers.set(plugin, buffer);
      }
      buffer.push(entry);
      if (buffer.length > this.#capacity) buffer.splice(0, buffer.length - this.#capacity);
    }
    for (const subscriber of this.#subscribers.get(plugin) ?? []) subscriber(entry);
  }

  /** The newest `limit` records of `plugin`, oldest first. */
  recent(plugin: string, limit = this.#capacity): PluginLogRecord[] {
    const buffer = this.#buffers.get(plugin) ?? [];
    return buffer.slice(Math.max(0, buffer.length - limit));
  }

  /** Calls `subscriber` with each new record of `plugin`; returns the unsubscribe function. */
  subscribe(plugin: string, subscriber: Subscriber): () => void {
    let set = this.#subscribers.get(plugin);
    if (set === undefined) {
      set = new Set();
      this.#subscribers.set(plugin, set);
    }
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0) this.#subscribers.delete(plugin);
    };
  }

  /** Live subscribers, every plugin together. */
  get subscribers(): number {
    let count = 0;
    for (const set of this.#subscribers.values()) count += set.size;
    return count;
  }

  /** Drops what is kept of `plugin` (uninstalled). */
  forget(plugin: string): void {
    this.#buffers.delete(plugin);
  }
}
