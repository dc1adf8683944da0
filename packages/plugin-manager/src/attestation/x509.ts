/**
 * Parsing X.509 v3 certificates (RFC 5280) with our own DER reader, because
 * `crypto.X509Certificate` hides what chain validation needs: the exact TBS bytes,
 * basicConstraints' pathLen, the key-usage bits, the criticality of each extension.
 * Parsing checks structure only; {@link validateChain} (chain.ts) decides trust.
 */
import { ForgeError } from '@forgeone/common';
import { sha256, verifyBytes, type PublicKey, type SignatureHash } from './crypto.js';
import {
  DerError,
  TAG,
  bitString,
  booleanValue,
  childrenOf,
  contextTag,
  expectTag,
  integerBytes,
  oidValue,
  readSingle,
  sequence,
  smallInteger,
  stringValue,
  timeValue,
  type DerElement,
} from './der.js';
import { NAME_ATTRIBUTES, OID } from './oid.js';

/** The key-usage bits of RFC 5280 4.2.1.3, by name. */
export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
/** One of {@link KEY_USAGES}. */
export type KeyUsage = (typeof KEY_USAGES)[number];

/** A distinguished name: its exact DER (compared byte for byte) and a display form. */
export interface DistinguishedName {
  readonly der: Buffer;
  /** `CN=ACME Plugins, O=ACME`, in encoding order. For display only. */
  readonly text: string;
  /** The first commonName, if any. */
  readonly commonName: string | undefined;
}

/** One subjectAltName entry. */
export interface SubjectAltName {
  readonly type: 'email' | 'dns' | 'uri' | 'ip' | 'other';
  readonly value: string;
}

/** A parsed certificate. Times are milliseconds since the epoch. */
export interface Certificate {
  readonly der: Buffer;
  /** The DER of tbsCertificate: the bytes the issuer signed. */
  readonly tbs: Buffer;
  /** Lowercase hex sha256 of `der`. */
  readonly fingerprint: string;
  /** 1, 2 or 3. */
  readonly version: number;
  /** Lowercase hex of the serial number without leading zero bytes, e.g. `5f1c0a...`. */
  readonly serial: string;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: number;
  readonly notAfter: number;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  /** The signature algorithm's OID (checked equal in tbsCertificate and the outer structure). */
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
  /** basicConstraints, when present. */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | undefined } | undefined;
  /** keyUsage, when present. */
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  /** extKeyUsage OIDs, when present. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectAltNames: readonly SubjectAltName[];
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
  /** OIDs of critical extensions this parser does not understand (chain validation refuses them). */
  readonly unhandledCriticalExtensions: readonly string[];
}

/** Largest certificate accepted, in bytes. Real ones are 0.5-3 KiB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

const SIGNATURE_HASHES: Readonly<Record<string, { hash: SignatureHash; family: 'ecdsa' | 'ed25519' | 'rsa' }>> = {
  [OID.ecdsaWithSha256]: { hash: 'sha256', family: 'ecdsa' },
  [OID.ecdsaWithSha384]: { hash: 'sha384', family: 'ecdsa' },
  [OID.ecdsaWithSha512]: { hash: 'sha512', family: 'ecdsa' },
  [OID.ed25519]: { hash: null, family: 'ed25519' },
  [OID.sha256WithRsa]: { hash: 'sha256', family: 'rsa' },
  [OID.sha384WithRsa]: { hash: 'sha384', family: 'rsa' },
  [OID.sha512WithRsa]: { hash: 'sha512', family: 'rsa' },
};

/**
 * The hash and key family of a signature algorithm OID, or undefined when ForgeOne
 * does not verify that algorithm (SHA-1, RSA-PSS, DSA...).
 */
export function signatureAlgorithmInfo(oid: string): { readonly hash: SignatureHash; readonly family: 'ecdsa' | 'ed25519' | 'rsa' } | undefined {
  return SIGNATURE_HASHES[oid];
}

