/**
 * Spinning for an answer beats sleeping only while the spinning thread and the one it
 * waits for both have a CPU. When the CPUs are contended (other processes, more busy
 * threads than cores) a spinning thread takes the time slice its partner needs, and is
 * itself preempted for a whole slice (milliseconds) mid-spin; a sleeping thread, once
 * woken, is run at once by the kernel's wake-up preemption. Measured on two cores with a
 * CPU-bound process per core: spinning p50 73 us, p99 2.9 ms; parking p50 20 us, p99
 * 0.77 ms (scratch run beside other load, docs/pool.md "Waiting under contention").
 *
 * A spin reads the clock every 64 rounds; a gap far longer than 64 rounds take means the
 * thread did not run in between: the CPU is contended. Spinning then stops for
 * {@link SPIN_BACKOFF_MS} (that spin ends at once and the thread parks), and is tried
 * again afterwards. One governor per thread (module state): the host thread's lanes
 * share one, each worker thread has its own.
 */

/** A gap between two clock reads of a spin longer than this (ms) means the thread was descheduled. */
export const PREEMPTED_GAP_MS = 0.2;
/** How long spinning stays off once a spin was preempted, in ms. */
export const SPIN_BACKOFF_MS = 50;

/** Two spins ending without their answer within this many ms turn spinning off too. */
export const MISS_WINDOW_MS = 10;

let offUntil = 0;
let preemptions = 0;
let lastMiss = Number.NEGATIVE_INFINITY;

/** True when a spin may start at `now` (performance.now() ms). */
export function spinAllowed(now: number): boolean {
  return now >= offUntil;
}

/**
 * Called at each clock read of a spin with the previous read: when the gap says the
 * thread was descheduled, spinning is turned off for a while.
 * @returns true when the spin should stop now
 */
export function spinPreempted(previous: number, now: number): boolean {
  if (now - previous <= PREEMPTED_GAP_MS) return false;
  offUntil = now + SPIN_BACKOFF_MS;
  preemptions += 1;
  return true;
}

/**
 * Called when a spin for a quick call's answer ran out without it: the thread it waits
 * for did not get a CPU in time (or the call was slow). Two such within
 * {@link MISS_WINDOW_MS} turn spinning off for a while: under contention every spin
 * misses, and each one took a CPU from the thread that was to answer.
 */
export function spinMissed(now: number): void {
  if (now - lastMiss <= MISS_WINDOW_MS) {
    offUntil = now + SPIN_BACKOFF_MS;
    preemptions += 1;
  }
  lastMiss = now;
}

/** Spins this thread found preempted so far (tests, benchmarks). */
export function spinPreemptions(): number {
  return preemptions;
}

/**
 * Reads `words[index]` until it is `a`, `b` or `c`, `until` (performance.now() ms) passes,
 * or the spin shows the CPU is contended (above); not at all while spinning is off.
 * `missCounts`: running out of time counts as a miss ({@link spinMissed}).
 * @returns the last value read
 */
export function spinOn(words: Int32Array, index: number, a: number, b: number, c: number, until: number, missCounts: boolean): number {
  let state = Atomics.load(words, index);
  if (state === a || state === b || state === c) return state;
  let last = performance.now();
  if (!spinAllowed(last)) return state;
  for (let round = 1; state !== a && state !== b && state !== c; round += 1) {
    if ((round & 63) === 0) {
      const now = performance.now();
      if (spinPreempted(last, now)) break;
      if (now >= until) {
        if (missCounts) spinMissed(now);
        break;
      }
      last = now;
    }
    state = Atomics.load(words, index);
  }
  return state;
}
