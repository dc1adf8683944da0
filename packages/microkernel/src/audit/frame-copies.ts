/**
 * A timed frame (batch.ts: a repeating record's every byte after its seq) held as bytes,
 * eight times over, so that copying it into a batch is one TypedArray#set that moves a
 * word at a time. A batch lives in shared memory, where V8 copies with relaxed atomics:
 * a word at a time only when source and destination have the same address modulo 8,
 * byte by byte otherwise (three times slower). So copy k starts at an offset that is k
 * modulo 8 (backing stores are at least 8-aligned), and {@link FrameCopies.copyTo} takes
 * the copy that matches the destination. Against Buffer#latin1Write of the frame string
 * it saves the call into C++ (about 40 ns a record, measured in bench/wasi-read.mjs).
 *
 * The bytes are exactly the frame string's, one byte per character (latin1): the
 * record cache (report-cache.ts) builds them from the string and rewrites the
 * timestamp in both together.
 */
import { writeLatin1 } from './bytes.js';

const ALIGN = 8;
// Called as a function rather than as `buf.set`: Buffer.prototype holds many methods (a
// dictionary-mode prototype), so optimized code looks `set` up through a generic inline
// cache on every record (about 10 ns in the profile).
const { set: setBytes } = Uint8Array.prototype as unknown as { readonly set: (this: Uint8Array, source: Uint8Array, offset: number) => void };

/** A timed frame as bytes, one copy per alignment; see the module comment. */
export class FrameCopies {
  /** Bytes of the frame. */
  readonly length: number;
  readonly #all: Buffer;
  readonly #starts: number[] = [];
  readonly #copies: Uint8Array[] = [];

  /** @param timed the frame, every character below U+0100 (batch.ts `timedFrame`) */
  constructor(timed: string) {
    this.length = timed.length;
    const stride = Math.ceil((timed.length + ALIGN) / ALIGN) * ALIGN;
    this.#all = Buffer.alloc(stride * ALIGN);
    for (let k = 0; k < ALIGN; k += 1) {
      const start = k * stride + k;
      writeLatin1(this.#all, timed, start);
      this.#starts.push(start);
      this.#copies.push(this.#all.subarray(start, start + timed.length));
    }
  }

  /** Writes `text` (every character below U+0100) over the frame's bytes from `offset`, in every copy. */
  write(text: string, offset: number): void {
    if (offset < 0 || offset + text.length > this.length) throw new RangeError(`${text.length} bytes at ${offset} do not fit a frame of ${this.length}`);
    for (const start of this.#starts) writeLatin1(this.#all, text, start + offset);
  }

  /**
   * Copies the frame into `buf` at `at` (the caller made room).
   * @param byteOffset `buf.byteOffset`, which picks the copy (passed in: see batch.ts)
   */
  copyTo(buf: Uint8Array, at: number, byteOffset: number): void {
    const copy = this.#copies[(byteOffset + at) & (ALIGN - 1)];
    if (copy === undefined) throw new Error('a frame has a copy for every alignment');
    setBytes.call(buf, copy, at);
  }
}
