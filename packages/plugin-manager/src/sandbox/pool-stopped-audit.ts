/**
 * What the host writes for a pool worker it stops while jobs run on it (a call killed at
 * its time limit, a worker that died, the pool closing): first what the worker posted,
 * then the audit records it had queued and not posted, then the `audit.folded` summary
 * of each folding call it ran (pool-fold-progress.ts), from the counts it kept or its
 * last report. Both come from the worker's ledger (pool-ledger.ts), read after the worker
 * was halted (ledger-gate.ts).
 *
 * SECURITY: a sandbox's ledger (the process backend) is written by a process that may be
 * compromised: what it holds passes the checks of its TELEMETRY frames (child-input.ts)
 * against the lane's own record of its plugins, so a killed sandbox can say in its
 * ledger only what it could have said in a frame; a malformed ledger is dropped whole and
 * the violation audited.
 */
import { toForgeError, type ForgeError } from '@forgeone/common';
import type { TallyRead } from './fold-tally.js';
import type { FoldProgressBook } from './pool-fold-progress.js';
import { deliverTelemetry, type HostServiceEnv } from './pool-host-service.js';
import type { Job, LanePlugin, PluginTable } from './pool-job.js';
import type { TelemetryItem } from './pool-protocol.js';
import type { WorkerHandle } from './pool-worker-handle.js';
import { checkTelemetry, foldingOf, type SandboxPlugins } from './process/child-input.js';
import { jsonBytes } from './process/wire.js';

/** Why and when the worker is stopped. */
export interface Stop {
  readonly cause: ForgeError;
  /** `killed`: the host killed it (a time limit) or it died; `closed`: the pool closed. */
  readonly ended: 'killed' | 'closed';
  /** performance.now() when the host decided to stop it. */
  readonly at: number;
}

/** The call a sandbox's own records of it are dropped for (the relay decides it): see SandboxPlugins.decidedByHost. */
const HTTP_CALL = 'forge.http_request';

/**
 * Delivers to the host what `worker` (about to be stopped while running `active`,
 * outermost first) did and held. Call before stopping it.
 * @param plugins the lane's plugins, by their index on the worker
 */
export function auditStoppedWorker(env: HostServiceEnv, worker: WorkerHandle | undefined, plugins: PluginTable, folds: FoldProgressBook, active: readonly Job[], stop: Stop): void {
  // The worker may still be running: halted first (ledger-gate.ts), it records nothing more,
  // so its port, its unposted records and its counts are read as one picture.
  worker?.haltLedger();
  worker?.drain();
  if (worker === undefined) {
    deliverTelemetry(env, folds.stopped(active, stop.cause, stop.at, stop.ended));
    return;
  }
  const known = worker.ledgerUntrusted ? sandboxPlugins(plugins.all()) : undefined;
  const checked = (items: TelemetryItem[]): TelemetryItem[] => (known === undefined ? items : checkedLedger(env, items, known, plugins.all()));
  const unposted: TelemetryItem[] = [];
  for (const { index, entry } of worker.unpostedAudits()) {
    // SECURITY: attributed by the lane's own table; a record naming no plugin of the lane is dropped.
    const plugin = plugins.get(index);
    if (plugin !== undefined) unposted.push({ kind: 'audit', plugin: plugin.id, entry: { ...entry, plugin: plugin.id } });
  }
  deliverTelemetry(env, checked(unposted));
  const tally = (plugin: LanePlugin): TallyRead | undefined => {
    const read = worker.foldTally(plugin.index);
    if (read === undefined || known === undefined) return read;
    const progress = { ...read, call: plugin.id, kept: plugin.spec.auditMaxCallRecords };
    const result = checked([{ kind: 'fold', plugin: plugin.id, progress } as TelemetryItem]);
    if (result[0]?.kind === 'fold') return read;
    deliverTelemetry(env, result); // the violation's records
    return undefined;
  };
  deliverTelemetry(env, folds.stopped(active, stop.cause, stop.at, stop.ended, tally));
}

/**
 * `items` from a sandbox's ledger as its frames are checked. A malformed one is a protocol
 * violation, as in a frame: none of them is kept, and the violation is audited against
 * every plugin of the sandbox (any of them may have done it), as the relay does.
 */
function checkedLedger(env: HostServiceEnv, items: TelemetryItem[], known: SandboxPlugins, all: readonly LanePlugin[]): TelemetryItem[] {
  if (items.length === 0) return items;
  try {
    return checkTelemetry(jsonBytes(items), known);
  } catch (error) {
    const reason = `a stopped sandbox left a malformed ledger: ${toForgeError(error).message}`;
    env.logger.warn('a stopped sandbox left a malformed ledger; what it held was dropped', { error: reason });
    return all.map((plugin) => ({ kind: 'audit', plugin: plugin.id, entry: { plugin: plugin.id, action: 'sandbox.protocol', resource: undefined, allowed: false, reason } }));
  }
}

/** What the host knows of a lane's plugins, as the checks of a sandbox's frames ask it. */
function sandboxPlugins(all: readonly LanePlugin[]): SandboxPlugins {
  const byId = new Map(all.map((plugin) => [plugin.id, plugin]));
  return {
    has: (id) => byId.has(id),
    decidedByHost: (id, call) => call === HTTP_CALL || (byId.get(id)?.registered.includes(call) ?? false),
    folding: (id) => {
      const plugin = byId.get(id);
      return plugin === undefined ? undefined : foldingOf(plugin.spec);
    },
  };
}
