/**
 * `push`: a package goes up as the plugin artifact (empty config, one layer holding the
 * package without attestations/) and each attestations/<name>.sigstore.json as its own
 * referrer artifact whose subject is the plugin's manifest.
 */
import { ForgeError } from '@forgeone/common';
import { ATTESTATIONS_PREFIX, DEFAULT_PACKAGE_LIMITS, isSignedContent, readPackage, writeArchive, type PackageInMemory, type PackageLimits } from '../../loader/index.js';
import type { OciClient } from './client.js';
import { EMPTY_BLOB, MANIFEST_MEDIA_TYPE, describe, encode, pluginManifest, signatureManifest } from './manifest.js';
import { formatReference, type OciReference } from './reference.js';
import { addReferrer } from './referrers.js';
import { putManifest } from './remote.js';
import { uploadBlob } from './upload.js';

/** How a push goes. */
export interface PushOptions {
  /** Limits the package is read under before it is split. Default: the configuration defaults. */
  readonly limits?: PackageLimits;
  /** Upload blobs larger than this many bytes in PATCH chunks of this size. Default: monolithic. */
  readonly chunkSize?: number;
  /** A repository on the same registry to mount blobs from (cross-repository mount). */
  readonly mountFrom?: string;
  /** Layer upload progress, in bytes. */
  readonly onProgress?: (sent: number, total: number) => void;
}

/** What a push did. */
export interface PushResult {
  /** The reference, pinned: `host/repo:tag@sha256:...`. */
  readonly reference: string;
  /** `sha256:` of the plugin's manifest. */
  readonly digest: string;
  /** The layer's digest and size in bytes. */
  readonly layer: { readonly digest: string; readonly size: number; readonly outcome: string };
  /** The digests of the signature referrers pushed, one per attestation. */
  readonly signatures: readonly { readonly file: string; readonly digest: string }[];
}

/** The layer: the package's signed content, re-packed (deterministic, so the same package always gives the same layer). */
export function pluginLayer(contents: PackageInMemory): Buffer {
  return writeArchive(contents.files.filter((file) => isSignedContent(file.path)).map((file) => ({ path: file.path, data: contents.read(file.path) ?? Buffer.alloc(0) })));
}

/**
 * Pushes `source` (package bytes) to `ref`.
 * @throws ForgeError FO_PACKAGE_* / FO_MANIFEST_* (the package is read first), FO_OCI_DIGEST_MISMATCH
 *   (the reference pins another digest), and every FO_OCI_* code of the client
 */
export async function pushPackage(client: OciClient, ref: OciReference, source: Uint8Array, options: PushOptions = {}): Promise<PushResult> {
  const contents = await readPackage(source, options.limits ?? DEFAULT_PACKAGE_LIMITS);
  const layer = pluginLayer(contents);
  const manifest = pluginManifest(layer, {
    'org.opencontainers.image.title': `${contents.manifest.name}-${contents.manifest.version}.forgepkg`,
    'org.opencontainers.image.version': contents.manifest.version,
    'dev.forgeone.plugin.name': contents.manifest.name,
    'dev.forgeone.plugin.digest': contents.digest,
  });
  const manifestBytes = encode(manifest);
  const descriptor = describe(manifestBytes, MANIFEST_MEDIA_TYPE, { artifactType: manifest.artifactType ?? '' });
  if (ref.digest !== undefined && ref.digest !== descriptor.digest) {
    throw new ForgeError('FO_OCI_DIGEST_MISMATCH', `${formatReference(ref)}: the reference pins ${ref.digest}, this package's manifest is ${descriptor.digest}`, {
      details: { expected: ref.digest, actual: descriptor.digest },
    });
  }
  const upload = { ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }), ...(options.mountFrom === undefined ? {} : { mountFrom: options.mountFrom }) };
  await uploadBlob(client, ref.repository, EMPTY_BLOB, upload);
  const outcome = await uploadBlob(client, ref.repository, layer, { ...upload, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
  await putManifest(client, ref.repository, ref.tag ?? descriptor.digest, manifestBytes, MANIFEST_MEDIA_TYPE);
  const signatures: { file: string; digest: string }[] = [];
  for (const attestation of contents.attestations) {
    const file = attestation.path.slice(ATTESTATIONS_PREFIX.length);
    const bundle = contents.read(attestation.path) ?? Buffer.alloc(0);
    const signature = encode(signatureManifest(bundle, file, descriptor));
    await uploadBlob(client, ref.repository, bundle, upload);
    const signatureDescriptor = describe(signature, MANIFEST_MEDIA_TYPE, { artifactType: signatureManifest(bundle, file, descriptor).artifactType ?? '', annotations: { 'org.opencontainers.image.title': file } });
    const put = await putManifest(client, ref.repository, signatureDescriptor.digest, signature, MANIFEST_MEDIA_TYPE);
    await addReferrer(client, ref.repository, descriptor.digest, signatureDescriptor, put.subjectIndexed);
    signatures.push({ file, digest: signatureDescriptor.digest });
  }
  return {
    reference: `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}@${descriptor.digest}`,
    digest: descriptor.digest,
    layer: { digest: manifest.layers[0]?.digest ?? '', size: layer.byteLength, outcome },
    signatures,
  };
}
