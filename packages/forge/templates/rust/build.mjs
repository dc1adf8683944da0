#!/usr/bin/env node
// Compiles plugin.rs with the Rust PDK (pdk/) into plugin.wasm, a forge/1 module, with rustc
// alone (no cargo, no crates). Needs rustc with the wasm32-wasi standard library (Debian:
// rustc libstd-rust-dev-wasm32); $RUSTC names another rustc (default /usr/bin/rustc).
import { fileURLToPath } from 'node:url';
import { RUSTC, buildRustPlugin } from './pdk/build.mjs';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
try {
  const size = buildRustPlugin(here('plugin.rs'), here('plugin.wasm'));
  console.error(`built plugin.wasm (${size} bytes)`);
} catch (error) {
  console.error(`build: ${RUSTC} could not build plugin.wasm: ${error.message}`);
  process.exit(1);
}
