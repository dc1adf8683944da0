#!/usr/bin/env node
// The C example plugin (examples/c-plugin, built with the C PDK): its module size and the
// time of its main function, render (Markdown to HTML), for a 2 KiB and a 64 KiB document:
//   (a) the forge/1 call alone: AbiInstance.callable('render') on the module
//   (b) the same call through a PluginRegistry on the inline backend (signed package,
//       lifecycle, gate, metrics: what an embedding application pays)
// Each figure is the median over rounds of the mean time per call within a round.
// Usage: npm run build && node bench/c-plugin.mjs [--quick] [--json]
// (npm run build compiles examples/c-plugin/plugin.wasm when clang for wasm32-wasi is there.)
import { benchCase, withRatios } from './stats.mjs';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ALLOW_ALL_GATE } from '@forgeone/common';
// Internals, by built path: not part of the public API (bench/README.md).
import { HostFunctionRegistry, instantiateAbi } from '../packages/plugin-manager/dist/abi/index.js';
import { makePackage } from '../packages/plugin-manager/dist/attestation/test-support/pki.js';
import { signAsTestPublisher, testRegistry } from '../packages/plugin-manager/dist/registry/test-support/plugins.js';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const jsonCases = []; // every size's rounds (for --json), the bare call as the anchor
const ROUNDS = quick ? 7 : 21;
const wasmPath = fileURLToPath(new URL('../examples/c-plugin/plugin.wasm', import.meta.url));
if (!existsSync(wasmPath)) {
  console.error('bench/c-plugin: examples/c-plugin/plugin.wasm is missing; run npm run build with clang, lld and wasi-libc installed');
  process.exit(3); // bench/run.mjs records exit code 3 as skipped, with this reason
}
const wasm = readFileSync(wasmPath);
const toml = readFileSync(fileURLToPath(new URL('../examples/c-plugin/plugin.toml', import.meta.url)), 'utf8');

const paragraph = 'Some **bold** text, some *emphasis*, `code <here>` and a [link](https://example.com/a?b=1&c=2).\n';
function document(bytes) {
  let text = '# A document\n\n';
  for (let i = 0; text.length < bytes; i++) text += i % 5 === 4 ? `\n- item ${i}\n- item ${i + 1}\n\n` : paragraph;
  return new TextEncoder().encode(text.slice(0, bytes));
}
const SIZES = [2048, 65536];
const inputs = Object.fromEntries(SIZES.map((size) => [size, document(size)]));

// (a) The call alone. render makes no host call; kv and log are defined only so the module links.
const hostFunctions = new HostFunctionRegistry();
for (const name of ['log', 'kv_get', 'kv_set']) hostFunctions.define({ name, maxRequestBytes: 1 << 20, handler: () => new Uint8Array(0) });
const instance = instantiateAbi(new WebAssembly.Module(wasm), { gate: ALLOW_ALL_GATE, hostFunctions });
const render = instance.callable('render');

// (b) Through a registry, as an application calls it.
const { registry } = await testRegistry('inline');
await registry.startPlugin(await registry.loadPlugin(await signAsTestPublisher(makePackage({ toml, wasm }))));

async function time(call, input, iterations) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await call(input);
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const cases = {
  abi: (input) => render(input),
  registry: (input) => registry.call('c-markdown', 'render', input),
};
const results = {};
for (const size of SIZES) {
  const iterations = size > 4096 ? 50 : 1000;
  const rounds = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (const name of Object.keys(cases)) await time(cases[name], inputs[size], iterations); // warm-up
  for (let round = 0; round < ROUNDS; round++) for (const name of Object.keys(cases)) rounds[name].push(await time(cases[name], inputs[size], iterations));
  jsonCases.push(...withRatios(Object.entries(rounds).map(([name, values]) => benchCase(`${name}, ${size} B`, 'us', values, { group: `${size}`, size })), `abi, ${size} B`, `${size}`));
  results[size] = Object.fromEntries(Object.entries(rounds).map(([name, values]) => [name, median(values)]));
}
await registry.close();

const output = { moduleBytes: wasm.length, outputBytes: Object.fromEntries(SIZES.map((size) => [size, render(inputs[size]).length])), medianMicroseconds: results, cases: jsonCases };
if (asJson) console.log(JSON.stringify(output));
else {
  console.log(`examples/c-plugin/plugin.wasm: ${wasm.length} bytes`);
  for (const size of SIZES) console.log(`render ${size} B -> ${output.outputBytes[size]} B: forge/1 call ${results[size].abi.toFixed(1)} us, through the registry (inline) ${results[size].registry.toFixed(1)} us`);
}
