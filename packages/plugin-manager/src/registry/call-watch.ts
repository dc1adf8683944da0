/**
 * Measuring plugin calls for the registry's observers and tracing: each call, from the
 * API, host code or another plugin (forge.call_plugin), gets a probe the backend fills
 * in (fuel used, memory after, the host calls it made when traced), its time, its
 * outcome, and, with tracing, a `plugin.call` span under the caller's trace context.
 *
 * Nothing here runs unless someone watches: with no call observer and no tracing, the
 * registry calls the backend as before, without a probe.
 */
import { isErrorCode, toForgeError } from '@forgeone/common';
import type { Context } from '@opentelemetry/api';
import type { CallReport, TraceParent, Tracing } from '../metrics/index.js';
import { callProbe, type CallProbe } from '../sandbox/index.js';
import type { RegistryObservers } from './observers.js';
import type { PluginRecord } from './record.js';

/** Options of one `PluginRegistry.call`. */
export interface CallOptions {
  /**
   * The W3C `traceparent` of the request this call serves (a header value as
   * received): the call's span becomes its child. A malformed value is ignored.
   */
  readonly traceparent?: string;
  /** The W3C `tracestate` that came with {@link traceparent}. */
  readonly tracestate?: string;
  /** The OTel Context the call's span starts in; wins over {@link traceparent}. */
  readonly context?: Context;
}

/** Runs a call with its probe; see the module comment. */
export type Invoke<T> = (probe: CallProbe | undefined) => T;

/** The observers and the tracing that watch calls. */
export class CallWatch {
  readonly #observers: RegistryObservers;
  readonly #tracing: Tracing | undefined;

  constructor(observers: RegistryObservers, tracing: Tracing | undefined) {
    this.#observers = observers;
    this.#tracing = tracing;
  }

  /** True when calls are watched: a call observer or tracing is there. */
  get active(): boolean {
    return this.#tracing !== undefined || this.#observers.watchingCalls;
  }

  /** Runs an asynchronous call of `record`'s `exportName` under watch. */
  async run(record: PluginRecord, exportName: string, caller: string | undefined, options: CallOptions | undefined, invoke: Invoke<Promise<Uint8Array>>): Promise<Uint8Array> {
    const watched = this.#begin(record, exportName, parentOf(options));
    try {
      const output = await invoke(watched.probe);
      this.#end(watched, record, exportName, caller, undefined);
      return output;
    } catch (error) {
      this.#end(watched, record, exportName, caller, error);
      throw error;
    }
  }

  /** Runs a synchronous call (forge.call_plugin) under watch. */
  runSync(record: PluginRecord, exportName: string, caller: string | undefined, invoke: Invoke<Uint8Array>): Uint8Array {
    const watched = this.#begin(record, exportName, undefined);
    try {
      const output = invoke(watched.probe);
      this.#end(watched, record, exportName, caller, undefined);
      return output;
    } catch (error) {
      this.#end(watched, record, exportName, caller, error);
      throw error;
    }
  }

  #begin(record: PluginRecord, exportName: string, parent: TraceParent | undefined): Watched {
    const started = performance.now();
    const startTime = performance.timeOrigin + started;
    const tracing = this.#tracing;
    return {
      started,
      startTime,
      probe: record.native === undefined ? callProbe(tracing !== undefined && record.spec?.traceHostCalls === true) : undefined,
      span: tracing?.startCall(record.observed, exportName, parent, startTime),
    };
  }

  #end(watched: Watched, record: PluginRecord, exportName: string, caller: string | undefined, error: unknown): void {
    const probe = watched.probe;
    const report: CallReport = {
      plugin: record.observed,
      export: exportName,
      caller,
      startTime: watched.startTime,
      durationSeconds: (performance.now() - watched.started) / 1000,
      outcome: error === undefined ? 'ok' : outcomeOf(error),
      fuelUsed: probe?.fuelUsed ?? 0n,
      memoryBytes: probe === undefined || probe.memoryBytes === 0 ? undefined : probe.memoryBytes,
      hostCalls: probe?.hostCalls ?? [],
      droppedHostCalls: probe?.droppedHostCalls ?? 0,
    };
    this.#observers.call(report);
    if (watched.span !== undefined) this.#tracing?.endCall(watched.span, report);
  }
}

interface Watched {
  readonly started: number;
  readonly startTime: number;
  readonly probe: CallProbe | undefined;
  readonly span: ReturnType<Tracing['startCall']> | undefined;
}

function parentOf(options: CallOptions | undefined): TraceParent | undefined {
  if (options === undefined) return undefined;
  if (options.context !== undefined) return options.context;
  if (options.traceparent === undefined) return undefined;
  return options.tracestate === undefined ? { traceparent: options.traceparent } : { traceparent: options.traceparent, tracestate: options.tracestate };
}

/** A failure's code, from the catalog (anything else, which would be a bug, as FO_INTERNAL_UNEXPECTED). */
function outcomeOf(error: unknown): string {
  const code = toForgeError(error).code;
  return isErrorCode(code) ? code : 'FO_INTERNAL_UNEXPECTED';
}
