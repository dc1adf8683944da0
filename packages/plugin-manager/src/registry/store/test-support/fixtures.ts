/**
 * Fixtures for the store tests: a PKI with two publishers, signed packages of any
 * name, version and permissions, and stores in fresh temporary directories.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPackage } from '../../../attestation/sign.js';
import { TrustStore } from '../../../attestation/trust-store.js';
import { encodePem } from '../../../attestation/pem.js';
import { NOW, WASM, makeIssued, makePackage, makeRoot, type Issued } from '../../../attestation/test-support/pki.js';
import type { PluginStoreOptions } from '../options.js';
import { PluginStore } from '../store.js';

export { NOW };

export const root = makeRoot('Store Root');
export const publisher = makeIssued(root, 'Store Publisher', false);
export const otherPublisher = makeIssued(root, 'Other Publisher', false);
export const trustStore = TrustStore.create({ roots: [root.certificate] });

/** What a test package asks for. */
export interface PackageSpec {
  readonly name?: string;
  readonly version?: string;
  /** The body of plugin.toml's [permissions] table. */
  readonly permissions?: string;
  /** Extra assets: path (under assets/) -> content. */
  readonly assets?: Record<string, Buffer | string>;
  /** Changes the module's bytes, to make a package with other content. */
  readonly variant?: number;
  readonly signer?: Issued | null;
}

/** plugin.toml for a test package. */
export function tomlFor(spec: PackageSpec): string {
  return `[plugin]\nname = "${spec.name ?? 'hello'}"\nversion = "${spec.version ?? '1.0.0'}"\n\n[permissions]\n${spec.permissions ?? 'filesystem = ["read"]'}\n`;
}

/** A package's bytes, signed by `spec.signer` (default: {@link publisher}; null: unsigned). */
export async function makeSigned(spec: PackageSpec = {}): Promise<Buffer> {
  const wasm = spec.variant === undefined ? WASM : Buffer.concat([WASM, Buffer.from([0, 1, spec.variant & 0xff])]);
  const assets = Object.fromEntries(Object.entries(spec.assets ?? { 'readme.txt': 'hello' }).map(([path, data]) => [`assets/${path}`, data]));
  const bytes = makePackage({ toml: tomlFor(spec), wasm, assets });
  if (spec.signer === null) return bytes;
  const signer = spec.signer ?? publisher;
  return (await signPackage(bytes, { key: signer.key, certificate: signer.certificate.der, now: NOW })).bytes;
}

/** A fresh, empty directory. */
export async function tempDir(prefix = 'forge-store-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Opens a store in a fresh directory (or `directory`) that verifies against {@link trustStore} at {@link NOW}. */
export async function openStore(options: Partial<PluginStoreOptions> = {}): Promise<PluginStore> {
  return PluginStore.open({
    directory: options.directory ?? join(await tempDir(), 'plugins'),
    verification: { verifySignatures: true, trustStore, now: NOW },
    now: () => NOW,
    ...options,
  });
}

/** Writes the trust store as a directory (roots/store-root.pem), for child processes. */
export async function writeTrustDir(dir: string): Promise<string> {
  const trust = join(dir, 'trust');
  await mkdir(join(trust, 'roots'), { recursive: true });
  await writeFile(join(trust, 'roots', 'store-root.pem'), encodePem('CERTIFICATE', root.certificate.der));
  return trust;
}
