#!/usr/bin/env node
// Compiles plugin.rs with the Rust PDK (pdk/rust) into a forge/1 module:
//   node examples/rust-plugin/build.mjs [OUTPUT]    (default: examples/rust-plugin/plugin.wasm)
// Needs rustc with the wasm32-wasi standard library (Debian: rustc libstd-rust-dev-wasm32);
// $RUSTC names another rustc (default /usr/bin/rustc). Part of `npm run build`: without a
// working rustc the build goes on and says so, except under CI, where it fails.
// Then `forge pack examples/rust-plugin` packs plugin.toml with plugin.wasm (docs/guide/rust.md).
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUSTC, buildRustPlugin } from '../../pdk/rust/build.mjs';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const output = resolve(process.argv[2] ?? here('plugin.wasm'));
const temporary = `${output}.${process.pid}.tmp`;
const started = Date.now();
try {
  buildRustPlugin(here('plugin.rs'), temporary);
} catch (error) {
  rmSync(temporary, { force: true });
  console.error(`build rust-plugin: ${RUSTC} could not build ${output}: ${error.message}`);
  // Outside CI a machine without the wasm toolchain still builds the rest.
  process.exit(process.env.CI === 'true' || process.argv[2] !== undefined ? 1 : 0);
}
// Left alone when unchanged: a build while tests read it changes nothing under them.
const built = readFileSync(temporary);
if (existsSync(output) && readFileSync(output).equals(built)) rmSync(temporary);
else renameSync(temporary, output);
console.error(`built ${output} (${built.length} bytes) in ${Date.now() - started} ms`);
