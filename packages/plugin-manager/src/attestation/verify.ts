/**
 * Package verification: a pipeline of named steps, apart from policy (policy.ts)
 * and from crypto (crypto.ts). For each attestation, in order:
 *
 * 1. `parseBundle`        the file is a Sigstore bundle ForgeOne verifies
 * 2. `checkPayloadType`   the DSSE payload is an in-toto statement
 * 3. `establishSigner`    the signer's key: its certificate chain reaches a trust root and
 *                         passes every check at the verification time (chain.ts), or its
 *                         key hint names a trusted key; keyless bundles go to keyless.ts
 * 4. `checkRevocation`    no certificate serial or key id in it is revoked
 * 5. `checkSignature`     the DSSE signature verifies over PAE(payloadType, payload)
 * 6. `checkSubjects`      only now is the payload read: the statement signs exactly the
 *                         package's files and manifest (subjects.ts)
 *
 * The issue listed subjects first; reading the payload only after its signature
 * verified is what the DSSE protocol asks ("verify, then read") and it changes no
 * outcome for a package with one defect. Then, over all attestations, the signer
 * policy: enough distinct allowed publishers (threshold). Failures of steps 1-6 have
 * kind `integrity`; an untrusted, revoked or disallowed signer has kind `denied`.
 */
import { ForgeError, type ErrorDetails, type ForgeErrorJSON, type PluginIdentity } from '@forgeone/common';
import type { PackageFile, PackageInMemory } from '../loader/index.js';
import { parseBundle, type KeyedBundle } from './bundle.js';
import { validateChain, type CertificatePath } from './chain.js';
import type { PublicKey } from './crypto.js';
import { IN_TOTO_PAYLOAD_TYPE, verifyEnvelopeSignature } from './dsse.js';
import { verifyKeylessBundle } from './keyless.js';
import { DEFAULT_SIGNER_POLICY, ruleFor, type SignerPolicy, type SignerRule } from './policy.js';
import { parseStatement } from './statement.js';
import { checkSubjects } from './subjects.js';
import type { TrustStore } from './trust-store.js';
import { publisherOf, type Certificate } from './x509.js';

/** How a signature's signer was established. */
export type SignatureMethod = 'certificate' | 'key' | 'keyless';

/** A signature that verified and whose signer the policy allows. */
export interface VerifiedSignature {
  /** The attestation's path in the package. */
  readonly attestation: string;
  readonly method: SignatureMethod;
  /** Certificate subject CN or SAN, trusted key name, or keyless SAN. */
  readonly publisher: string;
  /** Lowercase hex sha256 of the signing key's SubjectPublicKeyInfo. */
  readonly keyid: string;
  /** Subjects from the signer's certificate to the trust root (empty for bare keys and keyless). */
  readonly chain: readonly string[];
  /** The signing certificate's serial, when there is one. */
  readonly serial?: string;
  /** The keyless signer's OIDC issuer. */
  readonly issuer?: string;
}

/** An attestation that did not count, and why. */
export interface RejectedSignature {
  readonly attestation: string;
  readonly error: ForgeErrorJSON;
}

/** The outcome of a successful verification. */
export interface PackageVerification {
  /** The plugin's identity: the first accepted signature's publisher (attestations sorted by path). */
  readonly identity: PluginIdentity;
  readonly accepted: readonly VerifiedSignature[];
  readonly rejected: readonly RejectedSignature[];
  /** The threshold the policy required. */
  readonly threshold: number;
  /** The verification time used, ms since the epoch. */
  readonly verifiedAt: number;
}

/** Options for {@link verifyPackage}. */
export interface VerifyPackageOptions {
  readonly trustStore: TrustStore;
  /** Default: {@link DEFAULT_SIGNER_POLICY} (one signature from any trusted publisher). */
  readonly policy?: SignerPolicy;
  /** Verification time, ms since the epoch. Default: now. */
  readonly now?: number;
}

const PRINTABLE_PUBLISHER = /^[^\u0000-\u001f\u007f]{1,256}$/u;

/**
 * Verifies every attestation of a package and applies the signer policy.
 *
 * @throws ForgeError FO_VERIFY_UNSIGNED, FO_REVOKED_PACKAGE, FO_REVOCATION_EXPIRED,
 *   FO_SIGNER_THRESHOLD, or, when no attestation counts, the first attestation's own
 *   failure (every FO_BUNDLE_*, FO_VERIFY_*, FO_CHAIN_*, FO_SIGNER_*, FO_REVOKED_*,
 *   FO_KEYLESS_* code), with `details.rejected` listing all when there are several
 */
