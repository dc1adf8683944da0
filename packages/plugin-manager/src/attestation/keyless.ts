/**
 * Keyless Sigstore verification: bundles whose signer holds a short-lived Fulcio
 * certificate and whose signature is recorded in Rekor. Verified fully offline with
 * @sigstore/verify against a pinned trusted root (`sigstore/trusted_root.json` in
 * the trust store): the certificate chain to a Fulcio CA at the time Rekor recorded
 * the entry, the embedded SCT, the Rekor inclusion proof or signed promise, the
 * transparency-log body against the signature, and the signature itself. Then the
 * signer's identity (certificate SAN and OIDC issuer) must match the policy exactly.
 *
 * Added to what @sigstore/verify checks: the inclusion proof's root hash and tree size
 * must equal the signed checkpoint's. Not verified: freshness of the trusted root (it is pinned; update it by replacing
 * the file) and RFC 3161 timestamps beyond what @sigstore/verify checks.
 */
import { ValidationError, bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { X509Certificate, crypto as sigstoreCrypto } from '@sigstore/core';
import { PolicyError, VerificationError, Verifier, toSignedEntity, type TrustMaterial } from '@sigstore/verify';
import { ForgeError, isPlainObject } from '@forgeone/common';
import { sha256 } from './crypto.js';
import type { KeylessIdentity } from './policy.js';

/** The media type of a Sigstore trusted root. */
export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

/** A parsed, pinned Sigstore trusted root. */
export interface KeylessTrust {
  readonly material: TrustMaterial;
  /** Where it was read from. */
  readonly source: string;
}

/** What a verified keyless bundle signed, and who signed it. */
export interface KeylessResult {
  readonly payloadType: string;
  readonly payload: Buffer;
  /** The signing certificate's subjectAlternativeName and OIDC issuer. */
  readonly identity: { readonly san: string; readonly issuer: string | undefined };
  /** Lowercase hex sha256 of the signing certificate's SubjectPublicKeyInfo. */
  readonly keyid: string;
}

const BEGINNING_OF_TIME = new Date(0);
const END_OF_TIME = new Date(8_640_000_000_000_000);
const RSA_PKCS1_DETAILS = new Set(['PKCS1_RSA_PKCS1V5', 'PKIX_RSA_PKCS1V5', 'PKCS1_RSA_PSS']);

class RootProblem extends Error {}

function field(value: unknown, key: string, path: string): unknown {
  if (!isPlainObject(value) || !Object.hasOwn(value, key)) throw new RootProblem(`${path}.${key} is missing`);
  return value[key];
}

function list(value: unknown, path: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RootProblem(`${path} must be a list`);
  return value;
}

function bytes(value: unknown, path: string): Buffer<ArrayBuffer> {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new RootProblem(`${path} must be base64 text`);
  return Buffer.from(value, 'base64');
}

function date(value: unknown, path: string, fallback: Date): Date {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) throw new RootProblem(`${path} must be an RFC 3339 time`);
  return parsed;
}

function validity(owner: unknown, path: string): { start: Date; end: Date } {
  const range = isPlainObject(owner) ? owner['validFor'] : undefined;
  if (range === undefined) return { start: BEGINNING_OF_TIME, end: END_OF_TIME };
  if (!isPlainObject(range)) throw new RootProblem(`${path}.validFor must be a table`);
  return { start: date(range['start'], `${path}.validFor.start`, BEGINNING_OF_TIME), end: date(range['end'], `${path}.validFor.end`, END_OF_TIME) };
}

function certAuthority(entry: unknown, path: string): TrustMaterial['certificateAuthorities'][number] {
  const certificates = list(field(field(entry, 'certChain', path), 'certificates', `${path}.certChain`), `${path}.certChain.certificates`);
  if (certificates.length === 0) throw new RootProblem(`${path}.certChain.certificates is empty`);
  return {
    certChain: certificates.map((cert, index) => X509Certificate.parse(bytes(field(cert, 'rawBytes', `${path}.certChain.certificates[${index}]`), `${path}.certChain.certificates[${index}].rawBytes`))),
    validFor: validity(entry, path),
  };
}

