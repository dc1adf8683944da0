/**
 * The only module in attestation/ that touches `node:crypto` (scripts/check-layers.mjs
 * enforces it). Everything else handles keys through the opaque {@link PublicKey} and
 * {@link PrivateKey} handles defined here, so the algorithms ForgeOne accepts, and how
 * each one signs, are decided in one place.
 *
 * Signing keys are Ed25519 (preferred: deterministic signatures) or ECDSA P-256 with
 * SHA-256 and DER-encoded signatures, as Sigstore uses. Certificate authorities made
 * by other tools may also use ECDSA P-384 or RSA (PKCS#1 v1.5, at least 2048 bits);
 * those are accepted when verifying certificates, never for new signing keys.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { ForgeError } from '@forgeone/common';

/** Every public-key algorithm ForgeOne understands. */
export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'rsa';

/** The algorithms `forge keygen` makes and `forge sign` signs with. */
export const SIGNING_ALGORITHMS = ['ed25519', 'ecdsa-p256'] as const;
/** One of {@link SIGNING_ALGORITHMS}. */
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** The digest a signature algorithm hashes with; `null` for Ed25519, which hashes internally. */
export type SignatureHash = 'sha256' | 'sha384' | 'sha512' | null;

/** A public key. `keyid` is the lowercase hex sha256 of `spki`. */
export interface PublicKey {
  readonly algorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  readonly keyid: string;
}

/** A private key and its public half. */
export interface PrivateKey {
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: PublicKey;
}

const keyObjects = new WeakMap<PublicKey | PrivateKey, KeyObject>();

/** Smallest RSA modulus accepted in a certificate chain, in bits. */
const MIN_RSA_BITS = 2048;

function algorithmOf(key: KeyObject, source: string): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256';
    if (curve === 'secp384r1') return 'ecdsa-p384';
    throw unsupported(source, `an ECDSA key on curve ${curve ?? 'unknown'}`);
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw unsupported(source, `a ${bits}-bit RSA key`);
    return 'rsa';
  }
  throw unsupported(source, `a ${type ?? 'unknown'} key`);
}

function unsupported(source: string, found: string): ForgeError {
  return new ForgeError('FO_KEY_UNSUPPORTED', `${source}: expected an Ed25519, ECDSA P-256/P-384 or RSA (2048+ bit) key, found ${found}`, {
    details: { source },
  });
}

function wrapPublic(object: KeyObject, source: string): PublicKey {
  const algorithm = algorithmOf(object, source);
  const spki = object.export({ type: 'spki', format: 'der' });
  const handle: PublicKey = Object.freeze({ algorithm, spki, keyid: sha256(spki).toString('hex') });
  keyObjects.set(handle, object);
  return handle;
}

function objectOf(handle: PublicKey | PrivateKey): KeyObject {
  const object = keyObjects.get(handle);
  // A handle not made here (a structural look-alike) has no key behind it.
  if (object === undefined) throw new ForgeError('FO_INTERNAL_UNEXPECTED', 'key handle was not created by the attestation crypto module');
  return object;
}

/**
 * Reads a private key: PEM (PKCS#8, or the SEC1/PKCS#1 forms OpenSSL writes) or DER PKCS#8.
 * @throws ForgeError FO_KEY_INVALID (not a key, or encrypted), FO_KEY_UNSUPPORTED
 */
export function importPrivateKey(data: string | Uint8Array, source: string): PrivateKey {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  if (text.includes('ENCRYPTED')) {
    throw new ForgeError('FO_KEY_INVALID', `${source} is an encrypted private key; decrypt it first (openssl pkey -in KEY -out PLAIN.key)`, { details: { source } });
  }
  let object: KeyObject;
  try {
    object = text.includes('-----BEGIN')
      ? createPrivateKey({ key: text, format: 'pem' })
      : createPrivateKey({ key: Buffer.from(data), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new ForgeError('FO_KEY_INVALID', `${source}: expected a PEM or DER private key, found something else (${(error as Error).message})`, {
      details: { source },
      cause: error,
    });
  }
  const publicKey = wrapPublic(createPublicKey(object), source);
  const handle: PrivateKey = Object.freeze({ algorithm: publicKey.algorithm, publicKey });
  keyObjects.set(handle, object);
  return handle;
}

/**
 * Reads a public key: PEM SPKI (`BEGIN PUBLIC KEY`) or DER SPKI.
 * @throws ForgeError FO_KEY_INVALID, FO_KEY_UNSUPPORTED
 */
export function importPublicKey(data: string | Uint8Array, source: string): PublicKey {
  let object: KeyObject;
  try {
    object =
      typeof data === 'string' || Buffer.from(data).toString('latin1').includes('-----BEGIN')
        ? createPublicKey({ key: typeof data === 'string' ? data : Buffer.from(data).toString('latin1'), format: 'pem' })
        : createPublicKey({ key: Buffer.from(data), format: 'der', type: 'spki' });
  } catch (error) {
    throw new ForgeError('FO_KEY_INVALID', `${source}: expected a PEM or DER public key (SubjectPublicKeyInfo), found something else (${(error as Error).message})`, {
      details: { source },
      cause: error,
    });
  }
  if (object.type !== 'public') {
    throw new ForgeError('FO_KEY_INVALID', `${source}: expected a public key, found a ${object.type} key`, { details: { source } });
  }
  return wrapPublic(object, source);
}

/** Generates a signing key pair. */
export function generateKeyPair(algorithm: SigningAlgorithm): PrivateKey {
  const { privateKey } =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return importPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }), 'generated key');
}

/** PKCS#8 PEM of a private key. */
export function privateKeyPem(key: PrivateKey): string {
  return objectOf(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** SPKI PEM of a public key. */
export function publicKeyPem(key: PublicKey): string {
  return objectOf(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** The hash a key signs with in ForgeOne's own signatures and certificates. */
export function defaultHash(algorithm: KeyAlgorithm): SignatureHash {
  switch (algorithm) {
    case 'ed25519':
      return null;
    case 'ecdsa-p256':
    case 'rsa':
      return 'sha256';
    case 'ecdsa-p384':
      return 'sha384';
  }
}

/** Signs `data` (ECDSA signatures are DER-encoded; RSA uses PKCS#1 v1.5). */
export function signBytes(key: PrivateKey, data: Uint8Array, hash: SignatureHash = defaultHash(key.algorithm)): Buffer {
  return nodeSign(hash, data, { key: objectOf(key), dsaEncoding: 'der' });
}

/**
 * True when `signature` is a valid signature of `data` by `key` with `hash`. A
 * malformed signature is simply invalid: this never throws for bad input.
 */
export function verifyBytes(key: PublicKey, data: Uint8Array, signature: Uint8Array, hash: SignatureHash = defaultHash(key.algorithm)): boolean {
  if ((key.algorithm === 'ed25519') !== (hash === null)) return false;
  try {
    return nodeVerify(hash, data, { key: objectOf(key), dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** sha256 of some bytes. */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Cryptographically random bytes. */
export function randomBytes(count: number): Buffer {
  return nodeRandomBytes(count);
}
