/**
 * poll_oneoff in the core. Descriptor subscriptions never wait: regular files are
 * always ready (as preview1 says), stdout and stderr always take output, and stdin is
 * reported ready at once. For in-memory stdin the event carries the bytes left (and
 * HANGUP at its end); for a host stdin (`forge wasi run`) the count is unknown (0) and
 * the read that follows may block, since Node offers no poll(2) on a descriptor.
 * Only when no descriptor is ready does the call sleep, until the earliest clock
 * subscription is due.
 */
import { fstatSync } from 'node:fs';
import { CLOCKID, ERRNO, EVENTRWFLAGS_HANGUP, EVENTTYPE, RIGHTS } from './abi.js';
import type { WasiClock } from './clock.js';
import { WasiErrno } from './errno.js';
import type { FdTable } from './fd-table.js';

/** One subscription, decoded. */
export type Subscription =
  | { readonly type: typeof EVENTTYPE.CLOCK; readonly userdata: bigint; readonly clockId: number; readonly timeout: bigint; readonly absolute: boolean }
  | { readonly type: typeof EVENTTYPE.FD_READ | typeof EVENTTYPE.FD_WRITE; readonly userdata: bigint; readonly fd: number };

/** One event to report. */
export interface PollEvent {
  readonly userdata: bigint;
  readonly error: number;
  readonly type: number;
  readonly nbytes: bigint;
  readonly flags: number;
}

function fdEvent(table: FdTable, subscription: Extract<Subscription, { fd: number }>): PollEvent {
  const { userdata, type, fd } = subscription;
  const result = (error: number, nbytes = 0n, flags = 0): PollEvent => ({ userdata, error, type, nbytes, flags });
  if (!table.has(fd)) return result(ERRNO.EBADF);
  const entry = table.get(fd);
  const needed = RIGHTS.POLL_FD_READWRITE | (type === EVENTTYPE.FD_READ ? RIGHTS.FD_READ : RIGHTS.FD_WRITE);
  if ((entry.rightsBase & needed) !== needed) return result(ERRNO.ENOTCAPABLE);
  if (type === EVENTTYPE.FD_WRITE) return result(ERRNO.SUCCESS);
  if (entry.input !== undefined) {
    const left = entry.input.available?.();
    return left === undefined ? result(ERRNO.SUCCESS) : result(ERRNO.SUCCESS, BigInt(left), left === 0 ? EVENTRWFLAGS_HANGUP : 0);
  }
  try {
    const size = fstatSync(entry.hostFd).size;
    return result(ERRNO.SUCCESS, BigInt(Math.max(0, size - entry.offset)));
  } catch {
    return result(ERRNO.EIO);
  }
}

/**
 * Waits for the first of `subscriptions` (at least one) and reports every one that is
 * ready by then.
 */
export function poll(table: FdTable, clock: WasiClock, subscriptions: readonly Subscription[]): PollEvent[] {
  const events: PollEvent[] = [];
  const timers: { readonly subscription: Subscription; readonly deadline: bigint }[] = [];
  const start = clock.now(CLOCKID.MONOTONIC);
  for (const subscription of subscriptions) {
    if (subscription.type !== EVENTTYPE.CLOCK) {
      events.push(fdEvent(table, subscription));
      continue;
    }
    let deadline: bigint;
    try {
      // Relative timeouts are durations, the same on every clock; absolute ones are moved onto the monotonic clock.
      clock.resolution(subscription.clockId);
      deadline = subscription.absolute ? start + (subscription.timeout - clock.now(subscription.clockId)) : start + subscription.timeout;
    } catch (error) {
      const errno = error instanceof WasiErrno ? error.errno : ERRNO.EINVAL;
      events.push({ userdata: subscription.userdata, error: errno, type: EVENTTYPE.CLOCK, nbytes: 0n, flags: 0 });
      continue;
    }
    timers.push({ subscription, deadline });
  }
  if (events.length === 0 && timers.length > 0) {
    clock.sleepUntil(timers.reduce((earliest, timer) => (timer.deadline < earliest ? timer.deadline : earliest), timers[0]?.deadline ?? start));
  }
  const now = clock.now(CLOCKID.MONOTONIC);
  for (const { subscription, deadline } of timers) {
    if (deadline <= now) events.push({ userdata: subscription.userdata, error: ERRNO.SUCCESS, type: EVENTTYPE.CLOCK, nbytes: 0n, flags: 0 });
  }
  return events;
}
