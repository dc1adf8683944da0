#!/usr/bin/env node
// Assembles plugin.wat into plugin.wasm with the wabt npm package (no native tools).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const wabt = await wabtInit();
const module = wabt.parseWat('plugin.wat', readFileSync(here('plugin.wat'), 'utf8'));
module.validate();
const { buffer } = module.toBinary({ write_debug_names: false });
// Left alone when unchanged: a build while tests read it changes nothing under them.
if (!existsSync(here('plugin.wasm')) || !readFileSync(here('plugin.wasm')).equals(Buffer.from(buffer))) writeFileSync(here('plugin.wasm'), buffer);
module.destroy();
console.error(`built examples/sample-plugin/plugin.wasm (${buffer.length} bytes)`);
