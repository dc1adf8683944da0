/**
 * `forge install oci:DIR[:TAG]` with dependencies, offline: a plugin's dependencies are
 * looked up in the same image layout, among the plugin manifests index.json lists with a
 * plugin name annotation (layout.ts: `forge pull --to` lists every plugin it mirrors so),
 * at the newest version in range. The annotations only choose: the package read back must
 * be that plugin and version (plan.ts), every blob is digest-checked (layout-source.ts).
 */
import { ForgeError } from '@forgeone/common';
import { PLUGIN_NAME_ANNOTATION, PLUGIN_VERSION_ANNOTATION, readIndex } from './layout.js';
import { layoutSource } from './layout-source.js';
import { PLUGIN_ARTIFACT_TYPE, type Descriptor } from './manifest.js';
import { planned, resolvePlan, type DependencySource, type VersionInstalled, type PlannedPlugin } from './plan.js';
import { readArtifact, type PullOptions } from './pull.js';

/** The plugin manifests `index` lists as plugin `name`, by version: digests, de-duplicated. */
function listed(index: readonly Descriptor[], name: string): Map<string, Set<string>> {
  const versions = new Map<string, Set<string>>();
  for (const entry of index) {
    const version = entry.annotations?.[PLUGIN_VERSION_ANNOTATION];
    if (entry.artifactType !== PLUGIN_ARTIFACT_TYPE || entry.annotations?.[PLUGIN_NAME_ANNOTATION] !== name || version === undefined) continue;
    versions.set(version, (versions.get(version) ?? new Set()).add(entry.digest));
  }
  return versions;
}

/** The plugins of the image layout at `dir` as a dependency source. */
export function layoutDependencies(dir: string, options: PullOptions = {}): DependencySource {
  let index: Promise<readonly Descriptor[]> | undefined;
  const source = layoutSource(dir);
  return {
    where: () => `image layout ${dir}`,
    versions: async (name) => [...listed(await (index ??= readIndex(dir)), name).keys()],
    async fetch(name, version) {
      const digests = [...(listed(await (index ??= readIndex(dir)), name).get(version) ?? [])];
      const [digest] = digests;
      if (digest === undefined) throw new ForgeError('FO_OCI_NOT_FOUND', `image layout ${dir}: no plugin ${name} ${version} in index.json`, { details: { dir, name, version } });
      if (digests.length > 1) {
        throw new ForgeError('FO_OCI_PROTOCOL', `image layout ${dir}: ${digests.length} different manifests are listed as ${name} ${version}`, { details: { dir, name, version, digests } });
      }
      const reference = `oci:${dir}@${digest}`;
      return { reference, artifact: await readArtifact(source, reference, digest, digest, options) };
    },
  };
}

/**
 * Reads `tag`'s plugin from the image layout at `dir` and every dependency it needs that
 * `installed` lacks, from the same layout, in install order (dependencies first).
 * @throws ForgeError FO_DEPS_*, FO_OCI_* (see resolvePlan and readArtifact)
 */
export async function planFromLayout(dir: string, tag: string, installed: VersionInstalled, options: PullOptions = {}): Promise<PlannedPlugin[]> {
  const reference = `oci:${dir}:${tag}`;
  const root = await planned(reference, await readArtifact(layoutSource(dir), reference, tag, undefined, options), options);
  return resolvePlan(root, layoutDependencies(dir, options), installed, options);
}
