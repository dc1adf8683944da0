/**
 * A new directory tree built in staging and flushed whole before the caller renames it
 * into place (the commit). Before that rename nothing reads the tree, so the order of
 * its flushes does not matter, only that every one has finished: each file is written
 * and flushed, several at a time, and then every directory that has entries is flushed,
 * all side by side, each once, together with the scratch directory the tree is built in
 * and staging/ (so that whatever a power cut leaves of an unfinished tree can be found
 * and removed by recovery). These are the flushes a one-at-a-time build made before its
 * rename, without the repeats: docs/store.md, "What each flush is for"; tested in
 * flushes.test.ts.
 */
import { dirname } from 'node:path';
import { makeDirectory, syncDirectory, writeNewFile } from './durable.js';
import { mapConcurrently } from './reader.js';

/**
 * Files written, and directories flushed, at once: enough to keep libuv's four file
 * threads busy and let the file system fold the flushes into few journal commits, few
 * enough to hold few file descriptors.
 */
export const FLUSH_CONCURRENCY = 8;

/** A file of a {@link NewTree}. */
export interface NewFile {
  readonly path: string;
  readonly data: Uint8Array | string;
  /** Permission bits. */
  readonly mode: number;
  /** A file of the package: the tree's `onFile` hook runs once it is on disk. */
  readonly packaged?: boolean;
}

/** The directories and files of a tree, written by {@link NewTree.write}. */
export class NewTree {
  readonly #scratch: string;
  readonly #directories: { readonly path: string; readonly mode: number }[] = [];
  readonly #files: NewFile[] = [];

  /** @param scratch the directory under .store/staging/ the tree is built in (it exists) */
  constructor(scratch: string) {
    this.#scratch = scratch;
  }

  /** Adds a directory; the first one added is the tree's root, and each parent comes before its children. */
  directory(path: string, mode: number): this {
    this.#directories.push({ path, mode });
    return this;
  }

  /** Adds a file, in a directory already added. */
  file(file: NewFile): this {
    this.#files.push(file);
    return this;
  }

  /**
   * Creates the directories (parents first), writes and flushes every file, then flushes
   * every directory that has entries, the scratch directory and its parent. When this
   * returns, the whole tree is on disk and reachable from staging/.
   * @param onFile awaited after each packaged file is written and flushed (a test hook)
   * @throws ForgeError FO_IO_EXISTS when a path exists, FO_IO_*; files being written
   *   when one fails are finished first, so nothing writes into the tree after this throws
   */
  async write(onFile: () => Promise<void>): Promise<void> {
    for (const directory of this.#directories) await makeDirectory(directory.path, directory.mode);
    // Largest first: the longest write and flush starts first.
    const files = [...this.#files].sort((a, b) => b.data.length - a.data.length);
    await mapConcurrently(files, FLUSH_CONCURRENCY, async (file) => {
      await writeNewFile(file.path, file.data, file.mode);
      if (file.packaged === true) await onFile();
    });
    const parents = new Set([...this.#directories.slice(1), ...this.#files].map((entry) => dirname(entry.path)));
    const full = this.#directories.filter((directory) => parents.has(directory.path)).map((directory) => directory.path);
    await mapConcurrently([...full, this.#scratch, dirname(this.#scratch)], FLUSH_CONCURRENCY, syncDirectory);
  }
}
