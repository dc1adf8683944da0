/**
 * The host side of one pool worker: its plugins, its job queue, and running jobs
 * through the slot protocol (pool-protocol.ts) under their wall-clock limits. The
 * worker thread itself is a {@link WorkerHandle} (pool-worker-handle.ts); host requests
 * are answered by pool-host-service.ts; a worker that times out or dies is replaced by
 * pool-recovery.ts.
 *
 * Waiting for a job. The host writes the job into the slot and notifies; then, when
 * the plugin's calls are usually short, it blocks in Atomics.wait for up to
 * `fastWaitMs` (a few tens of microseconds), which answers most small calls without a
 * trip through the event loop. Otherwise, or when that runs out, it arms the job's
 * timer and waits with Atomics.waitAsync, so the host's event loop keeps running while
 * the worker works. A host request from the worker (a registered host call) is served
 * by whichever wait sees it.
 *
 * When a job runs past its limit while it waits in a wait the worker controls (a WASI
 * sleep, a host request not served yet), it is cancelled there (pool-cancel.ts): it
 * rejects with FO_SANDBOX_TIMEOUT, its instance is poisoned, and the worker and its
 * other plugins go on. Otherwise (it computes, or does not unwind within the grace) the
 * worker is terminated (the only way to stop a busy thread) and the job rejects with
 * FO_SANDBOX_TIMEOUT; when the worker dies on its own, with FO_SANDBOX_WORKER_FAILED.
 * See pool-recovery.ts for what happens to the worker's plugins.
 */
import { ForgeError } from '@forgeone/common';
import { unloaded } from './handle-state.js';
import { CANCEL_GRACE_MS, cancelInPlace } from './pool-cancel.js';
import { answerHostRequest, deliverTelemetry, readHostRequest, replyToHostRequest, type HostAnswer } from './pool-host-service.js';
import { dispatchJob, settleJob, type SettleEnv } from './pool-dispatch.js';
import { PluginTable, type Job, type LanePlugin } from './pool-job.js';
import { ISOLATION_NICE, OP, STATE, WORD } from './pool-protocol.js';
import { auditStoppedWorker } from './pool-stopped-audit.js';
import { FairQueue } from './pool-queue.js';
import { recoverLane, timedOut, workerLost, type RecoveringLane } from './pool-recovery.js';
import { FoldProgressBook } from './pool-fold-progress.js';
import type { LaneEnv } from './pool-lane-env.js';
import { WorkerHandle, type PreparedWorker } from './pool-worker-handle.js';

export type { LaneEnv } from './pool-lane-env.js';

/** Time a pump may spend answering queued quick jobs synchronously before yielding, in ms. */
const PUMP_BUDGET_MS = 1;

/** One worker and everything the host keeps about it. See the module comment. */
export class Lane {
  readonly id: number;
  /** True for the worker kept apart for hot plugins. */
  readonly isolation: boolean;
  readonly #env: LaneEnv;
  readonly #plugins = new PluginTable();
  readonly #queue = new FairQueue<LanePlugin, Job>();
  /** The job the worker runs, then the nested jobs the host started while serving it. */
  readonly #active: Job[] = [];
  readonly #stopping = new Set<Promise<unknown>>();
  readonly #recovery: RecoveringLane;
  readonly #settleEnv: SettleEnv;
  /** The running counts of the worker's folding calls, for the summaries of calls it is killed in. */
  readonly #folds = new FoldProgressBook();
  #running: WorkerHandle | undefined;
  #generation = 0;
  #serving = 0;
  #driving = 0;
  #bootFailures = 0;
  #completedSinceSpawn = 0;
  #restarts = 0;
  #closed = false;
  #broken: ForgeError | undefined;

  constructor(id: number, isolation: boolean, env: LaneEnv) {
    this.id = id;
    this.isolation = isolation;
    this.#env = env;
    this.#recovery = this.#recoveryPort();
    this.#settleEnv = { busyCallUs: env.busyCallUs, fastWaitUs: env.fastWaitMs * 1000, heat: (plugin, amount) => env.heat(plugin, amount), forget: (plugin) => this.forget(plugin) };
    this.#spawn();
  }

  /** Plugins placed here. */
  get plugins(): readonly LanePlugin[] {
    return this.#plugins.all();
  }

