/**
 * Cancelling a pool job that waits, without terminating its worker.
 *
 * A job blocked in a wait the worker controls (WASI poll_oneoff's sleep, or waiting for
 * the host thread to answer one of its host calls) can be stopped where it waits: the
 * wait ends with FO_SANDBOX_TIMEOUT thrown through the guest, the job's instance is
 * poisoned, and the worker's other plugins keep their instances and their state. A job
 * that computes (no host call) cannot be reached this way: fuel traps it, or the lane
 * terminates the worker as before.
 *
 * Host and worker share a small buffer of their own (not the slot):
 *
 * ```
 * word CANCEL      host: 1 to cancel the job running now (notified); reset by each job
 * word WAITING     worker: 1 while the outermost job is blocked in a cancellable wait, or
 *                  unwinding from a cancel (then until the host arms the next job)
 * word TIMEOUT_MS  host: the job's limit, in ms (for the error's message)
 * big  DEADLINE    host: when the outermost job times out, process.hrtime.bigint() ns; 0 none
 * ```
 *
 * The worker also checks DEADLINE itself while it sleeps, so a sleeping job ends at its
 * deadline even when the host thread's event loop is late to fire its timer.
 *
 * SECURITY: the host sets CANCEL before it reads WAITING and the worker sets WAITING
 * before it reads CANCEL (sequentially consistent Atomics), so either the host sees a
 * waiting worker (and gives it {@link CANCEL_GRACE_MS} to answer) or the worker sees the
 * cancel before it sleeps; a worker that does not answer in time (a guest that caught
 * the exception and spins) is terminated as before. The guest's fuel is taken on cancel,
 * so a metered guest traps at its next function entry or loop; and a cancelled job
 * answers FO_SANDBOX_TIMEOUT whatever the guest returns.
 */
import { ForgeError } from '@forgeone/common';
import type { Job, LanePlugin } from './pool-job.js';
import { STATE, STATUS, errorBytes } from './pool-protocol.js';
import { readHostRequest, replyToHostRequest } from './pool-host-service.js';
import type { WorkerHandle } from './pool-worker-handle.js';

/**
 * How long a cancelled job may take to unwind before its worker is terminated, in ms.
 * A metered guest unwinds in microseconds; the margin is for a loaded machine that does
 * not schedule the worker thread at once (running out of it costs the neighbours their
 * state). Only an unmetered guest that catches the exception can use it all.
 */
export const CANCEL_GRACE_MS = 200;

const WORD = Object.freeze({ CANCEL: 0, WAITING: 1, TIMEOUT_MS: 2 });
const BIG_DEADLINE = 2;
const BYTES = 24;

/** The cancel buffer, seen from either side. See the module comment. */
export class CancelControl {
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #big: BigInt64Array;

