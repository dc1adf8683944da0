/** One file read from a package: its name, size in bytes and SHA-256 digest. */
export interface ArchiveEntry {
  /** The entry name: a relative POSIX path that passed every rule of entry-name.ts. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  /** SHA-256 of the content, lowercase hex, computed by the reader. */
  readonly sha256: string;
}

/**
 * Receives the entries of a package while it streams. For each entry the reader calls
 * `beginEntry` once, `write` zero or more times, then `endEntry`, awaiting each call
 * before the next; on any failure it calls `abort` once instead of further calls.
 */
export interface EntrySink {
  /**
   * Called after the header passed every check and before any data. Throwing (a
   * ForgeError) refuses the entry and fails the whole read.
   * @param size the entry's size in bytes, already within the limits.
   */
  beginEntry(path: string, size: number): void | Promise<void>;
  /**
   * Receives the next piece of the current entry. `chunk` is only valid until the
   * returned promise settles; copy it to keep it. Unless `stable` is true: then the
   * reader never reuses or changes its memory (a package read from memory, whose
   * decompressed tar stream the chunk is a view of), and a sink may keep it as it is.
   */
  write(chunk: Uint8Array, stable?: boolean): void | Promise<void>;
  /** Called after the last byte of the entry, with its digest. */
  endEntry(entry: ArchiveEntry): void | Promise<void>;
  /** Called once when the read fails; must remove everything the sink wrote. Must not throw. */
  abort(): Promise<void>;
}