export function verifyPackage(contents: PackageInMemory, options: VerifyPackageOptions): PackageVerification {
  const store = options.trustStore;
  const now = options.now ?? Date.now();
  const rule = ruleFor(options.policy ?? DEFAULT_SIGNER_POLICY, contents.manifest.name);
  checkPackageRevocation(contents, store, now);
  if (contents.attestations.length === 0) {
    throw new ForgeError('FO_VERIFY_UNSIGNED', `${contents.manifest.name} ${contents.manifest.version} has no attestation; signatures are required`, {
      details: { name: contents.manifest.name, version: contents.manifest.version, digest: contents.digest },
    });
  }
  const accepted: VerifiedSignature[] = [];
  const failures: { attestation: string; error: ForgeError }[] = [];
  for (const file of contents.attestations) {
    try {
      const signature = verifyAttestation(file, contents, store, rule, now);
      checkAllowed(signature, rule);
      accepted.push(signature);
    } catch (error) {
      if (!(error instanceof ForgeError)) throw error;
      failures.push({ attestation: file.path, error });
    }
  }
  const rejected = failures.map(({ attestation, error }) => ({ attestation, error: error.toJSON() }));
  const publishers = new Set(accepted.map((signature) => signature.publisher));
  const first = accepted[0];
  if (first !== undefined && publishers.size >= rule.threshold) {
    return {
      identity: { publisher: first.publisher, name: contents.manifest.name, version: contents.manifest.version, digest: contents.digest, attested: true },
      accepted,
      rejected,
      threshold: rule.threshold,
      verifiedAt: now,
    };
  }
  const firstFailure = failures[0];
  if (first === undefined && firstFailure !== undefined) {
    const { error } = firstFailure;
    if (failures.length === 1) throw error;
    throw new ForgeError(error.code, `${error.message} (and ${failures.length - 1} more attestation${failures.length === 2 ? '' : 's'} failed)`, {
      details: { ...error.details, rejected },
      cause: error,
    });
  }
  throw new ForgeError(
    'FO_SIGNER_THRESHOLD',
    `${contents.manifest.name} needs signatures from ${rule.threshold} distinct allowed publishers; it has ${publishers.size} (${[...publishers].map((name) => JSON.stringify(name)).join(', ') || 'none'})`,
    { details: { threshold: rule.threshold, publishers: [...publishers], rejected } },
  );
}

function checkPackageRevocation(contents: PackageInMemory, store: TrustStore, now: number): void {
  const list = store.revocations;
  if (list === undefined) return;
  if (list.nextUpdate !== undefined && now > list.nextUpdate) {
    throw new ForgeError('FO_REVOCATION_EXPIRED', `the trust store's revocation list was due to be replaced at ${new Date(list.nextUpdate).toISOString()}; refusing to trust a stale list`, {
      details: { nextUpdate: new Date(list.nextUpdate).toISOString() },
    });
  }
  if (list.digests.has(contents.digest)) {
    throw new ForgeError('FO_REVOKED_PACKAGE', `package ${contents.manifest.name} ${contents.manifest.version} (content digest ${contents.digest}) is revoked`, {
      details: { digest: contents.digest },
    });
  }
}

/** Steps 1-6 for one attestation. */
function verifyAttestation(file: PackageFile, contents: PackageInMemory, store: TrustStore, rule: SignerRule, now: number): VerifiedSignature {
  const source = file.path;
  const parsed = parseBundle(contents.read(source) ?? Buffer.alloc(0), source);
  if (parsed.kind === 'keyless') return verifyKeyless(parsed.json, contents, store, rule, source);
  const { bundle } = parsed;
  checkPayloadType(bundle.envelope.payloadType, source);
  const signer = establishSigner(bundle, store, now, source);
  checkRevocation(signer, store, source);
  checkSignature(bundle, signer.key, source);
  checkSubjects(parseStatement(bundle.envelope.payload, source), contents, source);
  return {
    attestation: source,
    method: signer.path === undefined ? 'key' : 'certificate',
    publisher: signer.publisher,
    keyid: signer.key.keyid,
    chain: signer.path?.certificates.map((certificate) => certificate.subject.text) ?? [],
    ...(signer.path === undefined ? {} : { serial: (signer.path.certificates[0] as Certificate).serial }),
  };
}

function checkPayloadType(payloadType: string, source: string): void {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new ForgeError('FO_VERIFY_PAYLOAD_TYPE', `${source}: expected payloadType ${IN_TOTO_PAYLOAD_TYPE}, found ${JSON.stringify(payloadType.slice(0, 100))}`, {
      details: { attestation: source, payloadType },
    });
  }
}

interface Signer {
  readonly key: PublicKey;
  readonly publisher: string;
  readonly path: CertificatePath | undefined;
}