/**
 * True when `issuerKey` verifies `child`'s signature, with an algorithm ForgeOne
 * supports whose key type matches the key's. Never throws for bad input.
 */
export function verifyCertificateSignature(child: Certificate, issuerKey: PublicKey): boolean {
  const algorithm = SIGNATURE_HASHES[child.signatureAlgorithm];
  if (algorithm === undefined) return false;
  const family = issuerKey.algorithm === 'ed25519' ? 'ed25519' : issuerKey.algorithm === 'rsa' ? 'rsa' : 'ecdsa';
  return family === algorithm.family && verifyBytes(issuerKey, child.tbs, child.signature, algorithm.hash);
}

/**
 * Parses a DER certificate.
 * @param source names the certificate in messages (a file, `bundle certificate 1`)
 * @throws ForgeError FO_CERT_INVALID naming what is malformed
 */
export function parseCertificate(der: Uint8Array, source: string): Certificate {
  const bytes = Buffer.from(der);
  if (bytes.length > MAX_CERTIFICATE_BYTES) {
    throw new ForgeError('FO_CERT_INVALID', `${source} is ${bytes.length} bytes; certificates may be at most ${MAX_CERTIFICATE_BYTES} bytes`, {
      details: { source },
    });
  }
  try {
    return parse(bytes);
  } catch (error) {
    if (error instanceof DerError) {
      throw new ForgeError('FO_CERT_INVALID', `${source} is not a valid X.509 certificate: ${error.message}`, { details: { source }, cause: error });
    }
    throw error;
  }
}

