/**
 * The trust store: what an operator trusts, loaded once and kept warm. A directory:
 *
 * ```
 * roots/*.pem                  trust anchors: self-signed CA certificates (required for keyed certificates)
 * intermediates/*.pem          CA certificates offered for path building; never trusted by themselves
 * keys/<name>.pub              trusted bare public keys (SPKI PEM); the publisher is <name>
 * revocations.json             the signed revocation list (revocation.ts)
 * sigstore/trusted_root.json   the pinned Sigstore trusted root, for keyless bundles
 * ```
 *
 * or a single PEM file of root certificates. Any other entry is refused (except dot
 * files and *.md notes), so a misspelt directory never silently trusts nothing.
 * The store caches parsed certificates, public keys and certificate-signature
 * checks, so verifying many packages signed by one publisher costs one DSSE
 * signature check each once warm. Caches are bounded and only ever hold results
 * that depend on bytes alone (never on time), so they cannot go stale.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import type { ChainContext } from './chain.js';
import { importPublicKey, type PublicKey } from './crypto.js';
import { parseTrustedRoot, type KeylessTrust } from './keyless.js';
import { certificatesFromPem } from './pem.js';
import { parseRevocationList, type RevocationList } from './revocation.js';
import { parseCertificate, verifyCertificateSignature, type Certificate } from './x509.js';

/** Names inside a trust-store directory. */
export const TRUST_STORE_LAYOUT = {
  roots: 'roots',
  intermediates: 'intermediates',
  keys: 'keys',
  revocations: 'revocations.json',
  sigstore: 'sigstore',
  trustedRoot: 'trusted_root.json',
} as const;

/** A trusted bare public key and the publisher name it stands for. */
export interface TrustedKey {
  readonly name: string;
  readonly key: PublicKey;
}

/** What a trust store is made of, for {@link TrustStore.create}. */
export interface TrustStoreParts {
  readonly roots?: readonly Certificate[];
  readonly intermediates?: readonly Certificate[];
  readonly keys?: readonly TrustedKey[];
  /** The revocation list as text; verified against `roots`. */
  readonly revocations?: { readonly text: string; readonly source: string };
  readonly keyless?: KeylessTrust;
  /** Where the store came from, for messages. */
  readonly source?: string;
}

/** Largest file read from a trust store, in bytes. */
export const MAX_TRUST_FILE_BYTES = 4 * 1024 * 1024;
/** Most files read from one trust-store folder. */
export const MAX_TRUST_FILES = 10_000;
/** Entries each cache keeps before it is cleared. */
const CACHE_LIMIT = 4096;

const KEY_NAME = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})\.pub$/;
const CERT_FILE = /\.(?:pem|crt)$/;

function invalid(source: string, message: string): ForgeError {
  return new ForgeError('FO_TRUSTSTORE_INVALID', `${source}: ${message}`, { details: { file: source } });
}

