/**
 * An OCI image layout on disk (image-spec `oci-layout`, `index.json`, `blobs/sha256/<hex>`)
 * for mirroring pulled plugins: `forge pull REF --to DIR`. The plugin's manifest is listed
 * in index.json under `org.opencontainers.image.ref.name` = its tag (a dependency mirrored
 * with it: `NAME:VERSION`) with its plugin name and version as annotations, and each
 * signature manifest beside it (a layout's referrers are the manifests whose `subject`
 * names it).
 * Blobs are content-addressed and written by rename; index.json is replaced last, so a
 * failure leaves at worst unreferenced blobs, never an index naming a missing blob.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { EMPTY_BLOB, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, PLUGIN_ARTIFACT_TYPE, describe, encode, parseIndex, type Descriptor } from './manifest.js';
import type { PulledArtifact } from './pull.js';
import { MAX_INDEX_SIZE } from './referrers.js';

/** The ref-name annotation of an image layout's index. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** The plugin name and version a layout lists a plugin manifest under: a hint, checked against the package (layout-plan.ts). */
export const PLUGIN_NAME_ANNOTATION = 'io.forgeone.plugin.name';
export const PLUGIN_VERSION_ANNOTATION = 'io.forgeone.plugin.version';
const OCI_LAYOUT = `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`;

async function writeBlob(dir: string, bytes: Uint8Array): Promise<void> {
  const { digest } = describe(bytes, '');
  const path = join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const present = await stat(path).catch(() => undefined);
  if (present?.isFile() === true && present.size === bytes.byteLength) return;
  const temp = `${path}.${process.pid}.partial`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}

/** The manifests index.json lists (none when there is no index.json). */
export async function readIndex(dir: string): Promise<readonly Descriptor[]> {
  const path = join(dir, 'index.json');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  if (bytes.length > MAX_INDEX_SIZE) throw new ForgeError('FO_OCI_TOO_LARGE', `${path}: expected at most ${MAX_INDEX_SIZE} bytes, found ${bytes.length}`, { details: { path } });
  return parseIndex(bytes, path).manifests;
}

/** One plugin to add to a layout. */
export interface LayoutEntry {
  readonly artifact: PulledArtifact;
  /** Its ref name in index.json (an entry with the same ref name is replaced). */
  readonly refName?: string | undefined;
  /** The plugin's name and version, listed as annotations for dependency lookup (layout-plan.ts). */
  readonly plugin?: { readonly name: string; readonly version: string };
}

/** The descriptor index.json lists for `entry`'s plugin manifest. */
function pluginDescriptor(entry: LayoutEntry): Descriptor {
  const annotations: Record<string, string> = {};
  if (entry.refName !== undefined) annotations[REF_NAME_ANNOTATION] = entry.refName;
  if (entry.plugin !== undefined) {
    annotations[PLUGIN_NAME_ANNOTATION] = entry.plugin.name;
    annotations[PLUGIN_VERSION_ANNOTATION] = entry.plugin.version;
  }
  return describe(entry.artifact.manifest.bytes, MANIFEST_MEDIA_TYPE, { artifactType: PLUGIN_ARTIFACT_TYPE, ...(Object.keys(annotations).length === 0 ? {} : { annotations }) });
}

/** Two descriptors list the same thing: the same manifest under the same ref name (or both without one). */
function sameListing(a: Descriptor, b: Descriptor): boolean {
  return a.digest === b.digest && a.annotations?.[REF_NAME_ANNOTATION] === b.annotations?.[REF_NAME_ANNOTATION];
}

/**
 * Adds `entries` to the image layout at `dir` (created when absent), each plugin manifest
 * under its ref name when it has one and with its signature manifests beside it. An entry
 * with a ref name given here is replaced; the same manifest may be listed under several
 * ref names. index.json is written once, after every blob.
 * @returns the plugin manifests' descriptors as listed, in the order of `entries`
 * @throws ForgeError FO_OCI_PROTOCOL or FO_OCI_TOO_LARGE (an existing index.json that is not an image index), FO_IO_*
 */
export async function writeLayout(dir: string, entries: readonly LayoutEntry[]): Promise<Descriptor[]> {
  try {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), OCI_LAYOUT);
    await writeBlob(dir, EMPTY_BLOB);
    const added: Descriptor[] = [];
    const plugins: Descriptor[] = [];
    for (const entry of entries) {
      const { artifact } = entry;
      await writeBlob(dir, artifact.layer.bytes);
      await writeBlob(dir, artifact.manifest.bytes);
      for (const signature of artifact.signatures) {
        await writeBlob(dir, signature.bundle.bytes);
        await writeBlob(dir, signature.manifest);
      }
      const plugin = pluginDescriptor(entry);
      plugins.push(plugin);
      const signatures = artifact.signatures.map((signature) => describe(signature.manifest, MANIFEST_MEDIA_TYPE, signature.descriptor.artifactType === undefined ? {} : { artifactType: signature.descriptor.artifactType }));
      for (const descriptor of [plugin, ...signatures]) if (!added.some((other) => sameListing(other, descriptor))) added.push(descriptor);
    }
    const names = new Set(entries.flatMap((entry) => (entry.refName === undefined ? [] : [entry.refName])));
    const kept = (await readIndex(dir)).filter((listed) => {
      const name = listed.annotations?.[REF_NAME_ANNOTATION];
      return !(name !== undefined && names.has(name)) && !added.some((descriptor) => sameListing(descriptor, listed));
    });
    const index = encode({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [...kept, ...added] });
    const temp = join(dir, `index.json.${process.pid}.partial`);
    await writeFile(temp, index);
    await rename(temp, join(dir, 'index.json')).catch(async (error: unknown) => {
      await rm(temp, { force: true });
      throw error;
    });
    return plugins;
  } catch (error) {
    throw fromFsError(error, 'write the image layout', dir);
  }
}
