/**
 * File-system steps with the flushes that make them survive a crash. A rename is
 * atomic on POSIX file systems (readers and a restarted process see the old name or
 * the new one), and it is durable once the directories it changed are flushed. A new
 * file is durable once its data and its directory entry are flushed; a tree built in
 * staging is flushed whole (new-tree.ts) before it is renamed into place. Why each
 * flush is there, and why there are no others: docs/store.md, "What each flush is for".
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fromFsError, isNodeSystemError } from '@forgeone/common';

/**
 * Flushes a directory's entries to disk. Windows cannot open a directory for this,
 * and NTFS journals metadata anyway, so there it does nothing.
 * @throws ForgeError FO_IO_*
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw fromFsError(error, 'flush the directory', dir);
  }
}

/**
 * Creates `path` (which must not exist) with `data`, and flushes it.
 * @param mode permission bits for the new file
 * @param flush false for a file whose loss in a power cut harms nothing (the lock's)
 * @throws ForgeError FO_IO_EXISTS when the file exists, FO_IO_*
 */
export async function writeNewFile(path: string, data: Uint8Array | string, mode: number, flush = true): Promise<void> {
  try {
    const handle = await open(path, 'wx', mode);
    try {
      await handle.writeFile(data);
      if (flush) await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw fromFsError(error, 'write the file', path);
  }
}

/** The prefix of the temporary files {@link replaceFileAtomic} leaves when killed. */
export function temporaryPrefix(file: string): string {
  return `.${basename(file)}.tmp-`;
}

/**
 * Replaces `file` with `data` so that a reader, or the next start after a crash,
 * sees either the old file or the new one: a flushed temporary file in the same
 * directory, renamed over the target, then the directory flushed.
 *
 * @param beforeRename called once the temporary file is on disk (a test hook)
 * @throws ForgeError FO_IO_*
 */
export async function replaceFileAtomic(file: string, data: string, mode: number, beforeRename?: () => Promise<void>): Promise<void> {
  const temporary = join(dirname(file), `${temporaryPrefix(file)}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeNewFile(temporary, data, mode);
    await beforeRename?.();
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw fromFsError(error, 'replace the file', file);
  }
  await syncDirectory(dirname(file));
}

/**
 * Renames `from` to `to` and flushes both parent directories (side by side), so the
 * move is on disk when this returns: the new entry, and the old one gone (a file
 * system that logged only the first could show the directory under both names, and
 * recovery would empty it through the old one).
 * @throws ForgeError FO_IO_*; FO_IO_EXISTS when `to` is a non-empty directory
 */
export async function renameDurable(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    // Linux reports a non-empty target directory as ENOTEMPTY; treat it like EEXIST.
    const wrapped = isNodeSystemError(error, 'ENOTEMPTY') ? Object.assign(new Error(error.message), { code: 'EEXIST' }) : error;
    throw fromFsError(wrapped, `move ${from} to`, to);
  }
  await Promise.all([syncDirectory(dirname(to)), ...(dirname(from) === dirname(to) ? [] : [syncDirectory(dirname(from))])]);
}

/**
 * Creates a directory (not its parents), unflushed: a scratch directory, or one of a
 * tree flushed whole later (new-tree.ts).
 * @throws ForgeError FO_IO_EXISTS when it exists, FO_IO_*
 */
export async function makeDirectory(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (error) {
    throw fromFsError(error, 'create the directory', path);
  }
}

/**
 * Creates a directory (not its parents) and flushes its parent.
 * @throws ForgeError FO_IO_EXISTS when it exists, FO_IO_*
 */
export async function makeDirectoryDurable(path: string, mode: number): Promise<void> {
  await makeDirectory(path, mode);
  await syncDirectory(dirname(path));
}

/**
 * Deletes a directory tree. The caller has already renamed it out of place (into
 * the trash), so a crash half-way leaves nothing anyone reads.
 * @throws ForgeError FO_IO_*
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    throw fromFsError(error, 'remove', path);
  }
}

/** The names in a directory, sorted; [] when it does not exist or is not a directory. */
export async function listDirectory(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT') || isNodeSystemError(error, 'ENOTDIR')) return [];
    throw fromFsError(error, 'list the directory', dir);
  }
}

/** Removes a file; a file already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (!isNodeSystemError(error, 'ENOENT')) throw fromFsError(error, 'remove', path);
  }
}

/** A fresh, unguessable name for a staging or trash entry. */
export function transactionId(): string {
  return `${Date.now().toString(36)}-${process.pid}-${randomBytes(6).toString('hex')}`;
}
