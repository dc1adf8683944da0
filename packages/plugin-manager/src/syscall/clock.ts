/**
 * The clocks host calls read: forge.time_now answers from them, and rate limits and
 * HTTP deadlines measure with the monotonic one. Injected, so tests control time
 * instead of waiting for it.
 */

/** A source of time. */
export interface HostClock {
  /** Wall-clock time: nanoseconds since the Unix epoch (may jump when the system clock is set). */
  wallNs(): bigint;
  /** Monotonic time: nanoseconds since an arbitrary origin; never goes backwards. */
  monotonicNs(): bigint;
}

/**
 * The system clocks. Wall time has the resolution of `Date.now()` (1 ms), which also
 * keeps plugins from using the wall clock as a fine timer; monotonic time is
 * `process.hrtime.bigint()` (nanoseconds).
 */
export const SYSTEM_CLOCK: HostClock = Object.freeze({
  wallNs: () => BigInt(Date.now()) * 1_000_000n,
  monotonicNs: () => process.hrtime.bigint(),
});

/** Monotonic milliseconds of `clock`, as a number (exact for about 285 years of uptime). */
export function monotonicMs(clock: HostClock): number {
  return Number(clock.monotonicNs() / 1_000_000n);
}
