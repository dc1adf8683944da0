/**
 * Issuing X.509 v3 certificates: the DER encoding of tbsCertificate, signed by the
 * issuer's key. Node can verify certificates but not make them, hence this file.
 * What a certificate says (CA or publisher, pathLen, key usages) is decided by the
 * caller (ca.ts); this file only encodes it faithfully.
 */
import { randomBytes, sha256, signBytes, type KeyAlgorithm, type PrivateKey, type PublicKey } from './crypto.js';
import { der } from './der.js';
import { OID } from './oid.js';
import { KEY_USAGES, type KeyUsage } from './x509.js';

/** What to put in a new certificate. Times are milliseconds since the epoch. */
export interface CertificateTemplate {
  /** The subject's commonName. */
  readonly commonName: string;
  readonly publicKey: PublicKey;
  readonly notBefore: number;
  readonly notAfter: number;
  /** basicConstraints cA. */
  readonly ca: boolean;
  /** basicConstraints pathLenConstraint; only for CAs. */
  readonly pathLen?: number;
  readonly keyUsage: readonly KeyUsage[];
  /** extKeyUsage OIDs; omitted from the certificate when undefined. */
  readonly extKeyUsage?: readonly string[];
  /** Unsigned big-endian serial; default 16 random bytes (positive, 128 bits of entropy). */
  readonly serial?: Uint8Array;
  /** Further extensions, encoded as given (`value` is the DER inside extnValue). */
  readonly extraExtensions?: readonly { readonly oid: string; readonly critical: boolean; readonly value: Buffer }[];
}

/** Who signs a new certificate: an issuing CA, or the subject itself (a self-signed root). */
export interface CertificateIssuer {
  /** The issuer's subject name, exactly as DER-encoded in its own certificate. */
  readonly name: Buffer;
  readonly key: PrivateKey;
  /** The issuer's subjectKeyIdentifier, copied into authorityKeyIdentifier. */
  readonly keyId: Buffer;
}

/** The DER Name `CN=<commonName>`. */
export function encodeName(commonName: string): Buffer {
  return der.sequence(der.set(der.sequence(der.oid(OID.commonName), der.utf8(commonName))));
}

/** The key identifier ForgeOne writes: the first 20 bytes of sha256(SubjectPublicKeyInfo) (as RFC 7093 allows). */
export function keyIdentifier(publicKey: PublicKey): Buffer {
  return sha256(publicKey.spki).subarray(0, 20);
}

function signatureAlgorithm(algorithm: KeyAlgorithm): Buffer {
  switch (algorithm) {
    case 'ed25519':
      return der.sequence(der.oid(OID.ed25519));
    case 'ecdsa-p256':
      return der.sequence(der.oid(OID.ecdsaWithSha256));
    case 'ecdsa-p384':
      return der.sequence(der.oid(OID.ecdsaWithSha384));
    case 'rsa':
      return der.sequence(der.oid(OID.sha256WithRsa), der.null());
  }
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** keyUsage as a DER named bit string: trailing zero bits removed (X.690 11.2.2). */
function keyUsageBits(usages: readonly KeyUsage[]): Buffer {
  const bits = usages.map((usage) => KEY_USAGES.indexOf(usage));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return der.bitString(bytes, 7 - (highest & 7));
}

/** A random positive serial of 16 bytes whose DER needs no padding byte. */
function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

/**
 * Encodes and signs a certificate. `issuer` undefined makes it self-signed with
 * `signer`, which must then hold the template's public key.
 *
 * @returns the certificate's DER
 */
export function buildCertificate(template: CertificateTemplate, signer: PrivateKey, issuer?: CertificateIssuer): Buffer {
  const subject = encodeName(template.commonName);
  const subjectKeyId = keyIdentifier(template.publicKey);
  const extensions: Buffer[] = [
    extension(
      OID.basicConstraints,
      true,
      der.sequence(...(template.ca ? [der.boolean(true), ...(template.pathLen === undefined ? [] : [der.integer(template.pathLen)])] : [])),
    ),
  ];
  if (template.keyUsage.length > 0) extensions.push(extension(OID.keyUsage, true, keyUsageBits(template.keyUsage)));
  if (template.extKeyUsage !== undefined) extensions.push(extension(OID.extKeyUsage, false, der.sequence(...template.extKeyUsage.map((oid) => der.oid(oid)))));
  extensions.push(extension(OID.subjectKeyIdentifier, false, der.octetString(subjectKeyId)));
  extensions.push(extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, issuer?.keyId ?? subjectKeyId))));
  for (const extra of template.extraExtensions ?? []) extensions.push(extension(extra.oid, extra.critical, extra.value));
  const algorithm = signatureAlgorithm(signer.algorithm);
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(template.serial ?? randomSerial()),
    algorithm,
    issuer?.name ?? subject,
    der.sequence(der.time(template.notBefore), der.time(template.notAfter)),
    subject,
    template.publicKey.spki,
    der.explicit(3, der.sequence(...extensions)),
  );
  return der.sequence(tbs, algorithm, der.bitString(signBytes(signer, tbs)));
}