  /** Times the worker was replaced. */
  get restarts(): number {
    return this.#restarts;
  }

  /** A new index for a plugin placed here. */
  place(plugin: (index: number) => LanePlugin): LanePlugin {
    return this.#plugins.place(plugin);
  }

  /** Forgets a plugin that never loaded or was unloaded. */
  forget(plugin: LanePlugin): void {
    this.#plugins.forget(plugin);
  }

  /** Tells the worker that BackendHost.audit fails (`true`), or takes records again (`false`). */
  setAuditBroken(broken: boolean): void {
    this.#running?.setAuditBroken(broken);
  }

  /** Queues a job (urgent when it belongs to no plugin) and starts it when the worker is free. */
  submit(job: Job): void {
    if (this.#closed || this.#broken !== undefined) {
      job.reject(this.#broken ?? unloaded(job.plugin?.id ?? 'pool', job.what));
      return;
    }
    if (job.plugin === undefined) this.#queue.pushUrgent(job);
    else this.#queue.push(job.plugin, job);
    this.#pump();
    this.#reference();
  }

  /** Keeps the event loop alive while jobs are pending, and lets an idle pool go. */
  #reference(): void {
    this.#running?.reference(this.#active.length > 0 || this.#queue.size > 0);
  }

  /** Removes and rejects the queued jobs of `plugin` (it is being unloaded). */
  dropQueued(plugin: LanePlugin, error: (job: Job) => ForgeError): void {
    for (const job of this.#queue.take((queued) => queued.plugin === plugin)) job.reject(error(job));
  }

  /**
   * Runs `job` now and blocks the host thread until it finishes: the worker's current
   * job is finished first (serving its host requests), or, when the worker is waiting
   * for this thread to answer one of its host requests, the job runs nested inside it.
   * @returns the job's outcome
   * @throws ForgeError the job's error, FO_SANDBOX_TIMEOUT
   */
  runSync<T>(job: Job): T {
    if (this.#closed || this.#broken !== undefined) throw this.#broken ?? unloaded(job.plugin?.id ?? 'pool', job.what);
    this.#driving += 1;
    try {
      const generation = this.#generation;
      if (this.#serving === 0) {
        const current = this.#active[0];
        if (current !== undefined) this.#drive(current, current.startedAt + current.timeoutMs, true);
      }
      if (generation !== this.#generation || job.plugin?.loaded === false) {
        // The worker was replaced while the current job finished (or the plugin is not
        // on this worker yet); the new instance has not been re-created.
        job.reject(
          new ForgeError('FO_SANDBOX_RESTARTED', `the ${job.what} did not run: plugin ${job.plugin?.id ?? ''} is being (re-)created on pool worker ${this.id}`, {
            details: { worker: this.id },
          }),
        );
      }
      const running = this.#running;
      if (!job.done && running !== undefined && !running.ready && !running.awaitReady(performance.now() + job.timeoutMs)) {
        job.reject(new ForgeError('FO_SANDBOX_WORKER_FAILED', `the ${job.what} did not run: pool worker ${this.id} did not start within ${job.timeoutMs} ms`, { details: { worker: this.id } }));
      }
      if (!job.done) {
        this.#start(job, true);
        this.#drive(job, job.startedAt + job.timeoutMs, true);
      }
    } finally {
      this.#driving -= 1;
    }
    if (this.#driving === 0) {
      queueMicrotask(() => {
        this.#pump();
        this.#reference();
      });
    }
    return job.outcome<T>();
  }

  /** Stops the worker; every pending job rejects with FO_SANDBOX_UNLOADED. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#generation += 1;
      if (this.#active.length > 0) this.#auditStopped(unloaded(this.#active[0]?.plugin?.id ?? 'pool', 'call'), 'closed');
      for (const job of [...this.#active.splice(0), ...this.#queue.take(() => true)]) {
        clearTimeout(job.timer);
        job.reject(unloaded(job.plugin?.id ?? 'pool', job.what));
      }
      this.#stop();
    }
    await Promise.all([...this.#stopping]);
  }

  // --- the worker -----------------------------------------------------------------

  #spawn(): void {
    const env = this.#env;
    const generation = this.#generation;
    this.#completedSinceSpawn = 0;
    this.#running = new WorkerHandle(
      {
        url: env.workerUrl,
        name: `forge-pool-${this.id}`,
        slotBytes: env.slotBytes,
        spinUs: env.workerSpinUs,
        ...(env.threadPriority?.(this.isolation) ?? (this.isolation ? { nice: ISOLATION_NICE } : {})),
        resourceLimits: env.resourceLimits,
        auditBroken: env.auditBroken,
        ...(env.prepare === undefined ? {} : { prepare: () => (env.prepare as (id: number) => Promise<PreparedWorker>)(this.id) }),
      },
      {
        died: (why) => this.#died(generation, why),
        ready: () => this.#pump(),
        telemetry: (items) => deliverTelemetry(env, items, this.#folds),
      },
    );
  }

  #stop(): void {
    const running = this.#running;
    if (running === undefined) return;
    this.#running = undefined;
    const stopping = running.stop();
    this.#stopping.add(stopping);
    void stopping.then(() => this.#stopping.delete(stopping));
  }

  #died(generation: number, why: unknown): void {
    if (generation !== this.#generation || this.#closed) return;
    this.#fail(workerLost(this.id, this.#active[0], why));
  }

  // --- running jobs ---------------------------------------------------------------

  #pump(): void {
    const started = performance.now();
    while (this.#active.length === 0 && this.#driving === 0 && !this.#closed && this.#running?.ready === true) {
      const job = this.#queue.shift();
      if (job === undefined) return;
      if (job.plugin?.gone === true && job.op !== OP.UNLOAD) {
        job.reject(unloaded(job.plugin.id, job.what));
        continue;
      }
      const fast = job.quick && (job.plugin?.meanUs ?? 0) * 1e-3 < this.#env.fastWaitMs && performance.now() - started < PUMP_BUDGET_MS;
      this.#start(job, fast);
      if (fast) {
        this.#driving += 1;
        try {
          this.#drive(job, Math.min(performance.now() + this.#env.fastWaitMs, job.startedAt + job.timeoutMs), false);
        } finally {
          this.#driving -= 1;
        }
        if (job.done) continue;
      }
      if (this.#active.includes(job)) {
        job.timer = setTimeout(() => this.#timedOut(job), Math.max(0, job.startedAt + job.timeoutMs - performance.now()));
        this.#waitAsync();
      }
      return;
    }
  }

  /** Writes `job` into the slot and wakes the worker (pool-dispatch.ts); `waits`: this thread waits for it synchronously. */
  #start(job: Job, waits: boolean): void {
    const running = this.#running;
    if (running === undefined) throw this.#broken ?? unloaded(job.plugin?.id ?? 'pool', job.what);
    if (this.#active.length === 0) running.cancel?.arm(performance.now(), job.timeoutMs); // a nested job is never cancelled in place
    if (job.plugin !== undefined) this.#folds.forget(job.plugin.id); // what an earlier call of it reported
    dispatchJob(running, job, waits);
    this.#active.push(job);
  }

  /**
   * Waits synchronously until `job` finishes or `deadline` (performance.now() ms)
   * passes, serving host requests meanwhile: spinning for the first `fastWaitMs` (a
   * sleeping thread takes 10-20 us to wake on a virtual machine, longer than a small
   * call), then sleeping in Atomics.wait. At the deadline, `strict` times the job out;
   * otherwise the caller goes on waiting asynchronously.
   */
  #drive(job: Job, until: number, strict: boolean): void {
    let deadline = until;
    const spinUntil = Math.min(deadline, performance.now() + this.#env.fastWaitMs);
    while (!job.done) {
      const running = this.#running;
      if (running === undefined) return;
      // A strict wait blocks on a direct call in flight until the deadline (pool-worker-handle.ts), not handing it to the worker at the spin's end.
      const state = running.spinForHost(spinUntil, !strict, strict ? deadline : undefined);
      if (state === STATE.HOST_REQUEST) this.#serve(running);
      else if (state === STATE.DONE) this.#complete(running);
      else if (state === STATE.DEAD) this.#died(this.#generation, running.cause() ?? 'the worker exited');
      else {
        const left = deadline - performance.now();
        if (left <= 0) {
          if (!strict) return;
          const cancelling = job.cancelUntil === undefined;
          this.#timedOut(job);
          if (!cancelling || job.cancelUntil === undefined || job.done) return;
          deadline = job.cancelUntil; // cancelled in place: wait out the grace for its answer
        }
        Atomics.wait(running.slot.header, WORD.STATE, state, left);
      }
    }
  }

  /** Waits for the worker without blocking the event loop. */
  #waitAsync(): void {
    if (this.#active.length > 0) this.#running?.whenChanged(() => this.#progress());
  }

  /** Acts on the worker's state after an asynchronous wake. */
  #progress(): void {
    const running = this.#running;
    if (running === undefined || this.#driving > 0) return;
    const state = running.slot.state;
    if (state === STATE.HOST_REQUEST) {
      this.#serve(running);
      this.#waitAsync();
    } else if (state === STATE.DONE) {
      this.#complete(running);
      this.#pump();
      this.#reference();
    } else if (state === STATE.DEAD) {
      this.#died(this.#generation, running.cause() ?? 'the worker exited');
    } else {
      this.#waitAsync();
    }
  }

  /** Answers the worker's host request (pool-host-service.ts). */
  #serve(running: WorkerHandle): void {
    const request = readHostRequest(running, (index) => this.#plugins.get(index));
    const generation = this.#generation;
    this.#serving += 1;
    let answer: HostAnswer;
    try {
      answer = answerHostRequest(this.#env, request);
    } finally {
      this.#serving -= 1;
    }
    // The worker may have been replaced while the host call ran (a nested job timed out).
    if (generation === this.#generation && this.#running === running) replyToHostRequest(running, answer);
  }

  /** Settles the innermost active job from the worker's answer (pool-dispatch.ts). */
  #complete(running: WorkerHandle): void {
    const job = this.#active.pop();
    settleJob(running, job, this.#settleEnv);
    if (job === undefined) return;
    this.#completedSinceSpawn += 1;
    this.#bootFailures = 0;
  }

  #timedOut(job: Job): void {
    if (job.done || !this.#active.includes(job)) return;
    // A libuv timer may fire up to a millisecond early (its clock is the loop's, cached).
    const early = job.startedAt + job.timeoutMs - performance.now();
    if (early > 0 && job.cancelUntil === undefined) return void (job.timer = setTimeout(() => this.#timedOut(job), early));
    const running = this.#running;
    if (job.cancelUntil === undefined && running !== undefined && this.#active.length === 1 && this.#serving === 0 && cancelInPlace(running, job, (index) => this.#plugins.get(index))) {
      clearTimeout(job.timer);
      job.timer = setTimeout(() => this.#timedOut(job), CANCEL_GRACE_MS);
      return;
    }
    this.#fail(timedOut(this.id, job));
  }

  /**
   * The worker is lost: write what it did and held (pool-stopped-audit.ts), stop it, then
   * let pool-recovery.ts settle its jobs and re-create its plugins.
   */
  #fail(error: ForgeError): void {
    if (this.#closed) return;
    this.#generation += 1;
    this.#auditStopped(error, 'killed');
    this.#stop();
    recoverLane(this.#recovery, error);
    this.#pump();
    this.#reference();
  }

  /** The worker is to be stopped with jobs running: what it did and held reaches the log (pool-stopped-audit.ts). */
  #auditStopped(cause: ForgeError, ended: 'killed' | 'closed'): void {
    auditStoppedWorker(this.#env, this.#running, this.#plugins, this.#folds, this.#active, { cause, ended, at: performance.now() });
  }

  #recoveryPort(): RecoveringLane {
    return {
      id: this.id,
      takeActive: () => this.#active.splice(0),
      takeQueued: () => this.#queue.take(() => true),
      plugins: () => this.plugins,
      forget: (plugin) => this.forget(plugin),
      heat: (plugin, amount) => this.#env.heat(plugin, amount),
      countBootFailure: () => {
        if (this.#completedSinceSpawn === 0) this.#bootFailures += 1;
        return this.#bootFailures;
      },
      giveUp: (error) => void (this.#broken = error),
      respawn: () => {
        this.#restarts += 1;
        this.#spawn();
      },
      requeue: (job, urgent) => {
        if (urgent) this.#queue.pushUrgent(job);
        else if (job.plugin !== undefined) this.#queue.push(job.plugin, job);
      },
    };
  }
}
