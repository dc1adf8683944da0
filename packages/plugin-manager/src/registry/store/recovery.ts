/**
 * Cleaning up after a change that was interrupted (the process killed, the machine
 * stopped). Every change builds in staging and commits with one rename, so whatever
 * it leaves behind is outside what readers follow: staging and trash entries,
 * temporary state files, lock candidates, version directories that state.json
 * does not name, and versions/ in a plugin directory without state.json. Runs only
 * under the store lock, so it never removes the work of a live change.
 */
import { join } from 'node:path';
import { ForgeError } from '@forgeone/common';
import { listDirectory, removeFile, removeTree, renameDurable, temporaryPrefix, transactionId } from './durable.js';
import { META_DIR, isPluginName, type StoreLayout } from './layout.js';
import { CANDIDATE_MARK } from './lock.js';
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
 * @throws ForgeError FO_IO_*
 */
export async function recoverStore(layout: StoreLayout): Promise<RecoveryReport> {
  const removed: string[] = [];
  const corrupt: string[] = [];
  for (const dir of [layout.staging, layout.trash]) {
    for (const entry of await listDirectory(dir)) {
      await removeTree(join(dir, entry));
      removed.push(join(dir, entry));
    }
  }
  // Candidates of this process are its own lock being taken right now; any other
  // process's are from one that died between writing and linking, or one that will
  // find the lock held anyway and retry.
  for (const entry of await listDirectory(layout.meta)) {
    const pid = candidatePid(entry);
    if (pid !== undefined && pid !== process.pid) {
      await removeFile(join(layout.meta, entry));
      removed.push(join(layout.meta, entry));
    }
  }
  for (const name of await listDirectory(layout.root)) {
    if (name === META_DIR || !isPluginName(name)) continue;
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
      continue;
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
      continue;
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
  return { removed, corrupt };
}