function parse(bytes: Buffer): Certificate {
  const [tbsElement, outerAlgorithm, signatureElement, ...extra] = sequence(readSingle(bytes), 'Certificate');
  if (extra.length > 0) throw new DerError('Certificate has extra fields');
  const tbsFields = sequence(tbsElement, 'tbsCertificate');
  let index = 0;
  let version = 1;
  if (tbsFields[0]?.tag === contextTag(0, true)) {
    const [versionElement, ...rest] = childrenOf(tbsFields[0]);
    if (rest.length > 0) throw new DerError('version has extra fields');
    version = smallInteger(versionElement, 'version') + 1;
    if (version < 1 || version > 3) throw new DerError(`version ${version} is not 1, 2 or 3`);
    index += 1;
  }
  const serialBytes = integerBytes(tbsFields[index++], 'serialNumber');
  if (serialBytes.length > 32) throw new DerError('serialNumber is longer than 32 bytes');
  const innerAlgorithm = tbsFields[index++];
  const issuerElement = expectTag(tbsFields[index++], TAG.SEQUENCE, 'issuer');
  const [notBeforeElement, notAfterElement, ...validityExtra] = sequence(tbsFields[index++], 'validity');
  if (validityExtra.length > 0) throw new DerError('validity has extra fields');
  const subjectElement = expectTag(tbsFields[index++], TAG.SEQUENCE, 'subject');
  const spkiElement = expectTag(tbsFields[index++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  if (tbsFields[index]?.tag === contextTag(1, false)) index += 1; // issuerUniqueID
  if (tbsFields[index]?.tag === contextTag(2, false)) index += 1; // subjectUniqueID
  let extensions: DerElement[] = [];
  if (tbsFields[index]?.tag === contextTag(3, true)) {
    if (version !== 3) throw new DerError('extensions appear in a certificate that is not version 3');
    const [list, ...rest] = childrenOf(tbsFields[index] as DerElement);
    if (rest.length > 0) throw new DerError('extensions field has extra elements');
    extensions = sequence(list, 'extensions');
    if (extensions.length === 0) throw new DerError('extensions is present but empty');
    index += 1;
  }
  if (index !== tbsFields.length) throw new DerError('tbsCertificate has unexpected fields');

  const algorithm = algorithmIdentifier(innerAlgorithm, 'tbsCertificate.signature');
  const outer = algorithmIdentifier(outerAlgorithm, 'signatureAlgorithm');
  if (!algorithm.bytes.equals(outer.bytes)) throw new DerError('signatureAlgorithm differs from tbsCertificate.signature');
  const signature = bitString(signatureElement, 'signatureValue');
  if (signature.unusedBits !== 0) throw new DerError('signatureValue has unused bits');

  const parsed = parseExtensions(extensions);
  return {
    der: bytes,
    tbs: (tbsElement as DerElement).bytes,
    fingerprint: sha256(bytes).toString('hex'),
    version,
    serial: serialHex(serialBytes),
    issuer: parseName(issuerElement, 'issuer'),
    subject: parseName(subjectElement, 'subject'),
    notBefore: timeValue(notBeforeElement, 'notBefore'),
    notAfter: timeValue(notAfterElement, 'notAfter'),
    spki: spkiElement.bytes,
    signatureAlgorithm: algorithm.oid,
    signature: signature.bytes,
    ...parsed,
  };
}

/** Normalises a serial number to lowercase hex without leading zeros ("0" for zero). */
export function serialHex(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex').replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

function algorithmIdentifier(element: DerElement | undefined, what: string): { oid: string; bytes: Buffer } {
  const [oidElement, parameters, ...rest] = sequence(element, what);
  if (rest.length > 0) throw new DerError(`${what} has extra fields`);
  const oid = oidValue(oidElement, `${what}.algorithm`);
  if (parameters !== undefined && parameters.tag !== TAG.NULL && parameters.tag !== TAG.SEQUENCE && parameters.tag !== TAG.OID) {
    throw new DerError(`${what}.parameters has an unexpected type`);
  }
  return { oid, bytes: (element as DerElement).bytes };
}

function parseName(element: DerElement, what: string): DistinguishedName {
  const parts: string[] = [];
  let commonName: string | undefined;
  for (const rdn of childrenOf(element)) {
    const attributes = childrenOf(expectTag(rdn, TAG.SET, `${what} RDN`));
    if (attributes.length === 0) throw new DerError(`${what} has an empty RDN`);
    const rendered: string[] = [];
    for (const attribute of attributes) {
      const [typeElement, valueElement, ...rest] = sequence(attribute, `${what} attribute`);
      if (rest.length > 0 || valueElement === undefined) throw new DerError(`${what} attribute is malformed`);
      const type = oidValue(typeElement, `${what} attribute type`);
      let value: string;
      try {
        value = stringValue(valueElement, `${what} attribute value`);
      } catch {
        value = `#${valueElement.bytes.toString('hex')}`;
      }
      if (type === OID.commonName && commonName === undefined) commonName = value;
      rendered.push(`${NAME_ATTRIBUTES[type] ?? type}=${value.replace(/([,+=\\])/g, '\\$1')}`);
    }
    parts.push(rendered.join('+'));
  }
  return { der: element.bytes, text: parts.join(', '), commonName };
}

interface ParsedExtensions {
  basicConstraints: Certificate['basicConstraints'];
  keyUsage: Certificate['keyUsage'];
  extKeyUsage: Certificate['extKeyUsage'];
  subjectAltNames: readonly SubjectAltName[];
  subjectKeyId: Buffer | undefined;
  authorityKeyId: Buffer | undefined;
  unhandledCriticalExtensions: readonly string[];
}

function parseExtensions(extensions: readonly DerElement[]): ParsedExtensions {
  const out: ParsedExtensions = {
    basicConstraints: undefined,
    keyUsage: undefined,
    extKeyUsage: undefined,
    subjectAltNames: [],
    subjectKeyId: undefined,
    authorityKeyId: undefined,
    unhandledCriticalExtensions: [],
  };
  const seen = new Set<string>();
  const unhandled: string[] = [];
  for (const extension of extensions) {
    const fields = sequence(extension, 'extension');
    const oid = oidValue(fields[0], 'extension id');
    if (seen.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    seen.add(oid);
    let critical = false;
    let valueIndex = 1;
    if (fields[1]?.tag === TAG.BOOLEAN) {
      // An explicit FALSE is not DER, but some CAs write it; it means what it says.
      critical = booleanValue(fields[1], `extension ${oid} critical`);
      valueIndex = 2;
    }
    if (fields.length !== valueIndex + 1) throw new DerError(`extension ${oid} is malformed`);
    const value = readSingle(expectTag(fields[valueIndex], TAG.OCTET_STRING, `extension ${oid} value`).value);
    switch (oid) {
      case OID.basicConstraints:
        out.basicConstraints = parseBasicConstraints(value);
        break;
      case OID.keyUsage:
        out.keyUsage = parseKeyUsage(value);
        break;
      case OID.extKeyUsage: {
        const purposes = sequence(value, 'extKeyUsage').map((element) => oidValue(element, 'extKeyUsage purpose'));
        if (purposes.length === 0) throw new DerError('extKeyUsage is empty');
        out.extKeyUsage = purposes;
        break;
      }
      case OID.subjectAltName:
        out.subjectAltNames = parseGeneralNames(value);
        break;
      case OID.subjectKeyIdentifier:
        out.subjectKeyId = expectTag(value, TAG.OCTET_STRING, 'subjectKeyIdentifier').value;
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = sequence(value, 'authorityKeyIdentifier').find((element) => element.tag === contextTag(0, false));
        out.authorityKeyId = keyId?.value;
        break;
      }
      default:
        if (critical) unhandled.push(oid);
    }
  }
  out.unhandledCriticalExtensions = unhandled;
  return out;
}

function parseBasicConstraints(value: DerElement): { ca: boolean; pathLen: number | undefined } {
  const fields = sequence(value, 'basicConstraints');
  let index = 0;
  let ca = false;
  if (fields[index]?.tag === TAG.BOOLEAN) {
    ca = booleanValue(fields[index], 'basicConstraints.cA');
    index += 1;
  }
  let pathLen: number | undefined;
  if (fields[index] !== undefined) {
    pathLen = smallInteger(fields[index], 'basicConstraints.pathLenConstraint');
    index += 1;
  }
  if (index !== fields.length) throw new DerError('basicConstraints has extra fields');
  return { ca, pathLen };
}

function parseKeyUsage(value: DerElement): ReadonlySet<KeyUsage> {
  const { bytes } = bitString(value, 'keyUsage');
  const usages = new Set<KeyUsage>();
  KEY_USAGES.forEach((name, bit) => {
    if (((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0) usages.add(name);
  });
  return usages;
}

function parseGeneralNames(value: DerElement): SubjectAltName[] {
  return sequence(value, 'subjectAltName').map((name): SubjectAltName => {
    switch (name.tag) {
      case contextTag(1, false):
        return { type: 'email', value: name.value.toString('latin1') };
      case contextTag(2, false):
        return { type: 'dns', value: name.value.toString('latin1') };
      case contextTag(6, false):
        return { type: 'uri', value: name.value.toString('latin1') };
      case contextTag(7, false):
        return { type: 'ip', value: name.value.length === 4 ? [...name.value].join('.') : name.value.toString('hex') };
      default:
        return { type: 'other', value: name.bytes.toString('hex') };
    }
  });
}

/**
 * The publisher a certificate names: its subject commonName, else its first email or
 * URI subjectAltName (keyless Fulcio certificates have an empty subject).
 */
export function publisherOf(certificate: Certificate): string | undefined {
  if (certificate.subject.commonName !== undefined && certificate.subject.commonName !== '') return certificate.subject.commonName;
  return certificate.subjectAltNames.find((name) => name.type === 'email' || name.type === 'uri')?.value;
}
