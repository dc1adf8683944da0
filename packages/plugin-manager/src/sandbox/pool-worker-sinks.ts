/**
 * What a pool worker gives each plugin it hosts: sinks that batch its telemetry for the
 * host thread and ask the host for its registered calls, and the thread's resources
 * (with an I/O bridge that asks the host for each HTTP hop when the worker runs inside
 * a confined sandbox).
 */
import { ForgeError, type LogRecord } from '@forgeone/common';
import type { Anomaly } from '@forgeone/microkernel';
import type { PluginEvent } from '../syscall/index.js';
import type { FoldProgress } from './audit-fold.js';
import type { FoldTally } from './fold-tally.js';
import type { PluginSinks, ThreadResources } from './hosted-plugin.js';
import type { BackendAuditEntry } from './plugin-gate.js';
import { auditUnavailable } from './plugin-gate.js';
import { HOST_OP, text, type Slot } from './pool-protocol.js';
import type { WorkerOutbox } from './pool-worker-outbox.js';
import type { CallerFuel, PluginSpec } from './spec.js';
import { fromJsonBytes, jsonBytes } from './process/wire.js';

/** Asks the host thread (HOST_OP `op` for plugin `index`) and blocks until it answers; undefined for STATUS.NONE. */
export type Ask = (op: number, index: number, name: number, request: Uint8Array, fuel?: CallerFuel) => Uint8Array | undefined;

const EMPTY = new Uint8Array(0);

/**
 * The sinks of the plugin at `index` of a worker: a class, so that each of thousands of
 * idle plugins holds one object and not seven closures.
 */
class WorkerSinks implements PluginSinks {
  readonly #index: number;
  readonly #id: string;
  readonly #registered: readonly (string | { readonly name: string })[];
  readonly #slot: Slot;
  readonly #outbox: WorkerOutbox;
  readonly #ask: Ask;

  constructor(index: number, spec: PluginSpec, slot: Slot, outbox: WorkerOutbox, ask: Ask) {
    this.#index = index;
    this.#id = spec.id;
    this.#registered = spec.hostCalls.registered;
    this.#slot = slot;
    this.#outbox = outbox;
    this.#ask = ask;
  }

  audit(entry: BackendAuditEntry): void {
    // SECURITY: entries reach the host after the call; while the host reports that its
    // audit log fails, the bridge refuses every call it must audit. The refusal is sent
    // for the record too: once the host's log takes it, the host takes audited calls again.
    if (this.#slot.auditBroken) {
      this.#outbox.queueAudit(this.#index, { kind: 'audit', plugin: this.#id, entry: { ...entry, allowed: false, reason: `refused: the host's audit log was failing (${entry.reason ?? 'no reason given'})` } });
      throw auditUnavailable(this.#id);
    }
    this.#outbox.queueAudit(this.#index, { kind: 'audit', plugin: this.#id, entry });
  }

  auditCheck(): void {
    if (this.#slot.auditBroken) throw auditUnavailable(this.#id);
  }

  anomaly(anomaly: Anomaly): void {
    this.#outbox.queue({ kind: 'anomaly', plugin: this.#id, anomaly });
  }

  log(record: LogRecord): void {
    this.#outbox.queue({ kind: 'log', plugin: this.#id, record });
  }

  event(event: PluginEvent): void {
    this.#outbox.queue({ kind: 'event', plugin: this.#id, event });
  }

  /** Sent at once: the host writes a killed call's summary from the last it has (pool-fold-progress.ts). */
  foldProgress(progress: FoldProgress): void {
    this.#outbox.queue({ kind: 'fold', plugin: this.#id, progress });
  }

  get foldTally(): { readonly tally: FoldTally; readonly index: number } | undefined {
    const tally = this.#outbox.tally;
    return tally === undefined ? undefined : { tally, index: this.#index };
  }

  call(name: string, request: Uint8Array, fuel: CallerFuel | undefined): Uint8Array {
    return this.#ask(HOST_OP.CALL, this.#index, this.#nameIndex(name), request, fuel) ?? EMPTY;
  }

  resource(name: string, request: Uint8Array): string | undefined {
    const answer = this.#ask(HOST_OP.RESOURCE, this.#index, this.#nameIndex(name), request);
    return answer === undefined ? undefined : text(answer);
  }

  /** The index the host knows a registered call by. */
  #nameIndex(name: string): number {
    return this.#registered.findIndex((entry) => (typeof entry === 'string' ? entry : entry.name) === name);
  }
}

/** The sinks of the plugin at `index` of a worker. */
export function workerSinks(index: number, spec: PluginSpec, slot: Slot, outbox: WorkerOutbox, ask: Ask): PluginSinks {
  return new WorkerSinks(index, spec, slot, outbox, ask);
}

/** The thread's resources for the plugin at `index`, with an I/O bridge that asks the host for each hop when the worker forwards HTTP. */
export function workerResources(base: ThreadResources, forwardHttp: boolean, index: number, ask: Ask): ThreadResources {
  if (!forwardHttp) return base;
  const hop = (bytes: Uint8Array): Uint8Array | undefined => ask(HOST_OP.HTTP, index, 0, bytes);
  return {
    ...base,
    ioBridge: {
      call: <T>(kind: string, payload: unknown): T => {
        if (kind !== 'http.hop') throw new ForgeError('FO_INTERNAL_UNEXPECTED', `a confined sandbox forwards only http.hop, not ${kind}`);
        return fromJsonBytes(hop(jsonBytes(payload)) ?? EMPTY) as T;
      },
    },
  };
}
