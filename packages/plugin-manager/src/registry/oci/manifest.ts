/**
 * The OCI documents a plugin travels as (image-spec 1.1 artifacts): an image manifest
 * with `artifactType` application/vnd.forgeone.plugin.v1, the empty config and one
 * layer holding the package without its attestations; signatures as manifests whose
 * `subject` is the plugin's manifest; and image indexes listing referrers. Parsing
 * checks every field the puller relies on and nothing else.
 */
import { createHash } from 'node:crypto';
import { ForgeError, describeValue } from '@forgeone/common';

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
/** The plugin artifact's type. */
export const PLUGIN_ARTIFACT_TYPE = 'application/vnd.forgeone.plugin.v1';
/** The plugin layer: the package without attestations/, a deterministic tar.gz. */
export const PLUGIN_LAYER_MEDIA_TYPE = 'application/vnd.forgeone.plugin.v1+tar+gzip';
/** A signature: one Sigstore bundle v0.3. */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The annotation naming the bundle's file under attestations/. */
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
/** The empty config blob, `{}`. */
export const EMPTY_BLOB = Buffer.from('{}', 'utf8');

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An image manifest, as far as ForgeOne reads one. */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType: typeof MANIFEST_MEDIA_TYPE;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An image index (the referrers answer, or the fallback tag). */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType: typeof INDEX_MEDIA_TYPE;
  readonly manifests: readonly Descriptor[];
}

/** `sha256:<hex>` of `bytes`. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The descriptor of `bytes` as `mediaType`. */
export function describe(bytes: Uint8Array, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.byteLength, ...extra };
}

/** The descriptor of the empty config. */
export const EMPTY_DESCRIPTOR: Descriptor = describe(EMPTY_BLOB, EMPTY_MEDIA_TYPE);

/** A manifest's bytes: compact JSON, so its digest is stable. */
export function encode(document: ImageManifest | ImageIndex): Buffer {
  return Buffer.from(JSON.stringify(document), 'utf8');
}

function protocol(what: string, expected: string, found: unknown): ForgeError {
  return new ForgeError('FO_OCI_PROTOCOL', `${what}: expected ${expected}, found ${describeValue(typeof found === 'string' ? found : JSON.stringify(found) ?? String(found))}`, {
    details: { what, expected },
  });
}

function parseDescriptor(value: unknown, what: string): Descriptor {
  if (typeof value !== 'object' || value === null) throw protocol(what, 'a descriptor object', value);
  const { mediaType, digest, size, artifactType, annotations } = value as Record<string, unknown>;
  if (typeof mediaType !== 'string' || mediaType.length > 255) throw protocol(`${what}.mediaType`, 'a media type', mediaType);
  if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw protocol(`${what}.digest`, 'sha256:<64 hex digits>', digest);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw protocol(`${what}.size`, 'a non-negative integer', size);
  const out: { -readonly [K in keyof Descriptor]: Descriptor[K] } = { mediaType, digest, size };
  if (typeof artifactType === 'string') out.artifactType = artifactType;
  if (typeof annotations === 'object' && annotations !== null) {
    out.annotations = Object.fromEntries(Object.entries(annotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }
  return out;
}

function parseJson(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ForgeError('FO_OCI_PROTOCOL', `${what}: expected JSON, found bytes that do not parse`, { details: { what }, cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocol(what, 'a JSON object', value);
  if ((value as Record<string, unknown>)['schemaVersion'] !== 2) throw protocol(`${what}.schemaVersion`, '2', (value as Record<string, unknown>)['schemaVersion']);
  return value as Record<string, unknown>;
}

/**
 * Parses an image manifest.
 * @throws ForgeError FO_OCI_PROTOCOL naming the first bad field
 */
export function parseManifest(bytes: Uint8Array, what: string): ImageManifest {
  const value = parseJson(bytes, what);
  if (value['mediaType'] !== MANIFEST_MEDIA_TYPE) throw protocol(`${what}.mediaType`, MANIFEST_MEDIA_TYPE, value['mediaType']);
  const layers = value['layers'];
  if (!Array.isArray(layers) || layers.length > 64) throw protocol(`${what}.layers`, 'an array of at most 64 descriptors', layers);
  const artifactType = value['artifactType'];
  if (artifactType !== undefined && typeof artifactType !== 'string') throw protocol(`${what}.artifactType`, 'a string', artifactType);
  return {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    ...(typeof artifactType === 'string' ? { artifactType } : {}),
    config: parseDescriptor(value['config'], `${what}.config`),
    layers: layers.map((layer, index) => parseDescriptor(layer, `${what}.layers[${index}]`)),
    ...(value['subject'] === undefined ? {} : { subject: parseDescriptor(value['subject'], `${what}.subject`) }),
  };
}

/**
 * Parses an image index.
 * @throws ForgeError FO_OCI_PROTOCOL naming the first bad field
 */
export function parseIndex(bytes: Uint8Array, what: string): ImageIndex {
  const value = parseJson(bytes, what);
  const manifests = value['manifests'];
  if (value['mediaType'] !== undefined && value['mediaType'] !== INDEX_MEDIA_TYPE) throw protocol(`${what}.mediaType`, INDEX_MEDIA_TYPE, value['mediaType']);
  if (!Array.isArray(manifests) || manifests.length > 1024) throw protocol(`${what}.manifests`, 'an array of at most 1024 descriptors', manifests);
  return { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: manifests.map((entry, index) => parseDescriptor(entry, `${what}.manifests[${index}]`)) };
}

/** The plugin's manifest: empty config, one layer. */
export function pluginManifest(layer: Uint8Array, annotations: Readonly<Record<string, string>>): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: PLUGIN_ARTIFACT_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers: [describe(layer, PLUGIN_LAYER_MEDIA_TYPE)],
    annotations,
  };
}

/** A signature's manifest: empty config, one layer holding the bundle, `subject` the plugin. */
export function signatureManifest(bundle: Uint8Array, fileName: string, subject: Descriptor): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers: [describe(bundle, SIGSTORE_BUNDLE_MEDIA_TYPE, { annotations: { [TITLE_ANNOTATION]: fileName } })],
    subject,
    annotations: { [TITLE_ANNOTATION]: fileName },
  };
}
