/**
 * An organisation's own PKI: a self-signed root CA, optional intermediate CAs, and
 * publisher certificates for code signing. What each certificate says:
 *
 * | certificate  | basicConstraints          | keyUsage               | extKeyUsage |
 * | ------------ | ------------------------- | ---------------------- | ----------- |
 * | root         | critical, CA, pathLen opt | critical, keyCertSign, cRLSign | none |
 * | intermediate | critical, CA, pathLen opt | critical, keyCertSign, cRLSign | none |
 * | publisher    | critical, not a CA        | critical, digitalSignature | codeSigning |
 *
 * Every certificate also has subject and authority key identifiers and a random
 * 128-bit serial; validity starts 5 minutes in the past (clock skew). A CA
 * directory holds `ca.pem` (the CA's certificate), `ca.key` (its PKCS#8 key, mode
 * 0600) and, for an intermediate, optionally `chain.pem` (the certificates above it).
 */
import { join } from 'node:path';
import { ForgeError } from '@forgeone/common';
import { generateKeyPair, importPrivateKey, type PrivateKey, type PublicKey, type SigningAlgorithm } from './crypto.js';
import { certificatesFromPem } from './pem.js';
import { OID } from './oid.js';
import { buildCertificate, keyIdentifier } from './x509-build.js';
import { parseCertificate, type Certificate } from './x509.js';
import { readSmallFile } from './files.js';

/** Milliseconds in a day. */
const DAY = 86_400_000;
/** How far in the past validity starts, for clocks that run behind. */
export const BACKDATE_MS = 5 * 60_000;
/** Default validity of a root CA, in days. */
export const DEFAULT_ROOT_DAYS = 3650;
/** Default validity of an issued certificate, in days. */
export const DEFAULT_ISSUED_DAYS = 365;

/** File names in a CA directory. */
export const CA_FILES = { certificate: 'ca.pem', key: 'ca.key', chain: 'chain.pem' } as const;

/** A CA that can issue: its certificate, key, and the certificates above it. */
export interface CertificateAuthority {
  readonly certificate: Certificate;
  readonly key: PrivateKey;
  /** Certificates above this CA, its issuer first (empty for a root). */
  readonly chain: readonly Certificate[];
}

/** Options for {@link createRootCa}. */
export interface RootCaOptions {
  /** Subject commonName. */
  readonly name: string;
  /** Validity in days. Default {@link DEFAULT_ROOT_DAYS}. */
  readonly days?: number;
  readonly algorithm?: SigningAlgorithm;
  /** basicConstraints pathLenConstraint; default none. */
  readonly pathLen?: number;
  /** Issue time, ms since the epoch. Default now. */
  readonly now?: number;
}

/** Makes a new key and a self-signed root CA certificate for it. */
export function createRootCa(options: RootCaOptions): { readonly key: PrivateKey; readonly certificate: Certificate } {
  const key = generateKeyPair(options.algorithm ?? 'ed25519');
  const now = options.now ?? Date.now();
  const der = buildCertificate(
    {
      commonName: options.name,
      publicKey: key.publicKey,
      notBefore: now - BACKDATE_MS,
      notAfter: now + (options.days ?? DEFAULT_ROOT_DAYS) * DAY,
      ca: true,
      ...(options.pathLen === undefined ? {} : { pathLen: options.pathLen }),
      keyUsage: ['keyCertSign', 'cRLSign'],
    },
    key,
  );
  return { key, certificate: parseCertificate(der, 'new root certificate') };
}

/** Options for {@link issueCertificate}. */
export interface IssueOptions {
  readonly publicKey: PublicKey;
  /** The subject commonName: the publisher's name, or the intermediate CA's name. */
  readonly name: string;
  /** Validity in days, clamped to the CA's own end of validity. Default {@link DEFAULT_ISSUED_DAYS}. */
  readonly days?: number;
  /** Issue an intermediate CA instead of a publisher certificate. */
  readonly intermediate?: boolean;
  /** The intermediate's pathLenConstraint. Default: one less than the issuer's, or none. */
  readonly pathLen?: number;
  /** Issue time, ms since the epoch. Default now. */
  readonly now?: number;
}

/**
 * Issues a publisher (code-signing) certificate or an intermediate CA.
 * @returns the certificate and whether its validity was shortened to end with the CA's
 * @throws ForgeError FO_CA_INVALID when the CA cannot issue it (not a CA, no keyCertSign,
 *   expired, key mismatch, or pathLen exhausted for an intermediate)
 */
