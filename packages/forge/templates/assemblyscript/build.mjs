#!/usr/bin/env node
// Compiles assembly/index.ts with @forgeone/pdk's build (asc, the minimal runtime, abort to
// forge.log) into plugin.wasm, a forge/1 module. `npm install` first, for the compiler.
import { fileURLToPath } from 'node:url';
import { buildPlugin } from '@forgeone/pdk/build';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
try {
  const size = await buildPlugin(here('assembly/index.ts'), here('plugin.wasm'));
  console.error(`built plugin.wasm (${size} bytes)`);
} catch (error) {
  console.error(`build: ${error.message}`);
  process.exit(1);
}
