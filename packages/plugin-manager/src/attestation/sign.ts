/**
 * Signing a package: the statement over every signed file, a DSSE envelope signed by
 * the publisher's key, a Sigstore bundle naming the signer, written into the package
 * as `attestations/<keyid>.sigstore.json`. Other attestations are kept, so several
 * publishers can sign one package (threshold policies); signing again with the same
 * key replaces that key's attestation. Everything is deterministic except ECDSA
 * signatures, which are randomised: an Ed25519-signed package is byte-identical
 * every time.
 */
import { ForgeError } from '@forgeone/common';
import {
  ATTESTATIONS_PREFIX,
  DEFAULT_PACKAGE_LIMITS,
  readPackage,
  writeArchive,
  type ArchiveFile,
  type PackageInMemory,
  type PackageLimits,
} from '../loader/index.js';
import { serializeBundle, type VerificationMaterial } from './bundle.js';
import { importPublicKey, type PrivateKey } from './crypto.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.js';
import { OID } from './oid.js';
import { buildStatement } from './statement.js';
import { parseCertificate, verifyCertificateSignature, type Certificate } from './x509.js';

/** Options for {@link signPackage}. */
export interface SignPackageOptions {
  readonly key: PrivateKey;
  /** The publisher certificate (DER) for `key`. Without it the bundle names the key by id (a public-key hint). */
  readonly certificate?: Uint8Array;
  /** Intermediate CA certificates (DER), the leaf's issuer first; requires `certificate`. */
  readonly chain?: readonly Uint8Array[];
  readonly limits?: PackageLimits;
  /** Time the certificate must be valid at, ms since the epoch. Default: now. */
  readonly now?: number;
}

/** A signed package. */
export interface SignedPackage {
  /** The new package bytes. */
  readonly bytes: Buffer;
  /** The attestation's path, `attestations/<keyid>.sigstore.json`. */
  readonly attestation: string;
  readonly keyid: string;
  /** The bundle's JSON text. */
  readonly bundle: string;
  /** True when an attestation by the same key was replaced. */
  readonly replaced: boolean;
  /** The new package, read back under the limits. */
  readonly contents: PackageInMemory;
}

function refuse(message: string, certificate: Certificate): ForgeError {
  return new ForgeError('FO_SIGN_CERTIFICATE', message, { details: { subject: certificate.subject.text, serial: certificate.serial } });
}

/**
 * Checks that a certificate (and chain) can sign packages with `key`, before signing,
 * so a publisher learns of a wrong certificate now rather than from every verifier.
 * @throws ForgeError FO_KEY_MISMATCH, FO_SIGN_CERTIFICATE, FO_CERT_INVALID
 */
export function checkSigningCertificate(key: PrivateKey, leaf: Certificate, chain: readonly Certificate[], now: number): void {
  if (!leaf.spki.equals(key.publicKey.spki)) {
    throw new ForgeError('FO_KEY_MISMATCH', `certificate "${leaf.subject.text}" holds another public key than the signing key ${key.publicKey.keyid}`, {
      details: { subject: leaf.subject.text, keyid: key.publicKey.keyid },
    });
  }
  if (leaf.basicConstraints?.ca === true) throw refuse(`"${leaf.subject.text}" is a CA certificate; sign with a publisher certificate (forge ca issue)`, leaf);
  if (leaf.extKeyUsage?.includes(OID.codeSigning) !== true) throw refuse(`"${leaf.subject.text}" does not allow codeSigning (extendedKeyUsage)`, leaf);
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.has('digitalSignature')) throw refuse(`"${leaf.subject.text}" does not allow digitalSignature (keyUsage)`, leaf);
  if (now < leaf.notBefore || now > leaf.notAfter) {
    throw refuse(`"${leaf.subject.text}" is valid from ${new Date(leaf.notBefore).toISOString()} to ${new Date(leaf.notAfter).toISOString()}, not now`, leaf);
  }
  let child = leaf;
  for (const issuer of chain) {
    if (!issuer.subject.der.equals(child.issuer.der) || !verifyCertificateSignature(child, importPublicKey(issuer.spki, `certificate "${issuer.subject.text}"`))) {
      throw refuse(`the chain does not link: "${child.subject.text}" was not issued by "${issuer.subject.text}"; give intermediates leaf's issuer first`, child);
    }
    child = issuer;
  }
}

/**
 * Signs a package and returns it with the new attestation added.
 *
 * @param source the package: a path or its bytes
 * @throws ForgeError FO_KEY_MISMATCH, FO_SIGN_CERTIFICATE, FO_CERT_INVALID, and the codes of readPackage
 */
export async function signPackage(source: string | Uint8Array, options: SignPackageOptions): Promise<SignedPackage> {
  const limits = options.limits ?? DEFAULT_PACKAGE_LIMITS;
  const contents = await readPackage(source, limits);
  let material: VerificationMaterial = { kind: 'publicKey', hint: options.key.publicKey.keyid };
  if (options.certificate !== undefined) {
    const leaf = parseCertificate(options.certificate, 'the signing certificate');
    const chain = (options.chain ?? []).map((der, index) => parseCertificate(der, `chain certificate ${index + 1}`));
    checkSigningCertificate(options.key, leaf, chain, options.now ?? Date.now());
    material = { kind: 'certificate', certificates: [leaf.der, ...chain.map((certificate) => certificate.der)] };
  } else if (options.chain !== undefined && options.chain.length > 0) {
    throw new ForgeError('FO_SIGN_CERTIFICATE', 'a certificate chain was given without the signing certificate itself', { details: {} });
  }
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, buildStatement(contents), options.key);
  const bundle = serializeBundle({ material, envelope });
  const keyid = options.key.publicKey.keyid;
  const attestation = `${ATTESTATIONS_PREFIX}${keyid}.sigstore.json`;
  const files: ArchiveFile[] = contents.files
    .filter((file) => file.path !== attestation)
    .map((file) => ({ path: file.path, data: contents.read(file.path) ?? Buffer.alloc(0) }));
  files.push({ path: attestation, data: Buffer.from(bundle, 'utf8') });
  const bytes = writeArchive(files);
  return {
    bytes,
    attestation,
    keyid,
    bundle,
    replaced: contents.files.some((file) => file.path === attestation),
    contents: await readPackage(bytes, limits),
  };
}
