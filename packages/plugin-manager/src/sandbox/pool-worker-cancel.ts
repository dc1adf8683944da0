/**
 * The worker's side of cancelling a job that waits (pool-cancel.ts): which job may be
 * cancelled (only the outermost: a nested job runs for another plugin's host call, and
 * the lane cancels only a job that runs alone), the sleep WASI poll_oneoff uses, the
 * I/O bridge forge.http_request waits on (its wait is cut at the job's deadline: the
 * bridge replaces its own I/O thread, never this worker), the check around a host
 * request, and the error the job ends with.
 */
import { ForgeError } from '@forgeone/common';
import type { SyncBridge } from '../syscall/index.js';
import { CancelControl } from './pool-cancel.js';
import type { HostedPlugin } from './hosted-plugin.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** An uninterruptible sleep until `until` (process.hrtime.bigint() ns): a nested job's, or a worker's without a cancel buffer. */
function sleepPlain(until: bigint): void {
  for (let left = until - process.hrtime.bigint(); left > 0n; left = until - process.hrtime.bigint()) Atomics.wait(sleeper, 0, 0, Number(left) / 1e6);
}

/** Cancellation as one pool worker sees it. Not thread-safe (a worker runs one job at a time). */
export class WorkerCancel {
  readonly #control: CancelControl | undefined;
  #depth = 0;
  #current: HostedPlugin | undefined;
  #error: ForgeError | undefined;

  /** @param buffer the lane's cancel buffer; none: nothing is cancelled here (the lane terminates the worker) */
  constructor(buffer: SharedArrayBuffer | undefined) {
    this.#control = buffer === undefined ? undefined : new CancelControl(buffer);
  }

  /** A job starts (nested inside a host request when one is already running). */
  enter(): void {
    this.#depth += 1;
    if (this.#depth === 1) {
      this.#current = undefined;
      this.#error = undefined;
    }
  }

  /** The job runs `plugin`'s code. */
  running(plugin: HostedPlugin): void {
    if (this.#depth === 1) this.#current = plugin;
  }

  /**
   * Why the job was cancelled (FO_SANDBOX_TIMEOUT), or undefined. A cancelled job ends
   * with this error whatever its guest did after the wait was broken.
   */
  get fired(): ForgeError | undefined {
    return this.#depth === 1 ? this.#error : undefined;
  }

  /**
   * The job ends (before its DONE is signalled). WAITING is left as it is: a cancelled
   * job that has unwound must not look busy to a host timer firing before the DONE
   * (the host would terminate the worker); the host clears it for the next job.
   */
  leave(): void {
    if (this.#depth === 1) {
      this.#current = undefined;
      this.#error = undefined;
    }
    this.#depth -= 1;
  }

  /**
   * WASI poll_oneoff's sleep: until `until` (process.hrtime.bigint() ns), or until the job
   * is cancelled or reaches its deadline.
   * @throws ForgeError FO_SANDBOX_TIMEOUT when it was cancelled or reached its deadline
   */
  readonly sleep = (until: bigint): void => {
    const control = this.#control;
    if (control === undefined || this.#depth !== 1 || this.#current === undefined) return sleepPlain(until);
    if (this.#error !== undefined) throw this.#error;
    control.waiting(true);
    if (control.sleepUntil(until)) {
      control.waiting(false);
      return;
    }
    // WAITING stays set until the job ends: the host leaves the worker the grace to unwind.
    throw this.#fire(control, 'poll_oneoff');
  };

  /**
   * Before a host request: a cancelled job asks nothing more of the host.
   * @throws ForgeError FO_SANDBOX_TIMEOUT when the job was cancelled (its guest caught the unwinding exception)
   */
  beforeAsk(): void {
    if (this.fired !== undefined) throw this.fired;
  }

  /**
   * The thread's I/O bridge as a cancellable job sees it: a wait never outlasts the
   * job's deadline, and one cut there ends the job with FO_SANDBOX_TIMEOUT.
   */
  bridge(inner: Pick<SyncBridge, 'call'>): Pick<SyncBridge, 'call'> {
    return {
      call: <T>(kind: string, payload: unknown, timeoutMs: number): T => {
        const control = this.#control;
        if (control === undefined || this.#depth !== 1 || this.#current === undefined) return inner.call<T>(kind, payload, timeoutMs);
        if (this.#error !== undefined) throw this.#error;
        const deadline = control.deadline;
        const left = deadline === 0n ? Number.POSITIVE_INFINITY : Number(deadline - process.hrtime.bigint()) / 1e6;
        if (left <= 0 || control.cancelled) throw this.#fire(control, kind);
        const cut = left < timeoutMs;
        control.waiting(true);
        try {
          const value = inner.call<T>(kind, payload, cut ? left : timeoutMs);
          control.waiting(false);
          return value;
        } catch (error) {
          if ((cut && ForgeError.is(error, 'FO_SYSCALL_BRIDGE_TIMEOUT')) || control.cancelled) throw this.#fire(control, kind);
          control.waiting(false);
          throw error;
        }
      },
    };
  }

  /** Marks the wait for a host reply as cancellable (on) or not (off: a nested job runs meanwhile, or the reply came). */
  asking(on: boolean): void {
    if (this.#depth === 1 && this.#current !== undefined) this.#control?.waiting(on);
  }

  /**
   * After a host reply: when the host cancelled the job meanwhile (its reply is then a
   * refusal), the job ends.
   * @throws ForgeError FO_SANDBOX_TIMEOUT when the job was cancelled
   */
  afterReply(): void {
    const control = this.#control;
    if (control === undefined || this.#depth !== 1 || this.#current === undefined || !control.cancelled) return;
    control.waiting(true);
    throw this.#fire(control, 'a host call');
  }

  #fire(control: CancelControl, where: string): ForgeError {
    const current = this.#current;
    this.#error ??= control.timeout(current?.spec.id ?? '', where);
    // SECURITY: a guest that catches the exception traps at its next fuel check.
    current?.drainFuel();
    return this.#error;
  }
}
