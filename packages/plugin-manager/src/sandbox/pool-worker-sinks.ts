/**
 * What a pool worker gives each plugin it hosts: sinks that batch its telemetry for the
 * host thread and ask the host for its registered calls, and the thread's resources
 * (with an I/O bridge that asks the host for each HTTP hop when the worker runs inside
 * a confined sandbox).
 */
import { ForgeError } from '@forgeone/common';
import type { PluginSinks, ThreadResources } from './hosted-plugin.js';
import { auditUnavailable } from './plugin-gate.js';
import { HOST_OP, text, type Slot } from './pool-protocol.js';
import type { WorkerOutbox } from './pool-worker-outbox.js';
import type { CallerFuel, PluginSpec } from './spec.js';
import { fromJsonBytes, jsonBytes } from './process/wire.js';

/** Asks the host thread (HOST_OP `op` for plugin `index`) and blocks until it answers; undefined for STATUS.NONE. */
export type Ask = (op: number, index: number, name: number, request: Uint8Array, fuel?: CallerFuel) => Uint8Array | undefined;

const EMPTY = new Uint8Array(0);

/** The sinks of the plugin at `index` of a worker. */
export function workerSinks(index: number, spec: PluginSpec, slot: Slot, outbox: WorkerOutbox, ask: Ask): PluginSinks {
  const id = spec.id;
  const registered = spec.hostCalls.registered.map((entry) => (typeof entry === 'string' ? entry : entry.name));
  const nameIndex = (name: string): number => registered.indexOf(name);
  return {
    audit: (entry) => {
      // SECURITY: entries reach the host after the call; while the host reports that its
      // audit log fails, the bridge refuses every call it must audit. The refusal is sent
      // for the record too: once the host's log takes it, the host takes audited calls again.
      if (slot.auditBroken) {
        outbox.queue({ kind: 'audit', plugin: id, entry: { ...entry, allowed: false, reason: `refused: the host's audit log was failing (${entry.reason ?? 'no reason given'})` } });
        throw auditUnavailable(id);
      }
      outbox.queue({ kind: 'audit', plugin: id, entry });
    },
    auditCheck: () => {
      if (slot.auditBroken) throw auditUnavailable(id);
    },
    anomaly: (anomaly) => outbox.queue({ kind: 'anomaly', plugin: id, anomaly }),
    log: (record) => outbox.queue({ kind: 'log', plugin: id, record }),
    event: (event) => outbox.queue({ kind: 'event', plugin: id, event }),
    call: (name, request, fuel) => ask(HOST_OP.CALL, index, nameIndex(name), request, fuel) ?? EMPTY,
    resource: (name, request) => {
      const answer = ask(HOST_OP.RESOURCE, index, nameIndex(name), request);
      return answer === undefined ? undefined : text(answer);
    },
  };
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
