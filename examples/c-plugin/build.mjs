#!/usr/bin/env node
// Compiles plugin.c with the C PDK (pdk/c/forge.h) into a forge/1 module:
//   node examples/c-plugin/build.mjs [OUTPUT]    (default: examples/c-plugin/plugin.wasm)
// Needs clang with the wasm32 target, lld and wasi-libc (Debian: clang lld wasi-libc
// libclang-rt-14-dev-wasm32); $CLANG names another clang. Part of `npm run build`: without
// a working clang the build goes on and says so, except under CI, where it fails.
// Then `forge pack examples/c-plugin` packs plugin.toml with plugin.wasm (docs/guide/c.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const output = resolve(process.argv[2] ?? here('plugin.wasm'));
const clang = process.env.CLANG ?? 'clang';

/** The clang arguments: a WASI reactor (no main; _initialize runs libc's constructors), strict C99. */
const CLANG_ARGS = ['--target=wasm32-wasi', '-mexec-model=reactor', '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', `-I${here('../../pdk/c')}`, '-Wl,--strip-all'];

const temporary = `${output}.${process.pid}.tmp`;
const result = spawnSync(clang, [...CLANG_ARGS, '-o', temporary, here('plugin.c')], { encoding: 'utf8' });
if (result.status !== 0) {
  rmSync(temporary, { force: true });
  console.error(`build c-plugin: ${clang} could not build ${output}: ${result.error?.message ?? result.stderr.trim()}`);
  // Outside CI a machine without the wasm toolchain still builds the rest.
  process.exit(process.env.CI === 'true' || process.argv[2] !== undefined ? 1 : 0);
}
// Left alone when unchanged: a build while tests read it changes nothing under them.
const built = readFileSync(temporary);
if (existsSync(output) && readFileSync(output).equals(built)) rmSync(temporary);
else renameSync(temporary, output);
console.error(`built ${output} (${built.length} bytes)`);
