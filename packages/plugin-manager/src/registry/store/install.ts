/**
 * The two ways an install changes the store, once the package is verified and the lock
 * is held: a new plugin (built whole in staging, then one rename; or, over the data a
 * plugin loaded before its install left, its versions moved in and state.json written
 * last), and a new version of an installed plugin (its directory renamed into
 * `versions/`, then state.json switched).
 */
import { lstat, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { DATA_MODE, isPublisherKey } from './data.js';
import { listDirectory, makeDirectory, makeDirectoryDurable, renameDurable, replaceFileAtomic, transactionId } from './durable.js';
import { STORE_FORMAT, type StoreLayout } from './layout.js';
import { corrupt, type StoreReader } from './reader.js';
import { storeJson, type StateFile } from './records.js';
import { NewTree } from './new-tree.js';
import { DIRECTORY_MODE, addVersion, type VersionInput } from './stage.js';
import type { StoreStep } from './steps.js';
import type { InstallOptions, InstallResult, InstalledPlugin } from './types.js';
import { planUpgrade } from './upgrade-plan.js';

/** Mode of state.json. */
export const STATE_MODE = 0o644;

/** What an install needs from the store it runs in. */
export interface InstallContext {
  readonly layout: StoreLayout;
  readonly reader: StoreReader;
  /** `max_plugins`. */
  readonly maxPlugins: number;
  step(step: StoreStep): Promise<void>;
  get(name: string): Promise<InstalledPlugin>;
  /** Replaces state.json (the switch of an upgrade). */
  switchState(state: StateFile): Promise<void>;
  /** Moves a directory into the trash and deletes it. */
  discard(path: string): Promise<void>;
}

/**
 * Installs a plugin that is not installed.
 * @throws ForgeError FO_STORE_FULL; FO_STORE_CORRUPT when `<name>/` exists and holds
 *   anything but plugin data; FO_IO_*
 */
export async function installNew(context: InstallContext, name: string, input: VersionInput): Promise<InstallResult> {
  const { layout } = context;
  // Fewer directories than the limit means fewer plugins: state.json is read for each
  // only near the limit, not on every install.
  const installed = (await context.reader.candidates()).length < context.maxPlugins ? 0 : (await context.reader.names()).length;
  if (installed >= context.maxPlugins) {
    throw new ForgeError('FO_STORE_FULL', `expected fewer than max_plugins = ${context.maxPlugins} plugins installed to add ${name}, found ${installed}`, {
      details: { name, limit: context.maxPlugins, installed },
    });
  }
  const target = layout.plugin(name);
  const existing = await lstat(target).catch((error: unknown) => {
    if (isNodeSystemError(error, 'ENOENT')) return undefined;
    throw fromFsError(error, 'inspect', target);
  });
  if (existing !== undefined && !(existing.isDirectory() && (await holdsOnlyData(layout, name)))) {
    throw corrupt(target, `expected no ${target} before installing ${name}, or one holding only data/ left by a plugin loaded before its install, found something else without state.json (not a plugin this store installed); move it away`);
  }
  const txn = join(layout.staging, transactionId());
  const state: StateFile = { format: STORE_FORMAT, name, current: input.identity.version, switched_at: input.installedAt };
  // Flushed with the tree it will hold (new-tree.ts), not on its own.
  await makeDirectory(txn, DIRECTORY_MODE);
  await context.step('staging');
  const step = (): Promise<void> => context.step('file');
  if (existing === undefined) {
    const staged = join(txn, name);
    const tree = new NewTree(txn).directory(staged, DIRECTORY_MODE).directory(join(staged, 'versions'), DIRECTORY_MODE).directory(join(staged, 'data'), DATA_MODE);
    addVersion(tree, join(staged, 'versions', input.identity.version), input);
    await tree.file({ path: join(staged, 'state.json'), data: storeJson(state), mode: STATE_MODE }).write(step);
    await context.step('staged');
    await renameDurable(staged, target);
    await context.step('committed');
  } else {
    // Adoption: the data stays where it is. versions/ without state.json is not a
    // plugin (recovery removes it), so the plugin exists once state.json does.
    const versions = join(txn, 'versions');
    const tree = new NewTree(txn).directory(versions, DIRECTORY_MODE);
    addVersion(tree, join(versions, input.identity.version), input);
    await tree.write(step);
    if ((await listDirectory(target)).length === 0) await makeDirectoryDurable(layout.data(name), DATA_MODE);
    await context.step('staged');
    await renameDurable(versions, layout.versions(name));
    await context.step('committed');
    await replaceFileAtomic(layout.state(name), storeJson(state), STATE_MODE, () => context.step('state-written'));
    await context.step('switched');
  }
  await rmdir(txn).catch(() => undefined);
  return { action: 'installed', plugin: await context.get(name), from: undefined, diff: undefined };
}

/** True when `<name>/` holds nothing but a data/ directory of publishers' data directories. */
async function holdsOnlyData(layout: StoreLayout, name: string): Promise<boolean> {
  const entries = await listDirectory(layout.plugin(name));
  if (entries.some((entry) => entry !== 'data')) return false;
  if (entries.length === 0) return true;
  const data = await lstat(layout.data(name));
  if (!data.isDirectory()) return false;
  for (const entry of await listDirectory(layout.data(name))) {
    if (!isPublisherKey(entry) || !(await lstat(join(layout.data(name), entry))).isDirectory()) return false;
  }
  return true;
}

/**
 * Installs another version of an installed plugin, keeping the one it replaces.
 * @throws ForgeError the codes of planUpgrade (FO_STORE_VERSION_EXISTS,
 *   FO_STORE_DOWNGRADE, FO_STORE_PUBLISHER_CHANGED, FO_STORE_APPROVAL_REQUIRED), FO_IO_*
 */
export async function installOver(context: InstallContext, state: StateFile, input: VersionInput, options: InstallOptions): Promise<InstallResult> {
  const { name, version } = input.identity;
  const { layout } = context;
  const current = await context.get(name);
  const plan = planUpgrade(current, { identity: input.identity, permissions: input.contents.manifest.permissions }, options);
  if (plan.kind === 'unchanged') return { action: 'unchanged', plugin: current, from: undefined, diff: undefined };
  if (!plan.reusePrevious) {
    const txn = join(layout.staging, transactionId());
    await makeDirectory(txn, DIRECTORY_MODE);
    await context.step('staging');
    const staged = join(txn, 'version');
    const approval = plan.diff.widens ? { approvedAt: input.installedAt, escalations: plan.diff.escalations } : undefined;
    const tree = new NewTree(txn);
    addVersion(tree, staged, approval === undefined ? input : { ...input, approval });
    await tree.write(() => context.step('file'));
    await context.step('staged');
    await renameDurable(staged, layout.version(name, version));
    await context.step('committed');
    await rmdir(txn).catch(() => undefined);
  }
  await context.switchState({ format: STORE_FORMAT, name, current: version, previous: current.version, switched_at: input.installedAt });
  // The version before the previous one is no longer reachable.
  if (state.previous !== undefined && state.previous !== version) await context.discard(layout.version(name, state.previous));
  return { action: plan.downgrade ? 'downgraded' : 'upgraded', plugin: await context.get(name), from: current.version, diff: plan.diff };
}
