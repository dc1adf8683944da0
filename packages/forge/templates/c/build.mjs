#!/usr/bin/env node
// Compiles plugin.c with the C PDK (pdk/forge.h) into plugin.wasm, a WASI reactor speaking
// the forge/1 ABI. Needs clang with the wasm32 target, lld and wasi-libc (Debian: clang lld
// wasi-libc libclang-rt-14-dev-wasm32); $CLANG names another clang.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const clang = process.env.CLANG ?? 'clang';
const args = ['--target=wasm32-wasi', '-mexec-model=reactor', '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', `-I${here('pdk')}`, '-Wl,--strip-all', '-o', here('plugin.wasm'), here('plugin.c')];
const result = spawnSync(clang, args, { stdio: 'inherit' });
if (result.error) console.error(`build: cannot run ${clang}: ${result.error.message} (install clang, lld and wasi-libc)`);
process.exit(result.status ?? 1);
