#!/usr/bin/env node
// Compiles a Rust plugin against the Rust PDK (pdk/rust) into a forge/1 module, with
// rustc alone (no cargo, no external crates):
//   node pdk/rust/build.mjs SOURCE.rs OUTPUT.wasm
// Needs rustc with the wasm32-wasi standard library (Debian: rustc libstd-rust-dev-wasm32);
// $RUSTC names another rustc (default /usr/bin/rustc: a rustup rustc earlier on PATH often
// lacks the wasm32-wasi target). Also imported by examples/rust-plugin/build.mjs and the tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The rustc this build uses: $RUSTC, else Debian's /usr/bin/rustc. */
export const RUSTC = process.env.RUSTC ?? '/usr/bin/rustc';

const PDK_LIB = fileURLToPath(new URL('src/lib.rs', import.meta.url));

/**
 * Flags both crates share. panic=abort because wasm32 cannot unwind (a panic traps);
 * opt-level=s keeps the module small; the 2021 edition as rustc 1.63 knows it.
 */
const COMMON = ['--edition', '2021', '--target', 'wasm32-wasi', '-C', 'opt-level=s', '-C', 'panic=abort', '-C', 'codegen-units=1', '-D', 'warnings'];

function run(args) {
  const result = spawnSync(RUSTC, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${RUSTC} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr.trim()}`);
}

/**
 * Compiles `source` (a cdylib using `forge_pdk`) into `output`: the PDK as an rlib in a
 * temporary directory, then the plugin with link-time optimisation and stripped symbols.
 * @returns the module's size in bytes
 * @throws Error with rustc's output when either step fails
 */
export function buildRustPlugin(source, output) {
  const dir = mkdtempSync(join(tmpdir(), 'forge-rust-pdk-'));
  try {
    const rlib = join(dir, 'libforge_pdk.rlib');
    run([...COMMON, '--crate-type', 'rlib', '--crate-name', 'forge_pdk', '-W', 'missing-docs', '-o', rlib, PDK_LIB]);
    const crate = 'forge_plugin'; // fixed: the crate name is in the module, and the same sources must give the same bytes
    run([...COMMON, '--crate-type', 'cdylib', '--crate-name', crate, '-C', 'lto', '-C', 'link-arg=--strip-all', '--extern', `forge_pdk=${rlib}`, '-o', output, source]);
    return readFileSync(output).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** rustc arguments that prove the wasm32-wasi standard library is installed (for requireTool). */
export function probeArgs(dir) {
  return ['--target', 'wasm32-wasi', '--crate-type', 'cdylib', '--crate-name', 'probe', '-o', join(dir, 'probe.wasm'), '-'];
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [source, output] = process.argv.slice(2);
  if (source === undefined || output === undefined) {
    console.error('usage: node pdk/rust/build.mjs SOURCE.rs OUTPUT.wasm');
    process.exit(2);
  }
  const started = Date.now();
  const size = buildRustPlugin(resolve(source), resolve(output));
  console.error(`built ${output} (${size} bytes) in ${Date.now() - started} ms`);
}
