import { ForgeError, describeValue, fromFsError } from '@forgeone/common';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { entryNameProblem } from './entry-name.js';
import type { ArchiveEntry, EntrySink } from './sink.js';

// O_NOFOLLOW does not exist on Windows, where O_EXCL already refuses an existing link.
const CREATE_FLAGS = constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0);
const FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;

/**
 * Writes entries into a fresh private directory, `dir`, made by `fs.mkdtemp` under a
 * temp root. The store later renames `dir` into place, so a package appears whole or
 * not at all.
 *
 * SECURITY: the sink only ever creates. `dir` is new and 0700; every file is opened
 * with O_CREAT|O_EXCL|O_NOFOLLOW and every parent directory is made by this sink with
 * mkdir (which never follows a link). So nothing is written through a symbolic link
 * and no path outside `dir` is touched, even for names the reader should have refused
 * (each name is checked again here).
 */
export class DirectorySink implements EntrySink {
  /** The directory the entries are written into; absent once aborted or disposed. */
  readonly dir: string;
  readonly #madeDirectories = new Set<string>();
  #file: { readonly path: string; readonly handle: FileHandle } | undefined;
  #removed = false;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Creates `tempRoot` if needed (mode 0700) and a fresh directory in it.
   * @throws ForgeError FO_IO_* when either cannot be created.
   */
  static async create(tempRoot: string): Promise<DirectorySink> {
    try {
      await mkdir(tempRoot, { recursive: true, mode: 0o700 });
      return new DirectorySink(await mkdtemp(join(tempRoot, 'forgepkg-')));
    } catch (error) {
      throw fromFsError(error, 'create a directory to unpack into', tempRoot);
    }
  }

  /**
   * Creates the entry's parent directories and the file itself.
   * @throws ForgeError FO_INTERNAL_UNEXPECTED for a name the reader should have refused
   *   or a call out of turn; FO_IO_* when the file system refuses.
   */
  async beginEntry(path: string): Promise<void> {
    if (this.#removed) throw misuse(`beginEntry(${describeValue(path)}) after the directory was removed`);
    if (this.#file !== undefined) throw misuse(`beginEntry(${describeValue(path)}) while ${describeValue(this.#file.path)} is open`);
    const problem = entryNameProblem(path);
    if (problem !== undefined) throw misuse(`entry name ${describeValue(path)}: expected ${problem.expected}, found ${problem.found}`);
    const components = path.split('/');
    let parent = this.dir;
    for (const component of components.slice(0, -1)) {
      parent = join(parent, component);
      if (this.#madeDirectories.has(parent)) continue;
      try {
        // Not recursive: an existing node (EEXIST) is never ours and never entered.
        await mkdir(parent, { mode: DIRECTORY_MODE });
      } catch (error) {
        throw fromFsError(error, `create the directory for entry ${describeValue(path)}`, parent);
      }
      this.#madeDirectories.add(parent);
    }
    const target = join(this.dir, path);
    try {
      const handle = await open(target, CREATE_FLAGS, FILE_MODE);
      this.#file = { path, handle };
      // The umask may have narrowed the mode; packages unpack identically everywhere.
      await handle.chmod(FILE_MODE);
    } catch (error) {
      throw fromFsError(error, `create the file for entry ${describeValue(path)}`, target);
    }
  }

  /** Appends `chunk` to the open file. @throws ForgeError FO_IO_* on a write failure. */
  async write(chunk: Uint8Array): Promise<void> {
    const file = this.#file;
    if (file === undefined) throw misuse('write() with no entry open');
    try {
      for (let offset = 0; offset < chunk.length; ) {
        const { bytesWritten } = await file.handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
    } catch (error) {
      throw fromFsError(error, `write entry ${describeValue(file.path)}`, join(this.dir, file.path));
    }
  }

  /** Closes the entry's file. @throws ForgeError FO_IO_* when closing fails. */
  async endEntry(entry: ArchiveEntry): Promise<void> {
    const file = this.#file;
    if (file?.path !== entry.path) throw misuse(`endEntry(${describeValue(entry.path)}) does not match the open entry`);
    this.#file = undefined;
    try {
      await file.handle.close();
    } catch (error) {
      throw fromFsError(error, `close entry ${describeValue(entry.path)}`, join(this.dir, entry.path));
    }
  }

  /** Closes any open file and removes `dir` with everything in it. Never throws; idempotent. */
  async abort(): Promise<void> {
    await this.#remove().catch(() => undefined);
  }

  /**
   * Removes `dir` after a successful read whose files are no longer needed (or were
   * copied elsewhere). Idempotent.
   * @throws ForgeError FO_IO_* when the directory cannot be removed.
   */
  async dispose(): Promise<void> {
    try {
      await this.#remove();
    } catch (error) {
      throw fromFsError(error, 'remove the unpack directory', this.dir);
    }
  }

  async #remove(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    this.#removed = true;
    await file?.handle.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function misuse(what: string): ForgeError {
  return new ForgeError('FO_INTERNAL_UNEXPECTED', `DirectorySink: ${what}`);
}
