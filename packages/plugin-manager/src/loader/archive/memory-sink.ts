import { ForgeError, describeValue } from '@forgeone/common';
import type { ArchiveEntry, EntrySink } from './sink.js';

/**
 * Keeps every entry in memory: for small packages, tests, and reading a package whose
 * content is inspected rather than installed. Memory use is bounded by the limits the
 * reader applies (maxUnpackedSize), so give it tight ones.
 */
export class MemorySink implements EntrySink {
  /** Completed entries, name -> content, in archive order. Emptied by {@link abort}. */
  readonly files = new Map<string, Buffer>();
  #path: string | undefined;
  #chunks: Buffer[] = [];

  /** @throws ForgeError FO_INTERNAL_UNEXPECTED when an entry is already open. */
  beginEntry(path: string): void {
    if (this.#path !== undefined) throw misuse(`beginEntry(${describeValue(path)}) while ${describeValue(this.#path)} is open`);
    this.#path = path;
    this.#chunks = [];
  }

  /** Copies `chunk`, since the reader may reuse its memory; keeps a view of a `stable` one. */
  write(chunk: Uint8Array, stable = false): void {
    if (this.#path === undefined) throw misuse('write() with no entry open');
    this.#chunks.push(stable ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.from(chunk));
  }

  endEntry(entry: ArchiveEntry): void {
    if (this.#path !== entry.path) throw misuse(`endEntry(${describeValue(entry.path)}) does not match the open entry`);
    // An entry that arrived in one write (every entry of a package read from memory) is
    // kept as it is, not copied again by a join.
    const [only] = this.#chunks;
    this.files.set(entry.path, this.#chunks.length === 1 && only !== undefined ? only : Buffer.concat(this.#chunks));
    this.#path = undefined;
    this.#chunks = [];
  }

  abort(): Promise<void> {
    this.files.clear();
    this.#path = undefined;
    this.#chunks = [];
    return Promise.resolve();
  }
}

function misuse(what: string): ForgeError {
  return new ForgeError('FO_INTERNAL_UNEXPECTED', `MemorySink: expected begin, write, end in turn, found ${what}`);
}
