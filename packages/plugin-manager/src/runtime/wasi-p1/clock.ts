/**
 * The clocks a guest can read. Realtime and monotonic are supported, both with
 * nanosecond ticks from the host's monotonic timer (realtime is anchored to the wall
 * clock once, when the context is made, so it never jumps while a guest runs). The
 * CPU-time clocks answer EINVAL, which preview1 allows for unsupported clocks: the
 * host process's CPU time includes every other plugin in it, so reporting it would
 * leak their activity.
 */
import { ERRNO, CLOCKID } from './abi.js';
import { fail } from './errno.js';

/** Reads the supported clocks. */
export class WasiClock {
  readonly #realtimeOffset: bigint;
  readonly #sleep: (deadline: bigint) => void;

  /** @param sleep what {@link sleepUntil} blocks with (default: the module's {@link sleepUntil}) */
  constructor(sleep: (deadline: bigint) => void = sleepUntil) {
    this.#sleep = sleep;
    this.#realtimeOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  }

  /** Nanoseconds of clock `id`. @throws WasiErrno EINVAL for unsupported clocks */
  now(id: number): bigint {
    if (id === CLOCKID.MONOTONIC) return process.hrtime.bigint();
    if (id === CLOCKID.REALTIME) return this.#realtimeOffset + process.hrtime.bigint();
    fail(ERRNO.EINVAL);
  }

  /**
   * Blocks until the monotonic clock reaches `deadline` (nanoseconds).
   * @throws what the context's sleep throws (a pool worker's FO_SANDBOX_TIMEOUT)
   */
  sleepUntil(deadline: bigint): void {
    this.#sleep(deadline);
  }

  /** The tick of clock `id` in nanoseconds. @throws WasiErrno EINVAL for unsupported clocks */
  resolution(id: number): bigint {
    if (id === CLOCKID.MONOTONIC) return 1n;
    // The wall-clock anchor is only millisecond-accurate; the tick is still 1 us or better.
    if (id === CLOCKID.REALTIME) return 1_000n;
    fail(ERRNO.EINVAL);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread until the monotonic clock reaches `deadline` (nanoseconds). */
export function sleepUntil(deadline: bigint): void {
  for (;;) {
    const left = deadline - process.hrtime.bigint();
    if (left <= 0n) return;
    Atomics.wait(sleeper, 0, 0, Number(left) / 1e6);
  }
}
