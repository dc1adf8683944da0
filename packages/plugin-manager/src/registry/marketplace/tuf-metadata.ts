/**
 * The repository side of TUF, which tuf-js does not provide: Ed25519 role keys and
 * signed root, targets, snapshot and timestamp metadata.
 *
 * Metadata is built as plain JSON, parsed with @tufjs/models (the classes the tuf-js
 * client verifies with) and signed over that parse's canonical JSON
 * (OLPC canonical form, its `Metadata.sign`), so the bytes signed here are exactly
 * the bytes the client's `verifyDelegate` checks. Keys are referred to by TUF key ids:
 * the sha256 of the canonical JSON of the public key object.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { ForgeError } from '@forgeone/common';
import { Metadata, MetadataKind, Signature } from '@tufjs/models';

/** The four top-level TUF roles. */
export const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** A role key: its TUF key id, the public key object root.json lists, and the private key. */
export interface RoleKey {
  readonly keyid: string;
  readonly publicJson: { keytype: 'ed25519'; scheme: 'ed25519'; keyval: { public: string } };
  readonly privateKey: KeyObject;
}

/** The TUF public key object for an Ed25519 public key: its 32 raw bytes, hex. */
function publicJsonOf(publicKey: KeyObject): RoleKey['publicJson'] {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  // An Ed25519 SPKI is a fixed 12-byte header followed by the 32-byte key.
  return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: der.subarray(der.length - 32).toString('hex') } };
}

/** A role key from its private key. */
export function roleKeyOf(privateKey: KeyObject): RoleKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `a marketplace role key must be Ed25519, found ${privateKey.asymmetricKeyType ?? 'an unknown type'}`);
  }
  const publicJson = publicJsonOf(createPublicKey(privateKey));
  // Canonical JSON of this fixed shape: keys in sorted order, and hex strings need no escaping.
  const canonical = JSON.stringify({ keytype: publicJson.keytype, keyval: { public: publicJson.keyval.public }, scheme: publicJson.scheme });
  const keyid = createHash('sha256').update(canonical).digest('hex');
  return { keyid, publicJson, privateKey };
}

/** A new Ed25519 role key. */
export function generateRoleKey(): RoleKey {
  return roleKeyOf(generateKeyPairSync('ed25519').privateKey);
}

/** The key as PKCS#8 PEM, for the repository's keys/ directory (mode 0600). */
export function roleKeyPem(key: RoleKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * A role key from PKCS#8 PEM.
 * @throws ForgeError FO_MARKET_REPOSITORY_INVALID when it is not an Ed25519 private key
 */
export function roleKeyFromPem(pem: string, file: string): RoleKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new ForgeError('FO_MARKET_REPOSITORY_INVALID', `${file} is not a PEM private key: ${(error as Error).message}`, { details: { file }, cause: error });
  }
  return roleKeyOf(key);
}

/** A TUF `expires` value: UTC, whole seconds, as the specification writes it. */
export function tufTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

const KIND: Record<Role, MetadataKind> = {
  root: MetadataKind.Root,
  targets: MetadataKind.Targets,
  snapshot: MetadataKind.Snapshot,
  timestamp: MetadataKind.Timestamp,
};

/**
 * Signs a role's `signed` object with `keys` and returns the file's bytes.
 *
 * @param signed the `signed` part as plain JSON (`_type` must be `role`)
 */
export function signMetadata(role: Role, signed: Record<string, unknown>, keys: readonly RoleKey[]): Buffer {
  // fromJSON's overloads take one literal kind each; any of the four parses the same way.
  const data = { signed, signatures: [] } as unknown as Parameters<typeof Metadata.fromJSON>[1];
  const metadata = Metadata.fromJSON(KIND[role] as MetadataKind.Targets, data);
  for (const key of keys) {
    metadata.sign((bytes) => new Signature({ keyID: key.keyid, sig: sign(null, bytes, key.privateKey).toString('hex') }));
  }
  return Buffer.from(`${JSON.stringify(metadata.toJSON(), null, 1)}\n`);
}

/** The `length` and `hashes` TUF records for a file. */
export function fileInfo(bytes: Uint8Array): { length: number; hashes: { sha256: string } } {
  return { length: bytes.length, hashes: { sha256: createHash('sha256').update(bytes).digest('hex') } };
}

/** The thresholds and keys of a root: one key per role, threshold 1 (what `forge marketplace init` makes). */
export function rootSigned(options: { version: number; expires: number; keys: Readonly<Record<Role, RoleKey>> }): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  const roles: Record<string, unknown> = {};
  for (const role of ROLES) {
    const key = options.keys[role];
    keys[key.keyid] = key.publicJson;
    roles[role] = { keyids: [key.keyid], threshold: 1 };
  }
  return { _type: 'root', spec_version: '1.0.31', version: options.version, expires: tufTime(options.expires), consistent_snapshot: true, keys, roles };
}
