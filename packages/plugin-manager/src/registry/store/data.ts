/**
 * Where a plugin keeps data between runs, keyed by its identity (publisher + name),
 * never by its name alone (docs/store.md, "Plugin data"):
 *
 * ```
 * <plugin_directory>/<name>/data/            mode 0700: what plugins called <name> keep
 *   <key>/                                   one publisher's: key = publisherKey(identity)
 *     publisher.json                         {"publisher", "attested"}: for operators; the key decides
 *     kv.sqlite ...                          the key-value store
 * ```
 *
 * SECURITY: a package that takes the name of an installed plugin but is signed by
 * another publisher computes another key, so it gets an empty directory of its own and
 * can never open the installed plugin's database. Upgrades by the same publisher keep
 * the key (the data stays); a publisher change allowed at install gets fresh data; a
 * rollback to the old publisher finds its data again. Uninstall removes `<name>/`, so
 * every publisher's data with it.
 *
 * A plugin loaded from a path before it is installed leaves `<name>/data/<key>/` and
 * nothing else; the store installs over such a directory and keeps the data
 * (store.ts, adoption). Stores written before this layout kept one database directly in
 * `data/`; {@link migrateLegacyData} moves it to the installed publisher's key.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError, isNodeSystemError, type Logger, type PluginIdentity } from '@forgeone/common';
import { listDirectory, makeDirectoryDurable, renameDurable, syncDirectory } from './durable.js';
import { checkPluginName, type StoreLayout } from './layout.js';

/** Mode of data directories: only the host's user reads plugin data. */
export const DATA_MODE = 0o700;

/** What a data directory's key is computed from. */
export type DataOwner = Pick<PluginIdentity, 'publisher' | 'attested'>;

/** The shape of a key: lower-case sha256 hex. */
const KEY = /^[0-9a-f]{64}$/;

/** The suffix of a directory {@link migrateLegacyData} fills before renaming it to its key. */
const MIGRATING = '.migrating';

/** The file naming a data directory's publisher, for operators. */
export const PUBLISHER_FILE = 'publisher.json';

/**
 * The directory name of a publisher's data: sha256 over whether the package was
 * attested and the publisher, so an unverified package (`unsigned`) never shares a key
 * with a certificate that happens to name itself `unsigned`.
 */
export function publisherKey(owner: DataOwner): string {
  return createHash('sha256').update(`forgeone-data/1\n${owner.attested ? 'attested' : 'unattested'}\n${owner.publisher}`).digest('hex');
}

/** True for an entry of `<name>/data/` that is a publisher's directory. */
export function isPublisherKey(entry: string): boolean {
  return KEY.test(entry);
}

/**
 * `<root>/<name>/data/<key>`: the data directory of `identity`. Pure.
 * @throws ForgeError FO_STORE_INVALID_NAME
 */
export function dataDirectory(root: string, identity: DataOwner & Pick<PluginIdentity, 'name'>): string {
  checkPluginName(identity.name);
  return join(root, identity.name, 'data', publisherKey(identity));
}

/**
 * Creates (if needed) the data directory of `identity` and names its publisher in it.
 * Creates nothing else: `<name>/` holding only `data/` is not an installed plugin, and
 * the store installs over it.
 * @returns the directory
 * @throws ForgeError FO_STORE_INVALID_NAME, FO_IO_*
 */
export async function prepareDataDirectory(root: string, identity: DataOwner & Pick<PluginIdentity, 'name'>): Promise<string> {
  const dir = dataDirectory(root, identity);
  // The directory usually exists with its publisher file: one stat finds that out (a
  // create that fails with EEXIST costs an exception per load). It is made on this thread:
  // a few microseconds, where an asynchronous call's round trip through the thread pool
  // costs milliseconds on a loaded machine one load in ten (source.ts).
  if (existsSync(join(dir, PUBLISHER_FILE))) return dir;
  if (await describeOwner(dir, identity)) return dir;
  try {
    await mkdir(dir, { recursive: true, mode: DATA_MODE });
  } catch (error) {
    throw fromFsError(error, 'create the plugin data directory', dir);
  }
  if (!(await describeOwner(dir, identity))) throw new ForgeError('FO_IO_NOT_FOUND', `the plugin data directory ${dir} disappeared while it was prepared`, { details: { path: dir } });
  return dir;
}

/** Writes the publisher file unless it exists. @returns false when the directory does not exist */
async function describeOwner(dir: string, owner: DataOwner): Promise<boolean> {
  const file = join(dir, PUBLISHER_FILE);
  try {
    await writeFile(file, `${JSON.stringify({ publisher: owner.publisher, attested: owner.attested })}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT')) return false;
    if (!isNodeSystemError(error, 'EEXIST')) throw fromFsError(error, 'write', file);
  }
  return true;
}

/**
 * Moves the data of a store written before data was keyed by publisher (a database
 * directly in `<name>/data/`) into the directory of the installed version's
 * publisher. Entries are moved into `<key>.migrating` first and that directory is
 * renamed into place last, so a crash half-way is finished by the next run and nobody
 * ever opens half of a database. When the key's directory already exists (the plugin
 * ran since), the old data is left in `<key>.migrating` and reported.
 * The caller holds the store lock.
 * @param ownerOf the installed (current) version's identity, asked only when there is
 *   something to move
 * @returns the directories whose data was moved
 * @throws ForgeError FO_IO_*
 */
export async function migrateLegacyData(layout: StoreLayout, name: string, ownerOf: () => Promise<DataOwner>, logger: Logger): Promise<string[]> {
  const data = layout.data(name);
  const entries = await listDirectory(data);
  const legacy = entries.filter((entry) => !isPublisherKey(entry) && !entry.endsWith(MIGRATING));
  const unfinished = entries.some((entry) => entry.endsWith(MIGRATING));
  if (legacy.length === 0 && !unfinished) return [];
  const owner = await ownerOf();
  const key = publisherKey(owner);
  const staging = join(data, `${key}${MIGRATING}`);
  if (!entries.includes(`${key}${MIGRATING}`)) await makeDirectoryDurable(staging, DATA_MODE);
  for (const entry of legacy) await renameDurable(join(data, entry), join(staging, entry));
  const target = join(data, key);
  if (entries.includes(key)) {
    logger.error('plugin data from before data was kept per publisher was not moved: the publisher has data already; merge them by hand', { name, kept: staging, existing: target });
    return [];
  }
  await describeOwner(staging, owner);
  await syncDirectory(staging);
  await renameDurable(staging, target);
  logger.warn('moved plugin data into its publisher\'s directory', { name, to: target });
  return [target];
}
