/**
 * Rust plugins built at test time with the Rust PDK's build script (pdk/rust/build.mjs:
 * rustc alone, the PDK as an rlib, the plugin as a cdylib for wasm32-wasi). Shared by
 * rust-pdk.test.ts and rust-plugin.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireTool } from '@forgeone/common/testing';

/** The repository's root directory. */
export const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));

/** The rustc the build script uses: $RUSTC, else Debian's (a rustup rustc on PATH may lack wasm32-wasi). */
export const RUSTC = process.env['RUSTC'] ?? '/usr/bin/rustc';

/** A fresh temporary directory for Rust builds. */
export function rustDir(): string {
  return mkdtempSync(join(tmpdir(), 'forge-rust-'));
}

/**
 * True when rustc can build a wasm32-wasi cdylib; otherwise the test is skipped with
 * the reason (and fails under CI, which must install rustc and libstd-rust-dev-wasm32).
 */
export function requireRust(t: TestContext, dir: string): boolean {
  const probe = join(dir, 'probe.rs');
  writeFileSync(probe, 'pub fn probe() {}\n');
  return requireTool(t, RUSTC, ['--target', 'wasm32-wasi', '--crate-type', 'cdylib', '--crate-name', 'probe', '-o', join(dir, 'probe.wasm'), probe]);
}

/**
 * Runs a build script (`node SCRIPT ...args`) and returns the module it wrote to `output`.
 * @throws AssertionError with the script's output when it fails
 */
export function runBuild(script: string, args: readonly string[], output: string): Buffer {
  const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, RUSTC } });
  assert.equal(result.status, 0, result.stderr);
  return readFileSync(output);
}
