/**
 * Replacing a pool worker that timed out or died: who is to blame, what happens to every
 * job it held, and re-creating the other plugins on a fresh worker.
 *
 * The plugin whose code was running (the innermost active job's) is the culprit: it is
 * poisoned and dropped, and only its job fails with the cause (FO_SANDBOX_TIMEOUT,
 * FO_SANDBOX_WORKER_FAILED), the codes a restart policy counts as crashes. Every other
 * plugin of the worker is re-created from its spec on a fresh worker, before any other
 * job runs there, and its handle emits `restarted`: its in-memory state is lost, jobs
 * that were queued for it reject with FO_SANDBOX_RESTARTED, and a job of it that was
 * running (waiting for the host, which ran the culprit's job nested) with
 * FO_SANDBOX_WORKER_REPLACED. Neither is its failure. A worker that keeps dying before
 * it finishes a single job is not replaced again.
 */
import { ForgeError } from '@forgeone/common';
import { Job, type LanePlugin } from './pool-job.js';
import { HEAT } from './pool-placement.js';
import { OP } from './pool-protocol.js';

/** Workers that die this many times in a row before finishing a job are not replaced again. */
export const MAX_BOOT_FAILURES = 3;

/** What recovery does to a lane. The lane has already stopped the old worker. */
export interface RecoveringLane {
  readonly id: number;
  /** Removes and returns the jobs the old worker was running, outermost first. */
  takeActive(): Job[];
  /** Removes and returns every queued job. */
  takeQueued(): Job[];
  /** Plugins placed on the lane. */
  plugins(): readonly LanePlugin[];
  /** Forgets a plugin that will not be re-created. */
  forget(plugin: LanePlugin): void;
  /** Adds heat to a plugin (placement). */
  heat(plugin: LanePlugin, amount: number): void;
  /** Counts the loss and returns how many workers in a row died before finishing a job. */
  countBootFailure(): number;
  /** Gives up on the lane: every later job rejects with `error`. */
  giveUp(error: ForgeError): void;
  /** Starts a fresh worker. */
  respawn(): void;
  /** Queues a job, ahead of the plugins' own when `urgent`. */
  requeue(job: Job, urgent: boolean): void;
}

/** FO_SANDBOX_TIMEOUT for `job`, which ran past its limit: worker `worker` was terminated. */
export function timedOut(worker: number, job: Job): ForgeError {
  return new ForgeError('FO_SANDBOX_TIMEOUT', `the ${job.what} ran past its ${job.timeoutMs} ms limit; pool worker ${worker} was terminated and replaced`, {
    details: { plugin: job.plugin?.id, timeoutMs: job.timeoutMs, worker },
  });
}

/**
 * Why worker `worker` was lost when it ended on its own (`why`: its error or exit code)
 * while running `job`: a sandbox's own account (FO_SANDBOX_MEMORY_LIMIT, a protocol
 * violation) as it is, else FO_SANDBOX_WORKER_FAILED.
 */
export function workerLost(worker: number, job: Job | undefined, why: unknown): ForgeError {
  if (why instanceof ForgeError) return why;
  const reason = why instanceof Error ? `${why.name}: ${why.message}` : `exit code ${String(why)}`;
  return new ForgeError('FO_SANDBOX_WORKER_FAILED', `pool worker ${worker} exited unexpectedly (${reason})${job === undefined ? '' : ` during the ${job.what}`}; it was replaced`, {
    details: { worker, reason },
  });
}

/** FO_SANDBOX_WORKER_REPLACED for a job that was running, not by fault of its plugin, when the worker was lost. */
function replacedDuring(worker: number, job: Job, cause: ForgeError): ForgeError {
  return new ForgeError(
    'FO_SANDBOX_WORKER_REPLACED',
    `the ${job.what} was running when another plugin's failure (${cause.code}) made pool worker ${worker} be replaced; it may have had effects before it stopped. The plugin's instance was re-created with fresh state; the call can be retried`,
    { details: { worker, cause: cause.code } },
  );
}

/**
 * The worker is lost: settle what it held, drop the culprit, re-create the others on a
 * new worker. The culprit's job rejects with `error`; the jobs that were waiting for it
 * (with nested jobs, the outer ones) with FO_SANDBOX_WORKER_REPLACED.
 */
export function recoverLane(lane: RecoveringLane, error: ForgeError): void {
  const active = lane.takeActive();
  const culprit = active.at(-1)?.plugin;
  for (const job of active) {
    clearTimeout(job.timer);
    // An outer job (its plugin was waiting for the host, which ran the culprit's job
    // nested) is not its plugin's failure: a code the restart policy does not count.
    job.reject(job.plugin === culprit ? error : replacedDuring(lane.id, job, error));
  }
  const bootFailures = lane.countBootFailure();
  if (culprit !== undefined) {
    lane.heat(culprit, HEAT.fault);
    culprit.book.poison(error);
    lane.forget(culprit);
  }
  const restarted = new ForgeError('FO_SANDBOX_RESTARTED', `the plugin's pool worker ${lane.id} was replaced (${error.code}); its instance was re-created with fresh state and this queued job did not run`, {
    details: { worker: lane.id, cause: error.code },
  });
  const firstLoads: Job[] = [];
  for (const job of lane.takeQueued()) {
    if (job.op === OP.UNLOAD || job.op === OP.POLICY) job.resolve(undefined); // the new worker starts from the newest specs
    else if (job.op === OP.LOAD && job.plugin?.loaded === false && !job.plugin.gone) firstLoads.push(job);
    else if (job.plugin === culprit && culprit !== undefined) job.reject(error);
    else job.reject(restarted);
  }
  if (bootFailures >= MAX_BOOT_FAILURES) {
    const broken = new ForgeError('FO_SANDBOX_WORKER_FAILED', `pool worker ${lane.id} failed ${bootFailures} times before finishing a job; it is not replaced again (${error.message})`, {
      details: { worker: lane.id },
    });
    lane.giveUp(broken);
    for (const job of firstLoads) job.reject(broken);
    for (const plugin of lane.plugins()) plugin.book.poison(broken);
    return;
  }
  lane.respawn();
  const survivors = lane.plugins().filter((plugin) => plugin.loaded && !plugin.gone);
  for (const plugin of survivors) {
    plugin.names.clear();
    plugin.loaded = false;
    const reload = new Job(OP.LOAD, { plugin, timeoutMs: plugin.loadTimeoutMs, what: `re-creation of plugin ${plugin.id}` });
    lane.requeue(reload, true);
    void reload.promise().then(
      () => {
        plugin.loaded = true;
      },
      (failure: unknown) => plugin.book.poison(failure instanceof ForgeError ? failure : restarted),
    );
  }
  for (const job of firstLoads) lane.requeue(job, false);
  // Listeners learn of the restart before any later job reaches the new instances.
  for (const plugin of survivors) plugin.book.restarted(error);
}
