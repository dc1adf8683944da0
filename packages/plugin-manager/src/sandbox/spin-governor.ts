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

/** Spins ending without their answer, one after the other (no answered spin between), each within MISS_WINDOW_MS of the last, that turn spinning off too. */
export const MISSES_TO_TRIP = 3;
/** See {@link MISSES_TO_TRIP}, in ms. */
export const MISS_WINDOW_MS = 10;

let offUntil = 0;
let preemptions = 0;
let lastMiss = Number.NEGATIVE_INFINITY;
let misses = 0;

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
 * for did not get a CPU in time (or was busy: a garbage collection, a slow call).
 * {@link MISSES_TO_TRIP} in a row, close together, turn spinning off for a while: under
 * contention nearly every spin misses, and each one took a CPU from the thread that was to
 * answer; on a quiet machine a miss is followed by answered spins (measured: a lone
 * garbage collection in the worker, two misses within 10 ms, tripped it a few times a
 * second there).
 */
export function spinMissed(now: number): void {
  misses = now - lastMiss <= MISS_WINDOW_MS ? misses + 1 : 1;
  lastMiss = now;
  if (misses < MISSES_TO_TRIP) return;
  offUntil = now + SPIN_BACKOFF_MS;
  preemptions += 1;
  misses = 0;
}

/** Called when a spin got its answer: the misses before it were not in a row. */
function spinAnswered(): void {
  misses = 0;
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
      if (spinPreempted(last, now)) return state;
      if (now >= until) {
        if (missCounts) spinMissed(now);
        return state;
      }
      last = now;
    }
    state = Atomics.load(words, index);
  }
  if (missCounts) spinAnswered();
  return state;
}
