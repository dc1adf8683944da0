/**
 * What one install by reference installs: the plugin and every dependency it needs that is
 * not installed, looked up in the place the plugin came from (a registry's sibling
 * repositories, dependencies.ts; an image layout's index, layout-plan.ts), at the newest
 * version in the required range. Everything is fetched (and digest-checked) before anything
 * is installed; then the store installs dependencies first, each verified as a local file,
 * and a failure uninstalls what this install added, so nothing is left half-installed.
 *
 * Installed plugins count: one whose version is in range is used, one out of range is a
 * conflict (upgrade it on purpose first), never upgraded behind the operator's back.
 */
import { ForgeError, toForgeError } from '@forgeone/common';
import semver from 'semver';
import { readPackage } from '../../loader/index.js';
import { startOrder } from '../resolver.js';
import type { PluginStore } from '../store/store.js';
import type { InstallOptions, InstallResult } from '../store/types.js';
import { reassemble, type PullOptions, type PulledArtifact } from './pull.js';

/** One plugin to install: what was fetched and from where. */
export interface PlannedPlugin {
  readonly name: string;
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly reference: string;
  /** The package put back together (unverified: the store verifies it). */
  readonly bytes: Buffer;
  /** Everything fetched, digests checked: what a layout mirror stores. */
  readonly artifact: PulledArtifact;
}

/** Most plugins one install fetches (the root included). */
export const MAX_PLANNED = 64;

/** Where a plan looks a plugin's dependencies up. */
export interface DependencySource {
  /** The versions (exact semver strings) `source` offers for plugin `name`, needed by `neededBy` in `range`. */
  versions(name: string, neededBy: string, range: string): Promise<readonly string[]>;
  /** Where `name` was looked up, for a message. */
  where(name: string): string;
  /** Plugin `name` at `version`, every digest checked, and the reference it was read from. */
  fetch(name: string, version: string): Promise<{ readonly reference: string; readonly artifact: PulledArtifact }>;
}

/** The version of `name` already installed, if any. */
export type VersionInstalled = (name: string) => Promise<string | undefined>;

/** The installed versions of `store`'s plugins. */
export function installedIn(store: PluginStore): VersionInstalled {
  return async (name) => (await store.find(name))?.version;
}

/** `artifact` as a plugin to install (its package read back for its manifest). */
export async function planned(reference: string, artifact: PulledArtifact, options: PullOptions): Promise<PlannedPlugin> {
  const bytes = reassemble(artifact, options.repack ?? 'fast');
  const { manifest } = await readPackage(bytes, ...(options.limits === undefined ? [] : [options.limits]));
  return { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies, reference, bytes, artifact };
}

/**
 * `root` and every dependency it needs that `installed` lacks, fetched from `source`, in
 * install order (dependencies first, the root last).
 * @throws ForgeError FO_DEPS_MISSING, FO_DEPS_CONFLICT, FO_DEPS_CYCLE, FO_DEPS_TOO_COMPLEX,
 *   FO_OCI_PROTOCOL (a package that is not the plugin and version it was listed as), every code of the source
 */
export async function resolvePlan(root: PlannedPlugin, source: DependencySource, installed: VersionInstalled, options: PullOptions = {}): Promise<PlannedPlugin[]> {
  const plan = new Map<string, PlannedPlugin>([[root.name, root]]);
  const queue: PlannedPlugin[] = [root];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    for (const [name, range] of Object.entries(current.dependencies).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const neededBy = `${current.name} ${current.version}`;
      const have = plan.get(name)?.version ?? (await installed(name));
      if (have !== undefined) {
        if (!semver.satisfies(have, range)) {
          throw new ForgeError('FO_DEPS_CONFLICT', `${neededBy} needs ${name} ${range}, but ${name} ${have} is ${plan.has(name) ? 'needed by another plugin here' : 'installed (upgrade it first)'}`, {
            details: { name, range, have },
          });
        }
        continue;
      }
      if (plan.size >= MAX_PLANNED) throw new ForgeError('FO_DEPS_TOO_COMPLEX', `installing ${root.reference} needs more than ${MAX_PLANNED} plugins`, { details: { limit: MAX_PLANNED } });
      const offered = (await source.versions(name, neededBy, range)).filter((version) => semver.valid(version) === version);
      const version = semver.maxSatisfying([...offered], range);
      if (version === null) {
        throw new ForgeError('FO_DEPS_MISSING', `${neededBy} needs ${name} ${range}; ${source.where(name)} has no version in that range (found: ${offered.slice(0, 10).join(', ') || 'none'})`, {
          details: { name, range, source: source.where(name) },
        });
      }
      const fetched = await source.fetch(name, version);
      const found = await planned(fetched.reference, fetched.artifact, options);
      // SECURITY: the tag or listing chose the package, but the package says what it is: they must agree.
      if (found.name !== name || found.version !== version) {
        throw new ForgeError('FO_OCI_PROTOCOL', `${fetched.reference}: expected plugin ${name} ${version}, the package is ${found.name} ${found.version}`, { details: { name, version } });
      }
      plan.set(name, found);
      queue.push(found);
    }
  }
  return startOrder([...plan.values()]);
}

/**
 * Installs `plan` in order. When one fails, the plugins this call installed are
 * uninstalled (newest first) and the failure is thrown; a removal that fails too is named
 * in its message and in `details.notRemoved`.
 * @throws ForgeError every code of PluginStore.install
 */
export async function installPlan(store: PluginStore, plan: readonly PlannedPlugin[], options: InstallOptions = {}): Promise<InstallResult[]> {
  const done: InstallResult[] = [];
  try {
    for (const plugin of plan) done.push(await store.install(plugin.bytes, options));
  } catch (error) {
    const notRemoved: { name: string; error: string }[] = [];
    for (const result of [...done].reverse()) {
      if (result.action !== 'installed') continue;
      await store.uninstall(result.plugin.name).catch((undo: unknown) => notRemoved.push({ name: result.plugin.name, error: toForgeError(undo).message }));
    }
    throw leftAfterUndo(error, notRemoved);
  }
  return done;
}

/**
 * `error` (an install that failed) as thrown once its undo ran: unchanged when the undo
 * removed everything, else with the plugins it could not remove named in its message and in
 * `details.notRemoved`, so the operator knows what is left.
 */
export function leftAfterUndo(error: unknown, notRemoved: readonly { readonly name: string; readonly error: string }[]): unknown {
  if (notRemoved.length === 0) return error;
  const failure = toForgeError(error);
  return new ForgeError(failure.code, `${failure.message}; undoing the install left ${notRemoved.map((entry) => `${entry.name} (${entry.error})`).join(', ')} installed`, {
    details: { ...failure.details, notRemoved },
    cause: failure,
  });
}