function logAuthority(entry: unknown, path: string): TrustMaterial['tlogs'][number] {
  const publicKey = field(entry, 'publicKey', path);
  const details = isPlainObject(publicKey) ? publicKey['keyDetails'] : undefined;
  const checkpoint = isPlainObject(entry) ? entry['checkpointKeyId'] : undefined;
  const logId = checkpoint ?? field(entry, 'logId', path);
  return {
    baseURL: typeof (entry as Record<string, unknown>)['baseUrl'] === 'string' ? ((entry as Record<string, unknown>)['baseUrl'] as string) : '',
    logID: bytes(field(logId, 'keyId', `${path}.logId`), `${path}.logId.keyId`),
    publicKey: sigstoreCrypto.createPublicKey(
      bytes(field(publicKey, 'rawBytes', `${path}.publicKey`), `${path}.publicKey.rawBytes`),
      typeof details === 'string' && RSA_PKCS1_DETAILS.has(details) ? 'pkcs1' : 'spki',
    ),
    validFor: validity(publicKey, `${path}.publicKey`),
  };
}

/**
 * Parses a Sigstore trusted_root.json into trust material for @sigstore/verify.
 * @throws ForgeError FO_TRUSTSTORE_INVALID
 */
export function parseTrustedRoot(text: string, source: string): KeylessTrust {
  try {
    const json: unknown = JSON.parse(text);
    const mediaType = field(json, 'mediaType', '(root)');
    if (mediaType !== TRUSTED_ROOT_MEDIA_TYPE) throw new RootProblem(`mediaType must be ${TRUSTED_ROOT_MEDIA_TYPE}`);
    const root = json as Record<string, unknown>;
    const material: TrustMaterial = {
      certificateAuthorities: list(root['certificateAuthorities'], 'certificateAuthorities').map((entry, index) => certAuthority(entry, `certificateAuthorities[${index}]`)),
      timestampAuthorities: list(root['timestampAuthorities'], 'timestampAuthorities').map((entry, index) => certAuthority(entry, `timestampAuthorities[${index}]`)),
      tlogs: list(root['tlogs'], 'tlogs').map((entry, index) => logAuthority(entry, `tlogs[${index}]`)),
      ctlogs: list(root['ctlogs'], 'ctlogs').map((entry, index) => logAuthority(entry, `ctlogs[${index}]`)),
      publicKey: (hint: string) => {
        throw new VerificationError({ code: 'PUBLIC_KEY_ERROR', message: `keyless verification does not use public key hints (${hint})` });
      },
    };
    if (material.certificateAuthorities.length === 0 || material.tlogs.length === 0) throw new RootProblem('it must name at least one certificate authority and one transparency log');
    return { material, source };
  } catch (error) {
    throw new ForgeError('FO_TRUSTSTORE_INVALID', `${source} is not a usable Sigstore trusted root: ${(error as Error).message}`, { details: { file: source }, cause: error });
  }
}

/**
 * SECURITY: the root hash an inclusion proof claims must be the one the log signed in
 * the checkpoint. @sigstore/verify 3.x computes the proof against the checkpoint's
 * root only and ignores `inclusionProof.rootHash` and `treeSize`; other Sigstore
 * clients (rekor, sigstore-java) require them to agree, and so do we, so a bundle
 * whose proof fields disagree with its signed checkpoint is refused, not half-read.
 */
function checkProofMatchesCheckpoint(bundle: Bundle): void {
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    const proof = entry.inclusionProof;
    const envelope = proof?.checkpoint?.envelope;
    if (proof === undefined || envelope === undefined) continue;
    const [, size, rootHash] = envelope.split('\n');
    if (size !== proof.treeSize || rootHash === undefined || !Buffer.from(rootHash, 'base64').equals(Buffer.from(proof.rootHash))) {
      throw new VerificationError({
        code: 'TLOG_INCLUSION_PROOF_ERROR',
        message: 'the inclusion proof\'s root hash or tree size differs from the signed checkpoint\'s',
      });
    }
  }
}

