/**
 * An OCI image layout on disk (image-spec `oci-layout`, `index.json`, `blobs/sha256/<hex>`)
 * for mirroring pulled plugins: `forge pull REF --to DIR`. The plugin's manifest is listed
 * in index.json under `org.opencontainers.image.ref.name` = its tag, and each signature
 * manifest beside it (a layout's referrers are the manifests whose `subject` names it).
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

/**
 * Adds `artifact` to the image layout at `dir` (created when absent), under `refName`
 * when given; an entry with the same ref name is replaced.
 * @returns the plugin manifest's descriptor as listed
 * @throws ForgeError FO_OCI_PROTOCOL or FO_OCI_TOO_LARGE (an existing index.json that is not an image index), FO_IO_*
 */
export async function writeLayout(dir: string, artifact: PulledArtifact, refName: string | undefined): Promise<Descriptor> {
  try {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), OCI_LAYOUT);
    await writeBlob(dir, EMPTY_BLOB);
    await writeBlob(dir, artifact.layer.bytes);
    await writeBlob(dir, artifact.manifest.bytes);
    for (const signature of artifact.signatures) {
      await writeBlob(dir, signature.bundle.bytes);
      await writeBlob(dir, signature.manifest);
    }
    const plugin = describe(artifact.manifest.bytes, MANIFEST_MEDIA_TYPE, {
      artifactType: PLUGIN_ARTIFACT_TYPE,
      ...(refName === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: refName } }),
    });
    const added = [plugin, ...artifact.signatures.map((signature) => describe(signature.manifest, MANIFEST_MEDIA_TYPE, signature.descriptor.artifactType === undefined ? {} : { artifactType: signature.descriptor.artifactType }))];
    const digests = new Set(added.map((entry) => entry.digest));
    const kept = (await readIndex(dir)).filter(
      (entry) => !digests.has(entry.digest) && (refName === undefined || entry.annotations?.[REF_NAME_ANNOTATION] !== refName),
    );
    const index = encode({ schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [...kept, ...added] });
    const temp = join(dir, `index.json.${process.pid}.partial`);
    await writeFile(temp, index);
    await rename(temp, join(dir, 'index.json')).catch(async (error: unknown) => {
      await rm(temp, { force: true });
      throw error;
    });
    return plugin;
  } catch (error) {
    throw fromFsError(error, 'write the image layout', dir);
  }
}
