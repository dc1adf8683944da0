/**
 * A worker thread's CPU priority: the pool's isolation worker lowers its own (pool-protocol.ts,
 * ISOLATION_NICE), so that the hot plugins kept there yield the CPU to the others.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Sets this thread's nice value (Linux: setpriority on the thread's own id, which touches
 * no other thread). Raising it needs no privilege; where threads cannot be told apart
 * (no /proc/thread-self) nothing changes.
 */
export function niceThread(nice: number): void {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return;
  }
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
}
