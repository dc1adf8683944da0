/**
 * `pull`: the plugin manifest (its digest checked when the reference pins one, its
 * media and artifact types always), the layer (hashed while streaming, capped at
 * max_package_size), each signature referrer's bundle, and the package put back
 * together with its attestations/. The bytes returned are NOT trusted: they go through
 * the same verification as a local file (store.install, forge verify).
 */
import { ForgeError, describeValue } from '@forgeone/common';
import { ATTESTATIONS_PREFIX, DEFAULT_PACKAGE_LIMITS, readPackage, roleOf, writeArchive, type ArchiveFile, type PackageLimits } from '../../loader/index.js';
import type { OciClient } from './client.js';
import {
  MANIFEST_MEDIA_TYPE,
  PLUGIN_ARTIFACT_TYPE,
  PLUGIN_LAYER_MEDIA_TYPE,
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  TITLE_ANNOTATION,
  parseManifest,
  type Descriptor,
} from './manifest.js';
import { manifestTarget, formatReference, type OciReference } from './reference.js';
import { listReferrers } from './referrers.js';
import { fetchBlob, fetchManifest } from './remote.js';

/** How a pull goes. */
export interface PullOptions {
  /** Package limits: the layer is capped at maxPackageSize, manifests and bundles at maxManifestSize. */
  readonly limits?: PackageLimits;
  /** Refuse a plugin without signature referrers (FO_OCI_MISSING_SIGNATURE). Default true. */
  readonly requireSignatures?: boolean;
  /** Most signature referrers read. Default 16. */
  readonly maxSignatures?: number;
  /** Layer download progress, in bytes. */
  readonly onProgress?: (received: number, total: number) => void;
}

/** What a pull produced. */
export interface PullResult {
  /** The reassembled package (unverified). */
  readonly bytes: Buffer;
  /** `sha256:` of the plugin's manifest. */
  readonly digest: string;
  /** The attestation files taken from referrers. */
  readonly signatures: readonly string[];
}

function protocol(what: string, message: string): ForgeError {
  return new ForgeError('FO_OCI_PROTOCOL', `${what}: ${message}`, { details: { what } });
}

/** The one layer of `mediaType` of a manifest, or a protocol error. */
function onlyLayer(layers: readonly Descriptor[], mediaType: string, what: string): Descriptor {
  const [layer] = layers;
  if (layers.length !== 1 || layer === undefined || layer.mediaType !== mediaType) {
    throw protocol(what, `expected exactly one layer of ${mediaType}, found ${describeValue(layers.map((entry) => entry.mediaType).join(', '))}`);
  }
  return layer;
}

/**
 * Pulls the plugin at `ref` and reassembles its package.
 * @throws ForgeError FO_OCI_DIGEST_MISMATCH, FO_OCI_TOO_LARGE, FO_OCI_PROTOCOL, FO_OCI_MISSING_SIGNATURE,
 *   FO_OCI_NOT_FOUND, FO_OCI_UNAUTHORIZED, FO_OCI_UNREACHABLE, FO_OCI_CONNECTION_DROPPED, FO_OCI_SERVER_ERROR,
 *   and FO_PACKAGE_* when the layer is not a well-formed package
 */
export async function pullPackage(client: OciClient, ref: OciReference, options: PullOptions = {}): Promise<PullResult> {
  const limits = options.limits ?? DEFAULT_PACKAGE_LIMITS;
  const what = formatReference(ref);
  const fetched = await fetchManifest(client, ref.repository, manifestTarget(ref), [MANIFEST_MEDIA_TYPE], limits.maxManifestSize, ref.digest);
  const manifest = parseManifest(fetched.bytes, `manifest of ${what}`);
  if (manifest.artifactType !== PLUGIN_ARTIFACT_TYPE) {
    throw protocol(what, `expected artifactType ${PLUGIN_ARTIFACT_TYPE}, found ${describeValue(manifest.artifactType ?? 'none')}`);
  }
  const layerDescriptor = onlyLayer(manifest.layers, PLUGIN_LAYER_MEDIA_TYPE, `manifest of ${what}`);
  // The layer and the signatures are fetched side by side: their round trips overlap.
  const [contents, referrers] = await Promise.all([
    fetchBlob(client, ref.repository, layerDescriptor, limits.maxPackageSize, options.onProgress).then((layer) => readPackage(layer, limits)),
    listReferrers(client, ref.repository, fetched.digest, SIGSTORE_BUNDLE_MEDIA_TYPE),
  ]);
  const stray = contents.attestations[0];
  if (stray !== undefined) throw protocol(what, `expected a layer without attestations (they travel as referrers), found ${describeValue(stray.path)}`);
  const max = options.maxSignatures ?? 16;
  if (referrers.length > max) {
    throw new ForgeError('FO_OCI_TOO_LARGE', `${what}: expected at most ${max} signature referrers, found ${referrers.length}`, { details: { limit: max, actual: referrers.length } });
  }
  const bundles: ArchiveFile[] = [];
  for (const referrer of referrers) {
    const label = `signature ${referrer.digest} of ${what}`;
    const signed = await fetchManifest(client, ref.repository, referrer.digest, [MANIFEST_MEDIA_TYPE], limits.maxManifestSize, referrer.digest);
    const signature = parseManifest(signed.bytes, label);
    // SECURITY: a referrer listed under our digest must also name it as its subject: a
    // fallback index is writable by anyone who can push, and must not graft another plugin's signature.
    if (signature.subject?.digest !== fetched.digest) throw protocol(label, `expected subject ${fetched.digest}, found ${describeValue(signature.subject?.digest ?? 'none')}`);
    const bundleDescriptor = onlyLayer(signature.layers, SIGSTORE_BUNDLE_MEDIA_TYPE, label);
    const file = `${ATTESTATIONS_PREFIX}${bundleDescriptor.annotations?.[TITLE_ANNOTATION] ?? ''}`;
    if (roleOf(file) !== 'attestation' || bundles.some((entry) => entry.path === file)) {
      throw protocol(label, `expected a unique ${TITLE_ANNOTATION} of <name>.sigstore.json, found ${describeValue(file)}`);
    }
    bundles.push({ path: file, data: await fetchBlob(client, ref.repository, bundleDescriptor, limits.maxManifestSize) });
  }
  if (bundles.length === 0 && (options.requireSignatures ?? true)) {
    throw new ForgeError('FO_OCI_MISSING_SIGNATURE', `${what}: expected at least one signature referrer (${SIGSTORE_BUNDLE_MEDIA_TYPE}) of ${fetched.digest}, found none`, {
      details: { reference: what, digest: fetched.digest },
    });
  }
  const files: ArchiveFile[] = contents.files.map((file) => ({ path: file.path, data: contents.read(file.path) ?? Buffer.alloc(0) }));
  return { bytes: writeArchive([...files, ...bundles]), digest: fetched.digest, signatures: bundles.map((entry) => entry.path) };
}
