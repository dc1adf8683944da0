/**
 * What the host thread does for a pool worker besides running its jobs: answering its
 * host requests (a registered host call, or the resource such a call touches) through
 * the {@link BackendHost}, and handing the telemetry it batched (audit entries, logs,
 * events, anomalies, host-call counts) to the host, keeping the running counts of its
 * folding calls (pool-fold-progress.ts).
 */
import { ForgeError, type Logger } from '@forgeone/common';
import { FOLDED_ACTION } from './audit-fold.js';
import type { FoldProgressBook } from './pool-fold-progress.js';
import type { LanePlugin } from './pool-job.js';
import { HOST_OP, NO_FUEL, STATE, STATUS, errorBytes, utf8, writePayload, type TelemetryItem } from './pool-protocol.js';
import type { WorkerHandle } from './pool-worker-handle.js';
import type { BackendHost, CallerFuel } from './spec.js';

/** What serving needs from the pool. */
export interface HostServiceEnv {
  readonly host: BackendHost;
  readonly logger: Logger;
  /** Reports that BackendHost.audit failed, so every lane refuses audited calls. @returns true when it was taking records until now */
  auditFailed(): boolean;
  /** Reports that BackendHost.audit took a record, so every lane takes audited calls again. @returns true when it was failing until now */
  auditRestored(): boolean;
}

/** A host request as the worker sent it, resolved to the plugin and call it names. */
export interface HostRequest {
  /** {@link HOST_OP}. */
  readonly op: number;
  /** The asking plugin's id; undefined when the worker named a plugin it does not host. */
  readonly plugin: string | undefined;
  /** The registered call's name; undefined when the worker named a call the plugin was not given. */
  readonly name: string | undefined;
  readonly request: Uint8Array;
  /** The asking plugin's fuel left, in units; undefined when it is not metered. */
  readonly fuel: bigint | undefined;
}

/** The answer for the worker: a STATUS word and its payload. */
export interface HostAnswer {
  readonly status: number;
  readonly answer: Uint8Array;
  /** Fuel the plugins the request called used, in units: taken from the asking plugin. */
  readonly charge: bigint;
}

const EMPTY = new Uint8Array(0);

/**
 * Reads the worker's host request from its slot (after the telemetry it posted first).
 * @param pluginAt the lane's plugin at an index in the worker
 */
export function readHostRequest(worker: WorkerHandle, pluginAt: (index: number) => LanePlugin | undefined): HostRequest {
  worker.drainIfFlagged();
  const words = worker.slot.readRequest();
  const plugin = pluginAt(words.plugin);
  return { op: words.op, plugin: plugin?.id, name: plugin?.registered[words.name], request: worker.takePayload(words.length), fuel: words.fuel === NO_FUEL ? undefined : words.fuel };
}

/** Writes the answer into the worker's slot and wakes it. */
export function replyToHostRequest(worker: WorkerHandle, answer: HostAnswer): void {
  const slot = worker.slot;
  slot.writeAnswer({ status: answer.status, length: writePayload(slot, (message, transfer) => worker.post(message, transfer), answer.answer), charge: answer.charge });
  slot.signal(STATE.HOST_REPLY);
}

/** Runs a host request on the host thread. Never throws: a refusal is an answer with STATUS.ERROR. */
export function answerHostRequest(env: HostServiceEnv, request: HostRequest): HostAnswer {
  const { plugin, name } = request;
  const fuel = request.fuel === undefined ? undefined : new FuelLedger(request.fuel);
  try {
    if (plugin === undefined || name === undefined) throw new ForgeError('FO_SYSCALL_UNKNOWN', 'a pool worker asked for a host call this plugin was not given');
    if (request.op === HOST_OP.CALL) {
      const result: unknown = env.host.hostCall(plugin, name, request.request, fuel);
      if (!(result instanceof Uint8Array)) throw new TypeError(`BackendHost.hostCall returned ${typeof result}; expected a Uint8Array`);
      return { status: STATUS.OK, answer: result, charge: fuel?.charged ?? 0n };
    }
    const resource = env.host.hostCallResource?.(plugin, name, request.request);
    return resource === undefined ? { status: STATUS.NONE, answer: EMPTY, charge: 0n } : { status: STATUS.OK, answer: utf8(resource), charge: 0n };
  } catch (error) {
    // A plugin it called may have run (and run out) before the refusal: it is charged all the same.
    return { status: STATUS.ERROR, answer: errorBytes(forGuest(env.logger, error, plugin, name)), charge: fuel?.charged ?? 0n };
  }
}

/** The asking plugin's fuel on the host thread: what the worker said it had left, less what the calls made for it used. */
class FuelLedger implements CallerFuel {
  readonly #left: bigint;
  charged = 0n;

  constructor(left: bigint) {
    this.#left = left;
  }

  get remaining(): bigint {
    return this.#left - this.charged;
  }

  charge(units: bigint): void {
    this.charged += units;
  }
}

/** A host-side failure as the plugin may see it: ForgeErrors as they are, anything else logged and hidden. */
function forGuest(logger: Logger, error: unknown, plugin: string | undefined, name: string | undefined): ForgeError {
  if (error instanceof ForgeError) return error;
  logger.error('a registered host call failed inside the host', { plugin, call: name, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  // SECURITY: host internals (stack, paths) stay in the host's log, not in the guest.
  return new ForgeError('FO_INTERNAL_UNEXPECTED', `${name ?? 'the host call'} failed inside the host`);
}

/**
 * Hands a worker's telemetry to the host, one item at a time; a throwing sink does not
 * stop the others. The running counts of folding calls go to `folds` (the worker's),
 * and a call's summary makes it forget them.
 */
export function deliverTelemetry(env: HostServiceEnv, items: readonly TelemetryItem[], folds?: FoldProgressBook): void {
  const host = env.host;
  for (const item of items) {
    try {
      switch (item.kind) {
        case 'audit':
          if (item.entry.action === FOLDED_ACTION) folds?.summarised(item.plugin);
          host.audit(item.entry);
          // The host's audit log takes records again (it recovered from a full disk).
          if (env.auditRestored()) env.logger.info('the audit log takes records again; audited calls are answered again', { plugin: item.plugin });
          break;
        case 'log':
          host.log(item.plugin, item.record);
          break;
        case 'event':
          host.event(item.plugin, item.event);
          break;
        case 'anomaly':
          host.anomaly(item.plugin, item.anomaly);
          break;
        case 'counts':
          host.hostCallCounts?.(item.plugin, item.counts);
          break;
        case 'fold':
          folds?.note(item.plugin, item.progress, performance.now());
          break;
      }
    } catch (error) {
      if (item.kind === 'audit') {
        // SECURITY: the worker already acted on this decision; from now on every
        // worker refuses calls it must audit (fail closed for all later calls).
        // Logged once per outage: the refusals' own records fail the same way until it ends.
        if (env.auditFailed()) {
          env.logger.error('the audit log refused an entry from a pool worker; audited calls are refused until it takes records again', {
            plugin: item.plugin,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      } else {
        env.logger.warn(`BackendHost.${item.kind} threw`, { plugin: item.plugin, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}
