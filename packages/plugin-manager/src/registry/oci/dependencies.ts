/**
 * `forge install REF` with dependencies: the plugin's dependencies are looked up in the
 * same registry, in the sibling repository named after each (`host/acme/hello` needs
 * `greeter` -> `host/acme/greeter`), at the newest semver tag in the required range
 * (plan.ts resolves, fetches everything first and installs).
 */
import { ForgeError } from '@forgeone/common';
import type { PluginStore } from '../store/store.js';
import type { OciClient } from './client.js';
import { installedIn, planned, resolvePlan, type DependencySource, type VersionInstalled, type PlannedPlugin } from './plan.js';
import { pullArtifact, type PullOptions } from './pull.js';
import { formatReference, parseReference, type OciReference } from './reference.js';
import { listTags } from './tags.js';

/** `root`'s repository path up to its last `/`, with it (empty for a top-level repository). */
function parentOf(root: OciReference): string {
  return root.repository.includes('/') ? root.repository.slice(0, root.repository.lastIndexOf('/') + 1) : '';
}

function sibling(root: OciReference, name: string, neededBy: string, range: string): OciReference {
  try {
    return parseReference(`${root.registry}/${parentOf(root)}${name}:latest`);
  } catch (error) {
    throw new ForgeError('FO_DEPS_MISSING', `${neededBy} needs ${name} ${range}, whose name cannot be a repository on ${root.registry}`, { details: { name, range }, cause: error });
  }
}

/** The sibling repositories of `root` on its registry, as a dependency source. */
export function registryDependencies(client: OciClient, root: OciReference, options: PullOptions = {}): DependencySource {
  return {
    where: (name) => `${root.registry}/${parentOf(root)}${name}`,
    async versions(name, neededBy, range) {
      const repository = sibling(root, name, neededBy, range);
      return listTags(client, repository.repository).catch((error: unknown) => {
        if (error instanceof ForgeError && error.code === 'FO_OCI_NOT_FOUND') return [];
        throw error;
      });
    },
    async fetch(name, version) {
      const ref = { ...sibling(root, name, `${name} ${version}`, version), tag: version };
      return { reference: formatReference(ref), artifact: await pullArtifact(client, ref, options) };
    },
  };
}

/**
 * Pulls `root` and every dependency it needs that `installed` lacks (by default: that
 * `store` lacks; `() => undefined` for all of them, as a mirror wants), in install order
 * (dependencies first, the root last).
 * @throws ForgeError FO_DEPS_MISSING, FO_DEPS_CONFLICT, FO_DEPS_CYCLE, FO_DEPS_TOO_COMPLEX, every code of pullArtifact
 */
export async function planFromRegistry(client: OciClient, root: OciReference, store: PluginStore | VersionInstalled, options: PullOptions = {}): Promise<PlannedPlugin[]> {
  const first = await planned(formatReference(root), await pullArtifact(client, root, options), options);
  return resolvePlan(first, registryDependencies(client, root, options), typeof store === 'function' ? store : installedIn(store), options);
}