export function issueCertificate(ca: CertificateAuthority, options: IssueOptions): { readonly certificate: Certificate; readonly clamped: boolean } {
  const { certificate: caCert } = ca;
  const now = options.now ?? Date.now();
  const refuse = (message: string): ForgeError => new ForgeError('FO_CA_INVALID', `CA "${caCert.subject.text}" ${message}`, { details: { ca: caCert.subject.text } });
  if (!caCert.spki.equals(ca.key.publicKey.spki)) throw refuse('has a key that does not match its certificate');
  if (caCert.basicConstraints?.ca !== true) throw refuse('is not a CA certificate (basicConstraints cA)');
  if (caCert.keyUsage !== undefined && !caCert.keyUsage.has('keyCertSign')) throw refuse('may not sign certificates (keyUsage lacks keyCertSign)');
  if (now > caCert.notAfter || now < caCert.notBefore) throw refuse(`is not valid now (valid ${new Date(caCert.notBefore).toISOString()} to ${new Date(caCert.notAfter).toISOString()})`);
  let pathLen: number | undefined;
  if (options.intermediate === true) {
    const limit = caCert.basicConstraints.pathLen;
    if (limit === 0) throw refuse('has pathLen 0, so it may not issue intermediate CAs');
    if (options.pathLen !== undefined && limit !== undefined && options.pathLen > limit - 1) {
      throw refuse(`has pathLen ${limit}, so an intermediate below it may have pathLen at most ${limit - 1}, not ${options.pathLen}`);
    }
    pathLen = options.pathLen ?? (limit === undefined ? undefined : limit - 1);
  } else if (options.pathLen !== undefined) {
    throw new ForgeError('FO_CA_INVALID', 'a path length applies only to intermediate CAs (--intermediate)', { details: {} });
  }
  const wanted = now + (options.days ?? DEFAULT_ISSUED_DAYS) * DAY;
  const notAfter = Math.min(wanted, caCert.notAfter);
  const der = buildCertificate(
    {
      commonName: options.name,
      publicKey: options.publicKey,
      notBefore: Math.max(now - BACKDATE_MS, caCert.notBefore),
      notAfter,
      ca: options.intermediate === true,
      ...(pathLen === undefined ? {} : { pathLen }),
      keyUsage: options.intermediate === true ? ['keyCertSign', 'cRLSign'] : ['digitalSignature'],
      ...(options.intermediate === true ? {} : { extKeyUsage: [OID.codeSigning] }),
    },
    ca.key,
    { name: caCert.subject.der, key: ca.key, keyId: caCert.subjectKeyId ?? keyIdentifier(ca.key.publicKey) },
  );
  return { certificate: parseCertificate(der, 'new certificate'), clamped: notAfter < wanted };
}

/**
 * Reads a CA directory: ca.pem, ca.key and the optional chain.pem.
 * @throws ForgeError FO_CA_INVALID, FO_CERT_INVALID, FO_KEY_INVALID, FO_IO_*
 */
export async function loadCertificateAuthority(dir: string): Promise<CertificateAuthority> {
  const read = async (name: string, required: boolean): Promise<Buffer | undefined> => {
    try {
      return await readSmallFile(join(dir, name));
    } catch (error) {
      if (!required && ForgeError.is(error, 'FO_IO_NOT_FOUND')) return undefined;
      if (ForgeError.is(error, 'FO_IO_NOT_FOUND')) {
        throw new ForgeError('FO_CA_INVALID', `${dir} is not a CA directory: it has no ${name} (make one with forge ca init)`, { details: { dir, missing: name } });
      }
      throw error;
    }
  };
  const certificateFile = join(dir, CA_FILES.certificate);
  const [first, ...extra] = certificatesFromPem(((await read(CA_FILES.certificate, true)) as Buffer).toString('latin1'), certificateFile);
  const key = importPrivateKey((await read(CA_FILES.key, true)) as Buffer, join(dir, CA_FILES.key));
  const chainText = await read(CA_FILES.chain, false);
  const chainFile = join(dir, CA_FILES.chain);
  const chain = [
    ...extra.map((der, index) => parseCertificate(der, `${certificateFile} certificate ${index + 2}`)),
    ...(chainText === undefined ? [] : certificatesFromPem(chainText.toString('latin1'), chainFile).map((der, index) => parseCertificate(der, `${chainFile} certificate ${index + 1}`))),
  ];
  return { certificate: parseCertificate(first as Buffer, certificateFile), key, chain };
}
