/**
 * `forge install REF` with dependencies: the plugin's dependencies are looked up in the
 * same registry, in the sibling repository named after each (`host/acme/hello` needs
 * `greeter` -> `host/acme/greeter`), at the newest semver tag in the required range.
 * Everything is pulled (and digest-checked) before anything is installed; then the store
 * installs dependencies first, each verified as a local file, and a failure uninstalls
 * what this install added, so nothing is left half-installed.
 *
 * Installed plugins count: one whose version is in range is used, one out of range is a
 * conflict (upgrade it on purpose first), never upgraded behind the operator's back.
 */
import { ForgeError } from '@forgeone/common';
import semver from 'semver';
import { readPackage } from '../../loader/index.js';
import type { Manifest } from '../../plugin/index.js';
import { startOrder } from '../resolver.js';
import type { PluginStore } from '../store/store.js';
import type { InstallOptions, InstallResult } from '../store/types.js';
import type { OciClient } from './client.js';
import { pullPackage, type PullOptions } from './pull.js';
import { formatReference, parseReference, type OciReference } from './reference.js';
import { listTags } from './tags.js';

/** One plugin to install: what was pulled and from where. */
export interface PlannedPlugin {
  readonly name: string;
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly reference: string;
  readonly bytes: Buffer;
}

/** Most plugins one install pulls (the root included). */
export const MAX_PLANNED = 64;

async function manifestOf(bytes: Buffer, options: PullOptions): Promise<Manifest> {
  return (await readPackage(bytes, ...(options.limits === undefined ? [] : [options.limits]))).manifest;
}

function sibling(root: OciReference, name: string, neededBy: string, range: string): OciReference {
  const parent = root.repository.includes('/') ? root.repository.slice(0, root.repository.lastIndexOf('/') + 1) : '';
  try {
    return parseReference(`${root.registry}/${parent}${name}:latest`);
  } catch (error) {
    throw new ForgeError('FO_DEPS_MISSING', `${neededBy} needs ${name} ${range}, whose name cannot be a repository on ${root.registry}`, { details: { name, range }, cause: error });
  }
}

/**
 * Pulls `root` and every dependency it needs that the store lacks, in install order
 * (dependencies first, the root last).
 * @throws ForgeError FO_DEPS_MISSING, FO_DEPS_CONFLICT, FO_DEPS_CYCLE, FO_DEPS_TOO_COMPLEX, every code of pullPackage
 */
export async function planFromRegistry(client: OciClient, root: OciReference, store: PluginStore, options: PullOptions = {}): Promise<PlannedPlugin[]> {
  const pulled = await pullPackage(client, root, { repack: 'fast', ...options });
  const manifest = await manifestOf(pulled.bytes, options);
  const plan = new Map<string, PlannedPlugin>([[manifest.name, { ...manifest, reference: formatReference(root), bytes: pulled.bytes }]]);
  const queue: PlannedPlugin[] = [...plan.values()];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    for (const [name, range] of Object.entries(current.dependencies).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const neededBy = `${current.name} ${current.version}`;
      const have = plan.get(name)?.version ?? (await store.find(name))?.version;
      if (have !== undefined) {
        if (!semver.satisfies(have, range)) {
          throw new ForgeError('FO_DEPS_CONFLICT', `${neededBy} needs ${name} ${range}, but ${name} ${have} is ${plan.has(name) ? 'needed by another plugin here' : 'installed (upgrade it first)'}`, {
            details: { name, range, have },
          });
        }
        continue;
      }
      if (plan.size >= MAX_PLANNED) throw new ForgeError('FO_DEPS_TOO_COMPLEX', `installing ${formatReference(root)} needs more than ${MAX_PLANNED} plugins`, { details: { limit: MAX_PLANNED } });
      const repository = sibling(root, name, neededBy, range);
      const tags = await listTags(client, repository.repository).catch((error: unknown) => {
        if (error instanceof ForgeError && error.code === 'FO_OCI_NOT_FOUND') return [];
        throw error;
      });
      const version = semver.maxSatisfying(tags.filter((tag) => semver.valid(tag) === tag), range);
      if (version === null) {
        throw new ForgeError('FO_DEPS_MISSING', `${neededBy} needs ${name} ${range}; ${repository.registry}/${repository.repository} has no tag in that range (tags: ${tags.slice(0, 10).join(', ') || 'none'})`, {
          details: { name, range, repository: `${repository.registry}/${repository.repository}` },
        });
      }
      const ref = { ...repository, tag: version };
      const bytes = (await pullPackage(client, ref, { repack: 'fast', ...options })).bytes;
      const found = await manifestOf(bytes, options);
      // SECURITY: the tag chose the package, but the package says what it is: they must agree.
      if (found.name !== name || found.version !== version) {
        throw new ForgeError('FO_OCI_PROTOCOL', `${formatReference(ref)}: expected plugin ${name} ${version}, the package is ${found.name} ${found.version}`, { details: { name, version } });
      }
      const planned = { ...found, reference: formatReference(ref), bytes };
      plan.set(name, planned);
      queue.push(planned);
    }
  }
  return startOrder([...plan.values()]);
}

/**
 * Installs `plan` in order. When one fails, the plugins this call installed are
 * uninstalled (newest first) and the failure is thrown.
 * @throws ForgeError every code of PluginStore.install
 */
export async function installPlan(store: PluginStore, plan: readonly PlannedPlugin[], options: InstallOptions = {}): Promise<InstallResult[]> {
  const done: InstallResult[] = [];
  try {
    for (const plugin of plan) done.push(await store.install(plugin.bytes, options));
  } catch (error) {
    for (const result of [...done].reverse()) {
      if (result.action === 'installed') await store.uninstall(result.plugin.name).catch(() => undefined);
    }
    throw error;
  }
  return done;
}
