/**
 * Plugins for the lint tests: a forge/1 guest in WAT whose parts can be broken one at a
 * time, written as a plugin directory or packed (and signed) as a .forgepkg.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signPackage } from '../../attestation/index.js';
import { TrustStore } from '../../attestation/trust-store.js';
import { NOW, makeIssued, makeRoot } from '../../attestation/test-support/pki.js';
import { packDirectory } from '../../loader/index.js';
import { assembleWat } from '../../test-support/wat.js';

const root = makeRoot('Lint Test Root');
const publisher = makeIssued(root, 'Lint Test Publisher', false);
/** A trust store holding the lint tests' root. */
export const lintTrustStore = TrustStore.create({ roots: [root.certificate] });
export { NOW };

/** The parts of the guest; each test replaces one to break it. */
export interface GuestParts {
  readonly imports?: string;
  readonly memory?: string;
  readonly alloc?: string;
  readonly free?: string;
  readonly body?: string;
}

/** A forge/1 guest: memory, forge_alloc, forge_free, an init step and an echo callable. */
export function guestWat(parts: GuestParts = {}): string {
  return `(module
  ${parts.imports ?? ''}
  ${parts.memory ?? '(memory (export "memory") 1)'}
  ${parts.alloc ?? '(func (export "forge_alloc") (param i32) (result i32) (i32.const 1024))'}
  ${parts.free ?? '(func (export "forge_free") (param i32 i32))'}
  (func (export "on_init") (result i32) (i32.const 0))
  (func (export "echo") (param $p i32) (param $n i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $n))))
  ${parts.body ?? ''})`;
}

/** plugin.toml naming `on_init` as init, with `extra` appended. */
export function lintToml(extra = ''): string {
  return `[plugin]\nname = "lint-me"\nversion = "1.0.0"\n\n[entry_points]\ninit = "on_init"\n\n${extra}\n`;
}

/** A plugin directory with plugin.toml and plugin.wasm; `wasm` overrides the assembled guest. */
export async function pluginDir(toml: string, parts: GuestParts = {}, wasm?: Uint8Array): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-lint-'));
  await writeFile(join(dir, 'plugin.toml'), toml);
  await writeFile(join(dir, 'plugin.wasm'), wasm ?? (await assembleWat(guestWat(parts))));
  return dir;
}

/** Packs `dir` into `<dir>/out.forgepkg`, signed by the test publisher when `signed`. */
export async function packedPlugin(dir: string, signed: boolean): Promise<string> {
  const { bytes } = await packDirectory(dir);
  return writePackage(signed ? (await signPackage(bytes, { key: publisher.key, certificate: publisher.certificate.der, now: NOW })).bytes : bytes);
}

/** Writes package bytes to a new .forgepkg file and returns its path. */
export async function writePackage(bytes: Uint8Array): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'forge-lint-pkg-')), 'plugin.forgepkg');
  await writeFile(file, bytes);
  return file;
}
