/**
 * The shared memory batches are encoded into, kept for reuse. A batch of 1,000 records
 * takes about half a MiB; allocating it afresh for every group commit made the caller's
 * thread fault in every page of it (one page fault every eight or so records) and left
 * the garbage collector the external memory to reclaim. A batch's memory comes back here
 * once the batch is durable (the writer is done with its bytes and the chain with its
 * fields), and the next batch is encoded into it: every byte a batch writes out is one
 * it wrote itself (`RecordBatch.bytes` ends at `used`), so stale bytes are never read.
 */
import { LAYOUT_STRIDE } from './chain-fill.js';

/** One batch's memory: its bytes and its layout, both on SharedArrayBuffers (the chain worker fills them in place). */
export interface BatchSpace {
  readonly buffer: Buffer;
  readonly layout: Int32Array;
}

/**
 * Most bytes of spare spaces kept: enough for the batches a busy log seals while one
 * fdatasync runs (about 30 of 1,000 records), so a steady load allocates nothing; a
 * larger burst allocates the rest, and only this much stays once it is over.
 */
const MAX_SPARE_BYTES = 16 * 1024 * 1024;

/** Allocates a batch space: `capacity` bytes and room for `records` records in the layout. */
export function allocateSpace(capacity: number, records: number): BatchSpace {
  return {
    buffer: Buffer.from(new SharedArrayBuffer(capacity)),
    layout: new Int32Array(new SharedArrayBuffer(records * LAYOUT_STRIDE * Int32Array.BYTES_PER_ELEMENT)),
  };
}

/** Spaces of the batches that were written, for the next batches of one log. */
export class BatchMemory {
  readonly #spare: BatchSpace[] = [];
  #spareBytes = 0;

  /** A space of at least `capacity` bytes and `records` layout entries: a spare one if any, else a new one. */
  take(capacity: number, records: number): BatchSpace {
    const spare = this.#spare.pop();
    if (spare === undefined) return allocateSpace(capacity, records);
    this.#spareBytes -= spare.buffer.length;
    return spare.buffer.length >= capacity && spare.layout.length >= records * LAYOUT_STRIDE ? spare : allocateSpace(capacity, records);
  }

  /** Takes back the space of a batch nothing reads or writes any more. */
  give(space: BatchSpace): void {
    if (this.#spareBytes + space.buffer.length > MAX_SPARE_BYTES) return;
    this.#spare.push(space);
    this.#spareBytes += space.buffer.length;
  }
}
