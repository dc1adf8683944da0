/**
 * Waiting on a slot's STATE word the way pool workers do: a short spin before parking,
 * shared by the relay and the sandbox's main thread (which must load little: see child.ts).
 */
import { WORD } from '../pool-protocol.js';

/** How long a waiting thread reads its slot before it parks, in ms: the next step usually comes within microseconds, and a parked thread takes 10-50 us to wake. */
const SPIN_MS = 0.05;

/**
 * Reads the STATE word until it is one of `wanted` or the spin budget runs out.
 * @returns the last state read
 */
export function spinWhile(header: Int32Array, ...wanted: number[]): number {
  let state = Atomics.load(header, WORD.STATE);
  const until = performance.now() + SPIN_MS;
  for (let round = 1; !wanted.includes(state); round += 1) {
    if ((round & 63) === 0 && performance.now() >= until) break;
    state = Atomics.load(header, WORD.STATE);
  }
  return state;
}
