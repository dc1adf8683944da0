/**
 * The array a large call's answer is copied into on the host thread, prepared while the
 * worker runs the call.
 *
 * Every answer is a fresh Uint8Array the caller owns. For a large one (1 MiB) the fresh
 * memory costs more than the copy: its pages fault on first touch (256 faults per MiB,
 * 0.3-0.5 ms on a virtual machine when the allocator hands out a new mapping) and the
 * copy lands in cold cache lines. The host thread has nothing to do while the worker
 * runs the call (it spins or waits), so when a plugin's last two answers had the same
 * size, the host allocates an array of that size for the next one right after it woke
 * the worker and touches each of its pages; when the answer comes with exactly that
 * size, it is copied into it (and otherwise into a fresh array, as before).
 *
 * SECURITY: the prepared array comes from uninitialized memory (no zeroing: that is
 * the cost saved); it is handed to the caller only when the answer overwrites all of it
 * (same length), so nothing earlier in that memory is ever seen.
 */
import { copyBytes } from '../abi/bytes-copy.js';

/** Answers at least this large are prepared (at 64 KiB preparing measured no faster than a fresh array). */
export const PREPARE_FROM_BYTES = 256 * 1024;

/** Bytes between two writes that fault the pages of a prepared array in (the smallest page size). */
const PAGE = 4096;

/** The sizes of a plugin's recent answers, to predict the next one. */
export class AnswerSizes {
  #last = -1;
  #repeated = false;

  /** The size to prepare the next answer's array for, or 0 for none. */
  get predicted(): number {
    return this.#repeated && this.#last >= PREPARE_FROM_BYTES ? this.#last : 0;
  }

  /** Records a call's answer size (its output; errors and failed calls are not recorded). */
  record(bytes: number): void {
    this.#repeated = bytes === this.#last;
    this.#last = bytes;
  }
}

/**
 * A new array of `bytes` whose pages are already faulted in. Its content is undefined
 * until {@link takeInto} overwrote it: never hand it out otherwise.
 */
export function prepareAnswer(bytes: number): Uint8Array {
  const memory = Buffer.allocUnsafeSlow(bytes);
  const array = new Uint8Array(memory.buffer, memory.byteOffset, bytes);
  for (let at = 0; at < bytes; at += PAGE) array[at] = 0;
  return array;
}

/**
 * The answer of `length` bytes at the start of `data`, copied into `prepared` when it
 * has exactly that length; undefined otherwise (the caller copies it into a fresh array).
 */
export function takeInto(data: Uint8Array, length: number, prepared: Uint8Array | undefined): Uint8Array | undefined {
  if (prepared === undefined || length !== prepared.length || length > data.length) return undefined;
  copyBytes(prepared, data.subarray(0, length));
  return prepared;
}
