/**
 * What the host writes for a pool worker it stops while jobs run on it (a call killed at
 * its time limit, a worker that died, the pool closing): first what the worker posted,
 * then the audit records it had queued and not posted (pool-audit-mirror.ts), then the
 * `audit.folded` summary of each folding call it ran (pool-fold-progress.ts), from the
 * counts it kept (fold-tally.ts) or its last report.
 */
import type { ForgeError } from '@forgeone/common';
import type { FoldProgressBook } from './pool-fold-progress.js';
import { deliverTelemetry, type HostServiceEnv } from './pool-host-service.js';
import type { Job, LanePlugin } from './pool-job.js';
import type { TelemetryItem } from './pool-protocol.js';
import type { WorkerHandle } from './pool-worker-handle.js';

/** Why and when the worker is stopped. */
export interface Stop {
  readonly cause: ForgeError;
  /** `killed`: the host killed it (a time limit) or it died; `closed`: the pool closed. */
  readonly ended: 'killed' | 'closed';
  /** performance.now() when the host decided to stop it. */
  readonly at: number;
}

/**
 * Delivers to the host what `worker` (about to be stopped while running `active`,
 * outermost first) did and held. Call before stopping it.
 * @param pluginAt the lane's plugin at an index on the worker
 */
export function auditStoppedWorker(env: HostServiceEnv, worker: WorkerHandle | undefined, pluginAt: (index: number) => LanePlugin | undefined, folds: FoldProgressBook, active: readonly Job[], stop: Stop): void {
  worker?.drain();
  if (worker !== undefined) {
    const unposted: TelemetryItem[] = [];
    for (const { index, entry } of worker.unpostedAudits()) {
      // SECURITY: attributed by the lane's own table; a record naming no plugin of the lane is dropped.
      const plugin = pluginAt(index);
      if (plugin !== undefined) unposted.push({ kind: 'audit', plugin: plugin.id, entry: { ...entry, plugin: plugin.id } });
    }
    deliverTelemetry(env, unposted, folds);
  }
  const tally = worker === undefined ? undefined : (plugin: LanePlugin) => worker.foldTally(plugin.index);
  deliverTelemetry(env, folds.stopped(active, stop.cause, stop.at, stop.ended, tally));
}
