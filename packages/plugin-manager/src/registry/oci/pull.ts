/**
 * `pull`: the plugin manifest (its digest checked when the reference pins one, its
 * media and artifact types always), the layer (hashed while streaming, capped at
 * max_package_size), each signature referrer's bundle, and the package put back
 * together with its attestations/. The bytes returned are NOT trusted: they go through
 * the same verification as a local file (store.install, forge verify).
 */
import { ForgeError, describeValue, toForgeError } from '@forgeone/common';
import { ATTESTATIONS_PREFIX, DEFAULT_PACKAGE_LIMITS, readPackage, roleOf, writeArchive, type ArchiveFile, type PackageInMemory, type PackageLimits } from '../../loader/index.js';
import type { OciClient } from './client.js';
import {
  PLUGIN_ARTIFACT_TYPE,
  PLUGIN_LAYER_MEDIA_TYPE,
  SIGSTORE_BUNDLE_MEDIA_TYPE,
  TITLE_ANNOTATION,
  parseManifest,
  type Descriptor,
} from './manifest.js';
import { manifestTarget, formatReference, type OciReference } from './reference.js';
import { registrySource, type ArtifactSource } from './source.js';

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
  /**
   * How {@link pullPackage} re-packs: `identical` (default), deflate level 9, the bytes
   * `forge pack` made and pushed; `fast`, for a package that is installed rather than
   * handed on (the same files and content digest, other file bytes): stored when the
   * layer hardly compressed, else level 1 (for 1 MiB of random bytes 2 ms instead of 21).
   */
  readonly repack?: 'identical' | 'fast';
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

/** One signature as pulled: its manifest and its bundle, both digest-checked. */
export interface PulledSignature {
  /** The descriptor the referrers list gave (artifactType, annotations). */
  readonly descriptor: Descriptor;
  readonly manifest: Buffer;
  readonly bundle: { readonly descriptor: Descriptor; readonly bytes: Buffer };
  /** `attestations/<name>.sigstore.json`. */
  readonly file: string;
}

/** Everything a pull fetched, every digest checked: what a layout mirror stores. */
export interface PulledArtifact {
  readonly manifest: { readonly bytes: Buffer; readonly digest: string };
  readonly layer: { readonly descriptor: Descriptor; readonly bytes: Buffer; readonly contents: PackageInMemory };
  readonly signatures: readonly PulledSignature[];
}

async function pullSignature(source: ArtifactSource, what: string, referrer: Descriptor, subject: string, limits: PackageLimits): Promise<PulledSignature> {
  const label = `signature ${referrer.digest} of ${what}`;
  const signed = await source.manifest(referrer.digest, limits.maxManifestSize, referrer.digest);
  const signature = parseManifest(signed.bytes, label);
  // SECURITY: a referrer listed under our digest must also name it as its subject: a
  // fallback index is writable by anyone who can push, and must not graft another plugin's signature.
  if (signature.subject?.digest !== subject) throw protocol(label, `expected subject ${subject}, found ${describeValue(signature.subject?.digest ?? 'none')}`);
  const bundleDescriptor = onlyLayer(signature.layers, SIGSTORE_BUNDLE_MEDIA_TYPE, label);
  const file = `${ATTESTATIONS_PREFIX}${bundleDescriptor.annotations?.[TITLE_ANNOTATION] ?? ''}`;
  if (roleOf(file) !== 'attestation') throw protocol(label, `expected a ${TITLE_ANNOTATION} of <name>.sigstore.json, found ${describeValue(file)}`);
  const bytes = await source.blob(bundleDescriptor, limits.maxManifestSize);
  return { descriptor: referrer, manifest: signed.bytes, bundle: { descriptor: bundleDescriptor, bytes }, file };
}

/** The signature referrers of `subject`: at most `max`, each pulled and digest-checked, their file names unique. */
async function pullSignatures(source: ArtifactSource, what: string, subject: string, limits: PackageLimits, max: number): Promise<PulledSignature[]> {
  const referrers = await source.referrers(subject, SIGSTORE_BUNDLE_MEDIA_TYPE);
  if (referrers.length > max) {
    throw new ForgeError('FO_OCI_TOO_LARGE', `${what}: expected at most ${max} signature referrers, found ${referrers.length}`, { details: { limit: max, actual: referrers.length } });
  }
  const signatures: PulledSignature[] = [];
  for (const referrer of referrers) {
    const signature = await pullSignature(source, what, referrer, subject, limits);
    if (signatures.some((entry) => entry.file === signature.file)) throw protocol(what, `expected unique signature file names, found ${describeValue(signature.file)} twice`);
    signatures.push(signature);
  }
  return signatures;
}