function remember<K, V>(cache: Map<K, V>, key: K, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** The operator's trust roots, keys, revocations and Sigstore root, with warm caches. */
export class TrustStore {
  readonly roots: readonly Certificate[];
  readonly intermediates: readonly Certificate[];
  /** Trusted bare keys by key id. */
  readonly keys: ReadonlyMap<string, TrustedKey>;
  readonly revocations: RevocationList | undefined;
  readonly keyless: KeylessTrust | undefined;
  readonly source: string;
  readonly #certificates = new Map<string, Certificate>();
  readonly #publicKeys = new Map<string, PublicKey>();
  readonly #issued = new Map<string, boolean>();

  private constructor(parts: TrustStoreParts) {
    this.source = parts.source ?? '(trust store)';
    this.roots = parts.roots ?? [];
    this.intermediates = parts.intermediates ?? [];
    this.keys = new Map((parts.keys ?? []).map((entry) => [entry.key.keyid, entry]));
    this.keyless = parts.keyless;
    for (const root of this.roots) {
      const where = `${this.source}: root "${root.subject.text}"`;
      if (!root.subject.der.equals(root.issuer.der)) throw invalid(where, 'a trust root must be self-signed (its issuer differs from its subject)');
      if (root.basicConstraints?.ca !== true) throw invalid(where, 'a trust root must be a CA certificate (basicConstraints cA)');
      if (!this.issued(root, root)) throw invalid(where, 'its self-signature does not verify');
    }
    this.revocations =
      parts.revocations === undefined
        ? undefined
        : parseRevocationList(parts.revocations.text, this.roots, (spki) => this.publicKey(spki), parts.revocations.source);
  }

  /**
   * Builds a store from parsed parts.
   * @throws ForgeError FO_TRUSTSTORE_INVALID for a root that is not a self-signed CA,
   *   FO_REVOCATION_INVALID for a revocation list no root signed
   */
  static create(parts: TrustStoreParts): TrustStore {
    return new TrustStore(parts);
  }

  /**
   * Loads a trust-store directory (layout above) or a PEM file of roots.
   * @throws ForgeError FO_TRUSTSTORE_INVALID, FO_CERT_INVALID, FO_KEY_INVALID, FO_KEY_UNSUPPORTED,
   *   FO_REVOCATION_INVALID, FO_IO_*
   */
  static async load(path: string): Promise<TrustStore> {
    const info = await stat(path).catch((error: unknown) => {
      throw fromFsError(error, 'open the trust store', path);
    });
    if (info.isFile()) return new TrustStore({ roots: await readCertificates(path), source: path });
    if (!info.isDirectory()) throw invalid(path, 'the trust store must be a directory or a PEM file of root certificates');
    const entries = await listDirectory(path);
    for (const name of entries) {
      if (name.startsWith('.') || name.endsWith('.md')) continue;
      if (!Object.values(TRUST_STORE_LAYOUT).includes(name as never) || name === TRUST_STORE_LAYOUT.trustedRoot) {
        throw invalid(join(path, name), 'unexpected entry; a trust store holds roots/, intermediates/, keys/, revocations.json and sigstore/ (see docs/signing.md)');
      }
    }
    const roots = await readCertificateFolder(join(path, TRUST_STORE_LAYOUT.roots), entries.includes(TRUST_STORE_LAYOUT.roots));
    const intermediates = await readCertificateFolder(join(path, TRUST_STORE_LAYOUT.intermediates), entries.includes(TRUST_STORE_LAYOUT.intermediates));
    const keys: TrustedKey[] = [];
    if (entries.includes(TRUST_STORE_LAYOUT.keys)) {
      const folder = join(path, TRUST_STORE_LAYOUT.keys);
      for (const name of await listDirectory(folder)) {
        if (name.startsWith('.')) continue;
        const match = KEY_NAME.exec(name);
        if (match === null) throw invalid(join(folder, name), 'expected <name>.pub, where name is letters, digits, ".", "_" or "-"');
        const file = join(folder, name);
        keys.push({ name: match[1] as string, key: importPublicKey(await readLimited(file), file) });
      }
    }
    const revocationFile = join(path, TRUST_STORE_LAYOUT.revocations);
    const revocations = entries.includes(TRUST_STORE_LAYOUT.revocations) ? { text: (await readLimited(revocationFile)).toString('utf8'), source: revocationFile } : undefined;
    let keyless: KeylessTrust | undefined;
    if (entries.includes(TRUST_STORE_LAYOUT.sigstore)) {
      const folder = join(path, TRUST_STORE_LAYOUT.sigstore);
      for (const name of await listDirectory(folder)) {
        if (name !== TRUST_STORE_LAYOUT.trustedRoot && !name.startsWith('.')) throw invalid(join(folder, name), 'unexpected entry; sigstore/ holds trusted_root.json');
      }
      const file = join(folder, TRUST_STORE_LAYOUT.trustedRoot);
      keyless = parseTrustedRoot((await readLimited(file)).toString('utf8'), file);
    }
    return new TrustStore({ roots, intermediates, keys, ...(revocations === undefined ? {} : { revocations }), ...(keyless === undefined ? {} : { keyless }), source: path });
  }

  /**
   * Parses a certificate, or returns the cached parse of the same bytes.
   * @throws ForgeError FO_CERT_INVALID
   */
  certificate(der: Buffer, source: string): Certificate {
    const key = der.toString('base64');
    return this.#certificates.get(key) ?? remember(this.#certificates, key, parseCertificate(der, source));
  }

  /**
   * The public key in a SubjectPublicKeyInfo, cached.
   * @throws ForgeError FO_KEY_INVALID, FO_KEY_UNSUPPORTED
   */
  publicKey(spki: Buffer): PublicKey {
    const key = spki.toString('base64');
    return this.#publicKeys.get(key) ?? remember(this.#publicKeys, key, importPublicKey(spki, 'certificate public key'));
  }

  /**
   * True when `issuer`'s key verifies `child`'s signature with a supported algorithm
   * matching the key type. Cached by the pair's fingerprints.
   */
  issued(child: Certificate, issuer: Certificate): boolean {
    const cacheKey = `${child.fingerprint}:${issuer.fingerprint}`;
    const cached = this.#issued.get(cacheKey);
    if (cached !== undefined) return cached;
    return remember(this.#issued, cacheKey, this.#verifyIssued(child, issuer));
  }

  #verifyIssued(child: Certificate, issuer: Certificate): boolean {
    let key: PublicKey;
    try {
      key = this.publicKey(issuer.spki);
    } catch {
      return false;
    }
    return verifyCertificateSignature(child, key);
  }

  /**
   * What chain validation needs, with `extra` intermediates (from a bundle) added to the store's.
   * @internal The verification pipeline's view of the store; not in the declarations.
   */
  chainContext(extra: readonly Certificate[], now: number): ChainContext {
    return {
      roots: this.roots,
      intermediates: extra.length === 0 ? this.intermediates : [...extra, ...this.intermediates],
      now,
      issued: (child, issuer) => this.issued(child, issuer),
    };
  }

  /** A JSON-safe summary of what the store trusts, for `forge verify --json`. */
  summary(): {
    source: string;
    roots: string[];
    intermediates: string[];
    keys: string[];
    revocations: { signer: string; issuedAt: string; nextUpdate: string | null; entries: number } | null;
    keyless: boolean;
  } {
    const list = this.revocations;
    return {
      source: this.source,
      roots: this.roots.map((root) => root.subject.text),
      intermediates: this.intermediates.map((certificate) => certificate.subject.text),
      keys: [...this.keys.values()].map((entry) => entry.name),
      revocations:
        list === undefined
          ? null
          : {
              signer: list.signer,
              issuedAt: new Date(list.issuedAt).toISOString(),
              nextUpdate: list.nextUpdate === undefined ? null : new Date(list.nextUpdate).toISOString(),
              entries: list.serials.size + list.keyIds.size + list.digests.size,
            },
      keyless: this.keyless !== undefined,
    };
  }
}

async function listDirectory(dir: string): Promise<string[]> {
  try {
    const names = (await readdir(dir)).sort();
    if (names.length > MAX_TRUST_FILES) throw invalid(dir, `holds ${names.length} entries; the limit is ${MAX_TRUST_FILES}`);
    return names;
  } catch (error) {
    throw fromFsError(error, 'read the trust store', dir);
  }
}

async function readLimited(file: string): Promise<Buffer> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw invalid(file, 'expected a regular file');
    if (info.size > MAX_TRUST_FILE_BYTES) throw invalid(file, `is ${info.size} bytes; the limit is ${MAX_TRUST_FILE_BYTES}`);
    return await readFile(file);
  } catch (error) {
    throw fromFsError(error, 'read the trust store', file);
  }
}

async function readCertificates(file: string): Promise<Certificate[]> {
  const text = (await readLimited(file)).toString('latin1');
  return certificatesFromPem(text, file).map((der, index) => parseCertificate(der, `${file} certificate ${index + 1}`));
}

async function readCertificateFolder(folder: string, present: boolean): Promise<Certificate[]> {
  if (!present) return [];
  const out: Certificate[] = [];
  for (const name of await listDirectory(folder)) {
    if (name.startsWith('.')) continue;
    if (!CERT_FILE.test(name)) throw invalid(join(folder, name), `expected PEM certificate files named *.pem or *.crt in ${basename(folder)}/`);
    out.push(...(await readCertificates(join(folder, name))));
  }
  return out;
}
