/**
 * forge.emit_event: a plugin tells the host something happened.
 *
 * Request: field name (1-128 of `a-z 0-9 . _ -`, starting with a letter or digit),
 * then the payload (rest; any bytes, at most `maxEventPayloadBytes`). Response: empty.
 * The gate sees `event:<name>`. The event goes to the host's sink synchronously; the
 * call is rate-limited per plugin.
 */
import { ForgeError } from '@forgeone/common';
import type { HostCallContext, HostFunctionDefinition } from '../abi/index.js';
import { RequestReader, decodeUtf8 } from './codec.js';
import type { HostCallLimits } from './limits.js';
import { takeToken, type TokenBucket } from './rate-limit.js';

/** What the host's event listeners receive. */
export interface PluginEvent {
  /** The plugin that emitted it, as the host named it when creating the host functions. */
  readonly plugin: string;
  readonly name: string;
  /** The payload, a copy the listener may keep. */
  readonly payload: Uint8Array;
  /** Wall-clock time of the call, in ms since the epoch. */
  readonly time: number;
}

/**
 * Receives events. It runs while the plugin waits, so it should hand the event on
 * (queue it) rather than do slow work. What it throws is logged by the host and the
 * plugin is answered FO_INTERNAL_UNEXPECTED.
 */
export type EventSink = (event: PluginEvent) => void;

/** The grammar of event names. */
export const EVENT_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

interface EventRequest {
  readonly name: string;
  readonly payload: Uint8Array;
}

function readEvent(call: string, request: Uint8Array): EventRequest {
  const reader = new RequestReader(call, request);
  const nameBytes = reader.field('name');
  const name = decodeUtf8(nameBytes);
  if (name === undefined || !EVENT_NAME.test(name)) {
    throw new ForgeError('FO_SYSCALL_EVENT_BAD_NAME', `${call}: expected an event name of 1-128 of a-z 0-9 . _ - starting with a letter or digit, found ${nameBytes.length} bytes that are not`, {
      details: { call },
    });
  }
  return { name, payload: reader.rest() };
}

/** Where the definition gets what it needs. */
export interface EventDeps {
  readonly plugin: string;
  readonly sink: EventSink | undefined;
  readonly limits: HostCallLimits;
  readonly bucket: TokenBucket | undefined;
  readonly wallMs: () => number;
}

/** The forge.emit_event definition. */
export function emitEventHostFunction(deps: EventDeps): HostFunctionDefinition {
  const { limits } = deps;
  return {
    name: 'emit_event',
    maxRequestBytes: 4 + 128 + limits.maxEventPayloadBytes + 4096,
    resource: (request) => `event:${readEvent('forge.emit_event', request).name}`,
    handler(request: Uint8Array, { call }: HostCallContext): Uint8Array {
      const { name, payload } = readEvent(call, request);
      if (payload.length > limits.maxEventPayloadBytes) {
        throw new ForgeError('FO_SYSCALL_PAYLOAD_TOO_LARGE', `${call}: expected a payload of at most ${limits.maxEventPayloadBytes} bytes, found ${payload.length}`, {
          details: { call, limit: limits.maxEventPayloadBytes, actual: payload.length },
        });
      }
      const sink = deps.sink;
      if (sink === undefined) throw new ForgeError('FO_SYSCALL_NOT_CONFIGURED', `${call}: this host has no event listeners`, { details: { call } });
      takeToken(deps.bucket, call, limits.rates.emit_event);
      // The request is the handler's copy already; slice so the sink's payload owns exactly its bytes.
      sink(Object.freeze({ plugin: deps.plugin, name, payload: payload.slice(), time: deps.wallMs() }));
      return EMPTY;
    },
  };
}

const EMPTY = new Uint8Array(0);