  /** @param buffer a buffer from {@link CancelControl.allocate}, or none for a new one */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(BYTES)) {
    if (buffer.byteLength < BYTES) throw new ForgeError('FO_INTERNAL_UNEXPECTED', `a cancel buffer holds ${BYTES} bytes, found ${buffer.byteLength}`);
    this.buffer = buffer;
    this.#words = new Int32Array(buffer, 0, 4);
    this.#big = new BigInt64Array(buffer, 0, BYTES / 8);
  }

  // --- host side --------------------------------------------------------------------

  /**
   * Arms the next job (before it is signalled): its deadline, `timeoutMs` after
   * `startedAt` (performance.now() ms), and no cancel.
   */
  arm(startedAt: number, timeoutMs: number): void {
    const left = startedAt + timeoutMs - performance.now();
    const deadline = Number.isFinite(left) ? process.hrtime.bigint() + BigInt(Math.max(1, Math.ceil(left * 1e6))) : 0n;
    Atomics.store(this.#words, WORD.TIMEOUT_MS, Math.min(2 ** 31 - 1, Math.max(0, Math.round(timeoutMs))));
    Atomics.store(this.#big, BIG_DEADLINE, deadline);
    // The worker leaves WAITING set when a cancelled job ends (it must not look busy
    // between its unwinding and its DONE); the next job starts clear.
    Atomics.store(this.#words, WORD.WAITING, 0);
    Atomics.store(this.#words, WORD.CANCEL, 0);
  }

  /**
   * Cancels the job running now and wakes it if it sleeps.
   * @returns true when the worker was in a cancellable wait (it will answer soon)
   */
  cancel(): boolean {
    Atomics.store(this.#words, WORD.CANCEL, 1);
    Atomics.notify(this.#words, WORD.CANCEL);
    return Atomics.load(this.#words, WORD.WAITING) === 1;
  }

  // --- worker side --------------------------------------------------------------------

  /** True once the host cancelled the running job. */
  get cancelled(): boolean {
    return Atomics.load(this.#words, WORD.CANCEL) !== 0;
  }

  /** The running job's deadline (process.hrtime.bigint() ns), 0n when none. */
  get deadline(): bigint {
    return Atomics.load(this.#big, BIG_DEADLINE);
  }

  /** Marks the start and the end of a cancellable wait. */
  waiting(on: boolean): void {
    Atomics.store(this.#words, WORD.WAITING, on ? 1 : 0);
  }

  /**
   * Sleeps until `until` (process.hrtime.bigint() ns), or until the job is cancelled or
   * its deadline passes. The caller has called {@link waiting}(true).
   * @returns true when it slept until `until`; false when cancelled or past the deadline
   */
  sleepUntil(until: bigint): boolean {
    const deadline = this.deadline;
    for (;;) {
      if (this.cancelled) return false;
      const now = process.hrtime.bigint();
      if (now >= until) return true;
      if (deadline !== 0n && now >= deadline) return false;
      const end = deadline !== 0n && deadline < until ? deadline : until;
      // Returns at once when CANCEL is no longer 0 (no wake-up is lost).
      Atomics.wait(this.#words, WORD.CANCEL, 0, Number(end - now) / 1e6);
    }
  }

  /** The error a cancelled job ends with (FO_SANDBOX_TIMEOUT), naming where it waited. */
  timeout(plugin: string, where: string): ForgeError {
    const timeoutMs = Atomics.load(this.#words, WORD.TIMEOUT_MS);
    return new ForgeError('FO_SANDBOX_TIMEOUT', `the call ran past its ${timeoutMs} ms limit and was stopped while it waited (${where}); its instance was poisoned, the worker and its other plugins were left running`, {
      details: { plugin, timeoutMs, where, cancelled: true },
    });
  }
}

/**
 * The lane's half: tries to stop `job` (running alone on `worker`, past its limit) where
 * it waits. A host request it made and the host has not served yet is refused with
 * FO_SANDBOX_TIMEOUT (and never served); a sleep is woken. On success the job has
 * {@link CANCEL_GRACE_MS} to answer (`job.cancelUntil`), else the lane terminates the
 * worker as it would have anyway.
 * @returns true when the worker was waiting and will answer; false: terminate it now
 */
export function cancelInPlace(worker: WorkerHandle, job: Job, pluginAt: (index: number) => LanePlugin | undefined): boolean {
  const control = worker.cancel;
  if (control === undefined) return false;
  let answering = control.cancel();
  const state = worker.slot.state;
  if (state === STATE.HOST_REQUEST) {
    // SECURITY: what the cancelled call asked for is read (its payload must not stay
    // queued) but not done; the worker sees CANCEL when the refusal wakes it.
    readHostRequest(worker, pluginAt);
    const refusal = new ForgeError('FO_SANDBOX_TIMEOUT', `the ${job.what} ran past its ${job.timeoutMs} ms limit while it waited for a host call; the host call was not made`, {
      details: { plugin: job.plugin?.id, timeoutMs: job.timeoutMs, cancelled: true },
    });
    replyToHostRequest(worker, { status: STATUS.ERROR, answer: errorBytes(refusal), charge: 0n });
    answering = true;
  }
  // A worker that already answered is as good as one that will.
  if (state === STATE.DONE) answering = true;
  if (answering) job.cancelUntil = performance.now() + CANCEL_GRACE_MS;
  return answering;
}
