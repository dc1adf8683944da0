/**
 * Test fixtures for attestation: packages built in memory, a PKI with hand-made
 * certificates (including broken ones the CLI would never issue), and a signer that
 * skips the checks `signPackage` makes, so each hostile case has exactly one defect.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPackage, writeArchive, type ArchiveFile } from '../../loader/index.js';
import { parsePluginToml, serializeManifest } from '../../plugin/index.js';
import { serializeBundle, type VerificationMaterial } from '../bundle.js';
import { generateKeyPair, type PrivateKey } from '../crypto.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../dsse.js';
import { OID } from '../oid.js';
import { buildStatement } from '../statement.js';
import { buildCertificate, keyIdentifier, type CertificateTemplate } from '../x509-build.js';
import { parseCertificate, type Certificate, type KeyUsage } from '../x509.js';

export const DAY = 86_400_000;
/** A fixed "now" for tests: 2025-06-01T00:00:00Z. */
export const NOW = Date.UTC(2025, 5, 1);
export const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** The repository root (the directory holding package-lock.json). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package-lock.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repository root not found');
    dir = parent;
  }
  return dir;
}

/** plugin.toml text for a test plugin. */
export function pluginToml(name = 'hello', version = '1.0.0', extra = ''): string {
  return `[plugin]\nname = "${name}"\nversion = "${version}"\ndescription = "test plugin"\n${extra}\n[permissions]\nfilesystem = ["read"]\n`;
}

/** The files of an unsigned package. */
export function packageFiles(options: { name?: string; version?: string; wasm?: Buffer; assets?: Record<string, Buffer | string>; toml?: string } = {}): ArchiveFile[] {
  const toml = options.toml ?? pluginToml(options.name, options.version);
  const files: ArchiveFile[] = [
    { path: 'manifest.json', data: Buffer.from(serializeManifest(parsePluginToml(toml))) },
    { path: 'plugin.toml', data: Buffer.from(toml) },
    { path: 'plugin.wasm', data: options.wasm ?? WASM },
  ];
  for (const [path, data] of Object.entries(options.assets ?? { 'assets/readme.txt': 'hello' })) files.push({ path, data: Buffer.from(data) });
  return files;
}

/** An unsigned package's bytes. */
export function makePackage(options: Parameters<typeof packageFiles>[0] = {}): Buffer {
  return writeArchive(packageFiles(options));
}

/** Reads a package into editable archive files. */
export async function filesOf(bytes: Uint8Array): Promise<ArchiveFile[]> {
  const contents = await readPackage(bytes);
  return contents.files.map((file) => ({ path: file.path, data: contents.read(file.path) ?? Buffer.alloc(0) }));
}

/** Rewrites a package through `edit`, e.g. to tamper with a file. */
export async function rewrite(bytes: Uint8Array, edit: (files: ArchiveFile[]) => ArchiveFile[]): Promise<Buffer> {
  return writeArchive(edit(await filesOf(bytes)));
}

/** A key and its certificate. */
export interface Issued {
  readonly key: PrivateKey;
  readonly certificate: Certificate;
}

/** Template overrides for hand-made certificates. */
export interface CertOptions {
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly ca?: boolean;
  readonly pathLen?: number;
  readonly keyUsage?: readonly KeyUsage[];
  /** extKeyUsage OIDs; `null` omits the extension. */
  readonly extKeyUsage?: readonly string[] | null;
  readonly algorithm?: 'ed25519' | 'ecdsa-p256';
  readonly extraExtensions?: CertificateTemplate['extraExtensions'];
}

function template(name: string, key: PrivateKey, ca: boolean, options: CertOptions): CertificateTemplate {
  const eku = options.extKeyUsage === undefined ? (ca ? undefined : [OID.codeSigning]) : options.extKeyUsage === null ? undefined : options.extKeyUsage;
  return {
    commonName: name,
    publicKey: key.publicKey,
    notBefore: options.notBefore ?? NOW - 30 * DAY,
    notAfter: options.notAfter ?? NOW + 365 * DAY,
    ca: options.ca ?? ca,
    ...(options.pathLen === undefined ? {} : { pathLen: options.pathLen }),
    keyUsage: options.keyUsage ?? (ca ? ['keyCertSign', 'cRLSign'] : ['digitalSignature']),
    ...(eku === undefined ? {} : { extKeyUsage: eku }),
    ...(options.extraExtensions === undefined ? {} : { extraExtensions: options.extraExtensions }),
  };
}

/** A self-signed root CA. */
export function makeRoot(name = 'Test Root CA', options: CertOptions = {}): Issued {
  const key = generateKeyPair(options.algorithm ?? 'ed25519');
  return { key, certificate: parseCertificate(buildCertificate(template(name, key, true, options), key), name) };
}

/** A certificate issued by `issuer`: a CA when `ca`, else a publisher. */
export function makeIssued(issuer: Issued, name: string, ca: boolean, options: CertOptions = {}): Issued {
  const key = generateKeyPair(options.algorithm ?? 'ed25519');
  const der = buildCertificate(template(name, key, ca, options), issuer.key, {
    name: issuer.certificate.subject.der,
    key: issuer.key,
    keyId: issuer.certificate.subjectKeyId ?? keyIdentifier(issuer.key.publicKey),
  });
  return { key, certificate: parseCertificate(der, name) };
}

/** Options for {@link signRaw}. */
export interface RawSignOptions {
  /** Certificates (leaf first) or a key hint; default: a hint with the key's id. */
  readonly material?: VerificationMaterial;
  readonly payloadType?: string;
  /** The payload to sign; default: the package's own statement. */
  readonly payload?: Buffer;
  /** Attestation file name; default `attestations/<keyid>.sigstore.json`. */
  readonly path?: string;
}

/** Signs a package without any of signPackage's checks and adds the attestation. */
export async function signRaw(bytes: Uint8Array, key: PrivateKey, options: RawSignOptions = {}): Promise<Buffer> {
  const contents = await readPackage(bytes);
  const envelope = signEnvelope(options.payloadType ?? IN_TOTO_PAYLOAD_TYPE, options.payload ?? buildStatement(contents), key);
  const bundle = serializeBundle({ material: options.material ?? { kind: 'publicKey', hint: key.publicKey.keyid }, envelope });
  const path = options.path ?? `attestations/${key.publicKey.keyid}.sigstore.json`;
  return rewrite(bytes, (files) => [...files.filter((file) => file.path !== path), { path, data: Buffer.from(bundle) }]);
}

/** Certificate material for {@link signRaw}: the given certificates' DER, leaf first. */
export function chainMaterial(...certificates: Certificate[]): VerificationMaterial {
  return { kind: 'certificate', certificates: certificates.map((certificate) => certificate.der) };
}
