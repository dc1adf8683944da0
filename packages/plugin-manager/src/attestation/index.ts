/**
 * Attestation: signing and verifying packages. Keys (crypto.ts, the only module
 * touching node:crypto), X.509 parsing and issuing (x509.ts, x509-build.ts, ca.ts),
 * DSSE envelopes carrying in-toto statements in Sigstore bundles (dsse.ts,
 * statement.ts, bundle.ts), the trust store with revocation (trust-store.ts,
 * revocation.ts), the verification pipeline (verify.ts, chain.ts, subjects.ts,
 * keyless.ts), the signer policy (policy.ts) and the door packages come in through
 * (open.ts, settings.ts). docs/signing.md is the user's guide.
 */
export {
  SIGNING_ALGORITHMS,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  privateKeyPem,
  publicKeyPem,
  type KeyAlgorithm,
  type PrivateKey,
  type PublicKey,
  type SigningAlgorithm,
} from './crypto.js';
export { decodePem, encodePem, certificatesFromPem, type PemBlock } from './pem.js';
export {
  KEY_USAGES,
  MAX_CERTIFICATE_BYTES,
  parseCertificate,
  publisherOf,
  serialHex,
  verifyCertificateSignature,
  type Certificate,
  type DistinguishedName,
  type KeyUsage,
  type SubjectAltName,
} from './x509.js';
export { buildCertificate, encodeName, keyIdentifier, type CertificateIssuer, type CertificateTemplate } from './x509-build.js';
export {
  BACKDATE_MS,
  CA_FILES,
  DEFAULT_ISSUED_DAYS,
  DEFAULT_ROOT_DAYS,
  createRootCa,
  issueCertificate,
  loadCertificateAuthority,
  type CertificateAuthority,
  type IssueOptions,
  type RootCaOptions,
} from './ca.js';
export { IN_TOTO_PAYLOAD_TYPE, envelopeToJson, preAuthEncoding, signEnvelope, verifyEnvelopeSignature, type Envelope } from './dsse.js';
export {
  PLUGIN_PREDICATE_TYPE,
  STATEMENT_TYPE,
  buildStatement,
  parseStatement,
  predicateFor,
  type PluginPredicate,
  type PluginStatement,
  type StatementSubject,
} from './statement.js';
export {
  BUNDLE_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  parseBundle,
  serializeBundle,
  type KeyedBundle,
  type ParsedBundle,
  type VerificationMaterial,
} from './bundle.js';
export { MAX_CHAIN_LENGTH, buildPath, checkPath, validateChain, type CertificatePath, type ChainContext } from './chain.js';
export {
  REVOCATION_PAYLOAD_TYPE,
  createRevocationList,
  normaliseSerial,
  parseRevocationList,
  revocationEntries,
  type RevocationEntries,
  type RevocationList,
} from './revocation.js';
export {
  DEFAULT_SIGNER_POLICY,
  MAX_POLICY_BYTES,
  loadSignerPolicy,
  parseSignerPolicy,
  ruleFor,
  type KeylessIdentity,
  type SignerPolicy,
  type SignerRule,
} from './policy.js';
export { TRUSTED_ROOT_MEDIA_TYPE, parseTrustedRoot, verifyKeylessBundle, type KeylessResult, type KeylessTrust } from './keyless.js';
export { MAX_TRUST_FILES, MAX_TRUST_FILE_BYTES, TRUST_STORE_LAYOUT, TrustStore, type TrustStoreParts, type TrustedKey } from './trust-store.js';
export { checkSubjects } from './subjects.js';
export {
  verifyPackage,
  type PackageVerification,
  type RejectedSignature,
  type SignatureMethod,
  type VerifiedSignature,
  type VerifyPackageOptions,
} from './verify.js';
export { checkSigningCertificate, signPackage, type SignPackageOptions, type SignedPackage } from './sign.js';
export { UNSIGNED_PUBLISHER, openVerifiedPackage, type OpenPackageBaseOptions, type OpenPackageOptions, type OpenedPackage } from './open.js';
export { loadAttestationSettings } from './settings.js';
export { MAX_SMALL_FILE_BYTES, readSmallFile, writeKeyPair, writeNewFile, type WriteNewFileOptions } from './files.js';