function sigstoreError(error: unknown, source: string): ForgeError {
  if (error instanceof ForgeError) return error;
  if (error instanceof ValidationError) {
    return new ForgeError('FO_BUNDLE_MALFORMED', `${source} is not a valid Sigstore bundle: ${error.message} (${(error.fields ?? []).join(', ')})`, {
      details: { attestation: source, issues: (error.fields ?? []).map((path) => ({ path, expected: 'a valid value', found: 'a missing or invalid value' })) },
    });
  }
  if (error instanceof PolicyError) {
    return new ForgeError('FO_KEYLESS_IDENTITY', `${source}: ${error.message}`, { details: { attestation: source, sigstoreCode: error.code } });
  }
  if (error instanceof VerificationError) {
    return new ForgeError('FO_KEYLESS_VERIFICATION', `${source} fails Sigstore verification (${error.code}): ${error.message}`, {
      details: { attestation: source, sigstoreCode: error.code },
      cause: error,
    });
  }
  return new ForgeError('FO_KEYLESS_VERIFICATION', `${source} fails Sigstore verification: ${(error as Error).message}`, {
    details: { attestation: source, sigstoreCode: 'UNKNOWN' },
    cause: error,
  });
}

/**
 * Verifies a keyless bundle offline, then checks the signer's identity.
 *
 * @param json the parsed bundle JSON (any version from v0.1 to v0.3)
 * @param identities allowed signers; an empty list allows none (undefined skips the check,
 *   for callers that apply their own policy to the returned identity)
 * @param artifact the signed bytes, for message-signature bundles
 * @throws ForgeError FO_BUNDLE_MALFORMED, FO_KEYLESS_VERIFICATION, FO_KEYLESS_IDENTITY
 */
export function verifyKeylessBundle(
  json: unknown,
  trust: KeylessTrust,
  options: { readonly source: string; readonly identities?: readonly KeylessIdentity[]; readonly artifact?: Buffer },
): KeylessResult {
  const { source } = options;
  let bundle: Bundle;
  let result: KeylessResult;
  try {
    bundle = bundleFromJSON(json);
    checkProofMatchesCheckpoint(bundle);
    const signer = new Verifier(trust.material).verify(toSignedEntity(bundle, options.artifact));
    const san = signer.identity?.subjectAlternativeName;
    if (san === undefined || san === '') throw new VerificationError({ code: 'CERTIFICATE_ERROR', message: 'the signing certificate names no subjectAlternativeName' });
    const content = bundle.content;
    const identity = { san, issuer: signer.identity?.extensions?.issuer };
    const keyid = sha256(signer.key.export({ type: 'spki', format: 'der' })).toString('hex');
    result =
      content.$case === 'dsseEnvelope'
        ? { payloadType: content.dsseEnvelope.payloadType, payload: Buffer.from(content.dsseEnvelope.payload), identity, keyid }
        : { payloadType: 'application/octet-stream', payload: options.artifact ?? Buffer.alloc(0), identity, keyid };
  } catch (error) {
    throw sigstoreError(error, source);
  }
  const { identities } = options;
  if (identities !== undefined && !identities.some((allowed) => allowed.san === result.identity.san && allowed.issuer === result.identity.issuer)) {
    throw new ForgeError(
      'FO_KEYLESS_IDENTITY',
      `${source} was signed by ${JSON.stringify(result.identity.san)} (issuer ${JSON.stringify(result.identity.issuer ?? 'none')}), which ${
        identities.length === 0 ? 'no keyless identity in the signer policy allows (the policy lists none)' : 'matches no keyless identity in the signer policy'
      }`,
      { details: { attestation: source, san: result.identity.san, issuer: result.identity.issuer ?? null } },
    );
  }
  return result;
}