/**
 * Pulls the plugin at `ref`: its manifest, layer and signature referrers, every digest
 * and size checked, the layer read as a package under the limits.
 * @throws ForgeError FO_OCI_DIGEST_MISMATCH, FO_OCI_TOO_LARGE, FO_OCI_PROTOCOL, FO_OCI_MISSING_SIGNATURE,
 *   FO_OCI_NOT_FOUND, FO_OCI_UNAUTHORIZED, FO_OCI_UNREACHABLE, FO_OCI_CONNECTION_DROPPED, FO_OCI_SERVER_ERROR,
 *   and FO_PACKAGE_* when the layer is not a well-formed package
 */
export function pullArtifact(client: OciClient, ref: OciReference, options: PullOptions = {}): Promise<PulledArtifact> {
  return readArtifact(registrySource(client, ref.repository), formatReference(ref), manifestTarget(ref), ref.digest, options);
}

/**
 * {@link pullArtifact} from any source: `target` is the tag or digest, `expected` the
 * digest the manifest must hash to, `what` names it in messages.
 * @throws ForgeError the codes of {@link pullArtifact}
 */
export async function readArtifact(source: ArtifactSource, what: string, target: string, expected: string | undefined, options: PullOptions = {}): Promise<PulledArtifact> {
  const limits = options.limits ?? DEFAULT_PACKAGE_LIMITS;
  const fetched = await source.manifest(target, limits.maxManifestSize, expected);
  const manifest = parseManifest(fetched.bytes, `manifest of ${what}`);
  if (manifest.artifactType !== PLUGIN_ARTIFACT_TYPE) {
    throw protocol(what, `expected artifactType ${PLUGIN_ARTIFACT_TYPE}, found ${describeValue(manifest.artifactType ?? 'none')}`);
  }
  const layerDescriptor = onlyLayer(manifest.layers, PLUGIN_LAYER_MEDIA_TYPE, `manifest of ${what}`);
  // The layer and the signatures are fetched side by side: the signatures' round trips
  // (up to four) overlap the layer's download and its reading as a package. Both settle before
  // either's failure is reported (the layer's first), so nothing is left in flight.
  const [layerOutcome, signaturesOutcome] = await Promise.allSettled([
    source.blob(layerDescriptor, limits.maxPackageSize, options.onProgress).then(async (bytes) => ({ bytes, contents: await readPackage(bytes, limits) })),
    pullSignatures(source, what, fetched.digest, limits, options.maxSignatures ?? 16),
  ]);
  if (layerOutcome.status === 'rejected') throw toForgeError(layerOutcome.reason);
  const layer = layerOutcome.value;
  const stray = layer.contents.attestations[0];
  if (stray !== undefined) throw protocol(what, `expected a layer without attestations (they travel as referrers), found ${describeValue(stray.path)}`);
  if (signaturesOutcome.status === 'rejected') throw toForgeError(signaturesOutcome.reason);
  const signatures = signaturesOutcome.value;
  if (signatures.length === 0 && (options.requireSignatures ?? true)) {
    throw new ForgeError('FO_OCI_MISSING_SIGNATURE', `${what}: expected at least one signature referrer (${SIGSTORE_BUNDLE_MEDIA_TYPE}) of ${fetched.digest}, found none`, {
      details: { reference: what, digest: fetched.digest },
    });
  }
  return { manifest: { bytes: fetched.bytes, digest: fetched.digest }, layer: { descriptor: layerDescriptor, ...layer }, signatures };
}

/** The package an artifact holds: the layer's files and the signatures under attestations/. */
export function reassemble(artifact: PulledArtifact, repack: 'identical' | 'fast' = 'identical'): Buffer {
  const { contents } = artifact.layer;
  const files: ArchiveFile[] = contents.files.map((file) => ({ path: file.path, data: contents.read(file.path) ?? Buffer.alloc(0) }));
  const all = [...files, ...artifact.signatures.map((signature) => ({ path: signature.file, data: signature.bundle.bytes }))];
  if (repack === 'identical') return writeArchive(all);
  // Fast: a layer that hardly compressed (over 90% of its files' size) is stored (deflate
  // level 0: 1 MiB of such bytes in 2 ms, not the 20 any other level spends on them),
  // anything else at level 1; either way no bigger than the package limits allowed the layer.
  const raw = files.reduce((sum, file) => sum + file.data.length, 0);
  return writeArchive(all, artifact.layer.bytes.length >= 0.9 * raw ? 0 : 1);
}

/**
 * Pulls the plugin at `ref` and reassembles its package.
 * @throws ForgeError every code of {@link pullArtifact}
 */
export async function pullPackage(client: OciClient, ref: OciReference, options: PullOptions = {}): Promise<PullResult> {
  const artifact = await pullArtifact(client, ref, options);
  return { bytes: reassemble(artifact, options.repack), digest: artifact.manifest.digest, signatures: artifact.signatures.map((signature) => signature.file) };
}