function establishSigner(bundle: KeyedBundle, store: TrustStore, now: number, source: string): Signer {
  const { material } = bundle;
  if (material.kind === 'publicKey') {
    const trusted = store.keys.get(material.hint.toLowerCase());
    if (trusted === undefined) {
      throw new ForgeError('FO_SIGNER_UNTRUSTED', `${source} was signed by key ${JSON.stringify(material.hint.slice(0, 80))}, which is not a trusted key in the trust store (keys/)`, {
        details: { attestation: source, keyid: material.hint },
      });
    }
    return { key: trusted.key, publisher: trusted.name, path: undefined };
  }
  const certificates = material.certificates.map((der, index) => {
    try {
      return store.certificate(der, `${source} certificate ${index + 1}`);
    } catch (error) {
      // A certificate that does not parse is a broken bundle, not a bad input file.
      if (!ForgeError.is(error, 'FO_CERT_INVALID')) throw error;
      throw new ForgeError('FO_BUNDLE_MALFORMED', error.message, {
        details: { attestation: source, issues: [{ path: `verificationMaterial certificate ${index + 1}`, expected: 'a DER X.509 certificate', found: error.message }] },
        cause: error,
      });
    }
  });
  const leaf = certificates[0] as Certificate;
  const path = validateChain(leaf, store.chainContext(certificates.slice(1), now));
  const publisher = publisherOf(leaf);
  if (publisher === undefined || !PRINTABLE_PUBLISHER.test(publisher)) {
    throw new ForgeError('FO_CERT_INVALID', `${source}: the signing certificate names no usable publisher (expected a printable subject CN or an email/URI SAN of 1-256 characters)`, {
      details: { attestation: source, subject: leaf.subject.text },
    });
  }
  return { key: store.publicKey(leaf.spki), publisher, path };
}

function checkRevocation(signer: Signer, store: TrustStore, source: string): void {
  const list = store.revocations;
  if (list === undefined) return;
  for (const certificate of signer.path?.certificates ?? []) {
    if (list.serials.has(certificate.serial)) {
      throw new ForgeError('FO_REVOKED_CERTIFICATE', `${source}: certificate "${certificate.subject.text}" (serial ${certificate.serial}) is revoked`, {
        details: { attestation: source, serial: certificate.serial, subject: certificate.subject.text },
      });
    }
  }
  if (list.keyIds.has(signer.key.keyid)) {
    throw new ForgeError('FO_REVOKED_KEY', `${source}: signing key ${signer.key.keyid} is revoked`, { details: { attestation: source, keyid: signer.key.keyid } });
  }
}

function checkSignature(bundle: KeyedBundle, key: PublicKey, source: string): void {
  const signature = bundle.envelope.signatures[0];
  if (signature === undefined || !verifyEnvelopeSignature(bundle.envelope, signature.sig, key)) {
    throw new ForgeError('FO_VERIFY_SIGNATURE', `${source}: the DSSE signature does not verify with the signer's key ${key.keyid}`, {
      details: { attestation: source, keyid: key.keyid },
    });
  }
}

function verifyKeyless(json: Record<string, unknown>, contents: PackageInMemory, store: TrustStore, rule: SignerRule, source: string): VerifiedSignature {
  const trust = store.keyless;
  if (trust === undefined) {
    throw new ForgeError('FO_SIGNER_UNTRUSTED', `${source} is a keyless Sigstore bundle, but the trust store has no sigstore/trusted_root.json`, {
      details: { attestation: source },
    });
  }
  const result = verifyKeylessBundle(json, trust, { source, identities: rule.keyless });
  if (store.revocations?.keyIds.has(result.keyid) === true) {
    throw new ForgeError('FO_REVOKED_KEY', `${source}: signing key ${result.keyid} is revoked`, { details: { attestation: source, keyid: result.keyid } });
  }
  checkPayloadType(result.payloadType, source);
  checkSubjects(parseStatement(result.payload, source), contents, source);
  return {
    attestation: source,
    method: 'keyless',
    publisher: result.identity.san,
    keyid: result.keyid,
    chain: [],
    ...(result.identity.issuer === undefined ? {} : { issuer: result.identity.issuer }),
  };
}

/** The policy's publisher list, applied to one verified signature. Keyless identities were matched in keyless.ts. */
function checkAllowed(signature: VerifiedSignature, rule: SignerRule): void {
  if (signature.method === 'keyless' || rule.publishers === undefined || rule.publishers.includes(signature.publisher)) return;
  const details: ErrorDetails = { attestation: signature.attestation, publisher: signature.publisher, allowed: rule.publishers };
  throw new ForgeError('FO_SIGNER_NOT_ALLOWED', `${signature.attestation} was signed by ${JSON.stringify(signature.publisher)}, which the signer policy does not list`, { details });
}
