#!/usr/bin/env node
// Compiles the sample plugin (assembly/index.ts, AssemblyScript with @forgeone/pdk) into
// plugin.wasm with the PDK's build (packages/pdk/build.mjs: asc, minimal runtime, abort
// to forge.log). Part of `npm run build`; the npm `assemblyscript` compiler is a
// devDependency, so `npm ci` is all it needs. plugin.wasm is left alone when unchanged.
//   node examples/sample-plugin/build.mjs [OUTPUT]   (default: examples/sample-plugin/plugin.wasm)
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPlugin } from '@forgeone/pdk/build';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const output = resolve(process.argv[2] ?? here('plugin.wasm'));
try {
  const size = await buildPlugin(here('assembly/index.ts'), output);
  console.error(`built ${output} (${size} bytes)`);
} catch (error) {
  console.error(`build sample-plugin: ${error.message}`);
  process.exit(1);
}
