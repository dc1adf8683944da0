/**
 * Cleaning up after a change that was interrupted (the process killed, the machine
 * stopped). Every change builds in staging and commits with one rename, so whatever
 * it leaves behind is outside what readers follow: staging and trash entries,
 * temporary state files, lock candidates, version directories that state.json
 * does not name, and versions/ in a plugin directory without state.json. Runs only
 * under the store lock, so it never removes the work of a live change.
 *
 * A change leaves plugin-directory leftovers only in the plugin it changes, and only when
 * it is interrupted: killed (its lock stays behind, and whoever breaks that lock marks the
 * store, lock.ts) or failed (it marks the store itself, store.ts). So a change after
 * changes that all completed checks staging, trash, lock candidates and its own plugin
 * only, instead of reading every plugin's directory; the mark, and every open, make the
 * next recovery walk every plugin.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { listDirectory, removeFile, removeTree, renameDurable, temporaryPrefix, transactionId, writeNewFile } from './durable.js';
import { META_DIR, isPluginName, type StoreLayout } from './layout.js';
import { BREAKER_SUFFIX, CANDIDATE_MARK, removeDeadBreaker } from './lock.js';
import { readStoreJson, stateSchema } from './records.js';

/** What a recovery removed, as paths, and what it found but left alone. */
export interface RecoveryReport {
  readonly removed: readonly string[];
  /** Plugin directories whose state.json is unreadable; left for the operator (uninstall removes them). */
  readonly corrupt: readonly string[];
}

/** The process id in a lock candidate's name (`lock.candidate-<pid>-<token>`), if any. */
function candidatePid(name: string): number | undefined {
  const at = name.indexOf(CANDIDATE_MARK);
  if (at === -1) return undefined;
  const pid = Number.parseInt(name.slice(at + CANDIDATE_MARK.length), 10);
  return Number.isSafeInteger(pid) ? pid : undefined;
}

/**
 * Removes every leftover of interrupted changes. The caller holds the store lock.
 * @param only the one plugin whose directory is checked; undefined (default) checks
 *   every plugin directory. Staging, trash and lock candidates are always checked.
 * @throws ForgeError FO_IO_*
 */
export async function recoverStore(layout: StoreLayout, only?: string): Promise<RecoveryReport> {
  const removed = await discardStaged(layout);
  const corrupt: string[] = [];
  // Candidates of this process are its own lock being taken right now; any other
  // process's are from one that died between writing and linking, or one that will
  // find the lock held anyway and retry.
  for (const entry of await listDirectory(layout.meta)) {
    const pid = candidatePid(entry);
    if (pid !== undefined && pid !== process.pid) {
      await removeFile(join(layout.meta, entry));
      removed.push(join(layout.meta, entry));
    } else if (pid === undefined && entry.endsWith(BREAKER_SUFFIX) && (await removeDeadBreaker(join(layout.meta, entry)))) {
      removed.push(join(layout.meta, entry));
    }
  }
  const names = only === undefined ? await listDirectory(layout.root) : [only];
  for (const name of names) {
    if (name === META_DIR || !isPluginName(name)) continue;
    await recoverPlugin(layout, name, removed, corrupt);
  }
  return { removed, corrupt };
}

/**
 * The recovery before a change of `plugin` (or at open, `plugin` undefined): of every
 * plugin when the store is marked or at open, else of `plugin` only. The mark is
 * removed once every plugin was checked, so a recovery cut short leaves it.
 * @throws ForgeError FO_IO_*
 */
export async function recoverBefore(layout: StoreLayout, plugin: string | undefined): Promise<RecoveryReport> {
  const marked = await lstat(layout.recoverMark).then(
    () => true,
    (error: unknown) => {
      if (isNodeSystemError(error, 'ENOENT')) return false;
      throw fromFsError(error, 'inspect', layout.recoverMark);
    },
  );
  const report = await recoverStore(layout, marked ? undefined : plugin);
  if (marked || plugin === undefined) await removeFile(layout.recoverMark);
  return report;
}

/**
 * Removes what a change that failed (rather than was killed) built in staging and moved
 * to trash, right away: on a full disk that is the space the next attempt needs, and the
 * next change may be long in coming. The caller holds the lock, so every entry is its own
 * or a dead change's. Plugin directories are left to the full recovery the mark asks for.
 * @returns the paths removed
 * @throws ForgeError FO_IO_*
 */
export async function discardStaged(layout: StoreLayout): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [layout.staging, layout.trash]) {
    for (const entry of await listDirectory(dir)) {
      await removeTree(join(dir, entry));
      removed.push(join(dir, entry));
    }
  }
  return removed;
}

/**
 * Marks the store so that the next change checks every plugin directory: called by the
 * change that failed, or by whoever breaks the lock of a holder that died. Idempotent.
 * @throws ForgeError FO_IO_*
 */
export async function markForRecovery(layout: StoreLayout): Promise<void> {
  try {
    await writeNewFile(layout.recoverMark, '', 0o644);
  } catch (error) {
    if (!ForgeError.is(error, 'FO_IO_EXISTS')) throw error;
  }
}

/** Removes the leftovers in one plugin's directory (none when it does not exist). */
async function recoverPlugin(layout: StoreLayout, name: string, removed: string[], corrupt: string[]): Promise<void> {
  const statePrefix = temporaryPrefix(layout.state(name));
  for (const entry of await listDirectory(layout.plugin(name))) {
    if (entry.startsWith(statePrefix)) {
      await removeFile(join(layout.plugin(name), entry));
      removed.push(join(layout.plugin(name), entry));
    }
  }
  let state;
  try {
    state = await readStoreJson(layout.state(name), stateSchema, 'plugin state');
  } catch (error) {
    if (!ForgeError.is(error, 'FO_STORE_CORRUPT')) throw error;
    corrupt.push(layout.plugin(name));
    return;
  }
  if (state === undefined) {
    // versions/ without state.json: an install over a plugin's data, killed before
    // its commit (install.ts). The data stays; the half-installed versions go.
    if ((await listDirectory(layout.plugin(name))).includes('versions')) {
      const doomed = join(layout.trash, `${transactionId()}-${name}`);
      await renameDurable(layout.versions(name), doomed);
      await removeTree(doomed);
      removed.push(layout.versions(name));
    }
    return;
  }
  const kept = new Set([state.current, ...(state.previous === undefined ? [] : [state.previous])]);
  for (const version of await listDirectory(layout.versions(name))) {
    if (kept.has(version)) continue;
    // Out of place first, so a crash while deleting leaves nothing under versions/.
    const doomed = join(layout.trash, `${transactionId()}-${name}`);
    await renameDurable(layout.version(name, version), doomed);
    await removeTree(doomed);
    removed.push(layout.version(name, version));
  }
}
