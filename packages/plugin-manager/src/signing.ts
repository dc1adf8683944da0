/**
 * @forgeone/plugin-manager/signing: packages and their signatures (docs/signing.md,
 * docs/formats/forgepkg.md). Everything `forge keygen`, `forge ca`, `forge pack`,
 * `forge sign`, `forge verify` and `forge inspect` do: keys, a certificate authority
 * and its revocation list, deterministic packing, reading under limits, signing with a
 * Sigstore bundle, verifying against a trust store and a signer policy, and opening a
 * package the way the registry and the store do.
 */

// Keys.
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
} from './attestation/index.js';
export { MAX_SMALL_FILE_BYTES, readSmallFile, writeKeyPair, writeNewFile, type WriteNewFileOptions } from './attestation/index.js';

// Certificates and the certificate authority.
export { certificatesFromPem, decodePem, encodePem, type PemBlock } from './attestation/index.js';
export { KEY_USAGES, parseCertificate, type Certificate, type DistinguishedName, type KeyUsage, type SubjectAltName } from './attestation/index.js';
export {
  CA_FILES,
  DEFAULT_ISSUED_DAYS,
  DEFAULT_ROOT_DAYS,
  createRootCa,
  issueCertificate,
  loadCertificateAuthority,
  type CertificateAuthority,
  type IssueOptions,
  type RootCaOptions,
} from './attestation/index.js';
export { createRevocationList, parseRevocationList, revocationEntries, type RevocationEntries, type RevocationList } from './attestation/index.js';

// Packages: pack, read, inspect.
export {
  DEFAULT_PACKAGE_LIMITS,
  defaultPackageName,
  packDirectory,
  packageLimitsFromConfig,
  readPackage,
  sha256Digest,
  writeArchive,
  type ArchiveFile,
  type ArchiveLimits,
  type PackResult,
  type PackageContents,
  type PackageInMemory,
  type PackageLimits,
} from './loader/index.js';

// Signing and verifying.
export { signPackage, type SignPackageOptions, type SignedPackage } from './attestation/index.js';
export {
  verifyPackage,
  type PackageVerification,
  type RejectedSignature,
  type SignatureMethod,
  type VerifiedSignature,
  type VerifyPackageOptions,
} from './attestation/index.js';
export { TRUST_STORE_LAYOUT, TrustStore, type TrustStoreParts, type TrustedKey } from './attestation/index.js';
export {
  DEFAULT_SIGNER_POLICY,
  loadSignerPolicy,
  parseSignerPolicy,
  type KeylessIdentity,
  type SignerPolicy,
  type SignerRule,
} from './attestation/index.js';
export { parseTrustedRoot, verifyKeylessBundle, type KeylessResult, type KeylessTrust } from './attestation/index.js';
export { UNSIGNED_PUBLISHER, loadAttestationSettings, openVerifiedPackage, type OpenPackageBaseOptions, type OpenPackageOptions, type OpenedPackage } from './attestation/index.js';
