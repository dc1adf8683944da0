#!/usr/bin/env node
// The same function written with each PDK, called through ForgeOne, beside Extism running
// the same guest logic built with Extism's own PDK. The function (bench/pdk/): parse a
// 4 KiB JSON document {"items":[{"id","name","price","tags"}...]} and answer
// {"count","total","sale":[ids tagged "sale"]}, in
//   C            bench/pdk/transform.c        C PDK (pdk/c), clang
//   Rust         bench/pdk/transform.rs       Rust PDK (pdk/rust), rustc 1.63
//   AS/forge     bench/pdk/transform-forge.ts ForgeOne's AssemblyScript PDK
//   AS/extism    bench/pdk/transform-extism.ts Extism's AssemblyScript PDK (@extism/as-pdk 1.0.0)
// The two AssemblyScript plugins share their logic (transform-core.ts) and asc flags, and
// both collect garbage after each call; only the PDK and the host differ. Extism's Rust and
// C PDKs cannot be built here (crates.io and GitHub are out of reach), so the Extism side
// is AssemblyScript only.
//
// Cases, per call (one 4 KiB document in, ~100 B out), each the median over rounds of the
// mean within a round, rounds interleaved:
//   forge inline / pool   PluginRegistry.call on a signed package (fuel-metered module, gate,
//                         audit log, metrics)
//   abi                   the forge/1 call alone on the module as built (no fuel, no registry)
//   extism                @extism/extism 1.0.3 createPlugin(...).call, in-process, no WASI
// Usage: npm run build && node bench/pdk.mjs [--quick] [--json]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import createPlugin from '@extism/extism';
import { ALLOW_ALL_GATE } from '@forgeone/common';
import { buildPlugin } from '@forgeone/pdk/build';
import { buildRustPlugin } from '../pdk/rust/build.mjs';
// Internals, by built path: not part of the public API (bench/README.md).
import { HostFunctionRegistry, instantiateAbi } from '../packages/plugin-manager/dist/abi/index.js';
import { makePackage } from '../packages/plugin-manager/dist/attestation/test-support/pki.js';
import { signAsTestPublisher, testRegistry } from '../packages/plugin-manager/dist/registry/test-support/plugins.js';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const ROUNDS = quick ? 5 : 21;
const CALLS = quick ? 200 : 1000;
const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'forge-bench-pdk-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// ---- The modules.
async function buildExtism(entry, output) {
  const { default: asc } = await import('assemblyscript/asc');
  const args = [entry, '--baseDir', here('pdk'), '--runtime', 'minimal', '--use', 'abort=transform-extism/benchAbort', '-O3', '--noAssert', '--converge', '--outFile', output];
  const errors = [];
  const { error } = await asc.main(args, { stderr: { write: (text) => errors.push(String(text)) }, stdout: { write: () => {} } });
  if (error) throw new Error(`asc: ${error.message}\n${errors.join('')}`);
  return readFileSync(output);
}
function buildC(source, output) {
  const args = ['--target=wasm32-wasi', '-mexec-model=reactor', '-O2', '-std=c99', '-Wall', '-Wextra', '-Werror', `-I${here('../pdk/c')}`, '-Wl,--strip-all', '-o', output, source];
  const run = spawnSync(process.env.CLANG ?? 'clang', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`clang: ${run.error?.message ?? run.stderr}`);
  return readFileSync(output);
}
const modules = {
  c: buildC(here('pdk/transform.c'), join(dir, 'c.wasm')),
  rust: (buildRustPlugin(here('pdk/transform.rs'), join(dir, 'rust.wasm')), readFileSync(join(dir, 'rust.wasm'))),
  'as-forge': (await buildPlugin(here('pdk/transform-forge.ts'), join(dir, 'as-forge.wasm')), readFileSync(join(dir, 'as-forge.wasm'))),
  'as-extism': await buildExtism(here('pdk/transform-extism.ts'), join(dir, 'as-extism.wasm')),
};

// ---- The document and the answer every module must give.
function documentOf(bytes) {
  const items = [];
  for (let id = 1; JSON.stringify({ items }).length < bytes - 120; id++) {
    items.push({ id, name: `item ${id}`, price: (id * 7919) % 10000, tags: id % 3 === 0 ? ['new', 'sale'] : ['new'] });
  }
  return { items };
}
const doc = documentOf(4096);
const input = new TextEncoder().encode(JSON.stringify(doc));
const expected = {
  count: doc.items.length,
  total: doc.items.reduce((sum, item) => sum + item.price, 0),
  sale: doc.items.filter((item) => item.tags.includes('sale')).map((item) => item.id),
};
function check(name, output) {
  const got = JSON.parse(new TextDecoder().decode(output));
  if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`${name} answered ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

// ---- The hosts.
const toml = (name) => `[plugin]\nname = "${name}"\nversion = "1.0.0"\n\n[limits]\nmemory = "16MB"\n`;
const registries = {};
for (const backend of ['inline', 'pool']) {
  const { registry } = await testRegistry(backend);
  for (const lang of ['c', 'rust', 'as-forge']) await registry.startPlugin(await registry.loadPlugin(await signAsTestPublisher(makePackage({ toml: toml(`bench-${lang}`), wasm: modules[lang] }))));
  registries[backend] = registry;
}
const extism = await createPlugin({ wasm: [{ data: modules['as-extism'] }] }, { useWasi: false, runInWorker: false });

const cases = {};
for (const lang of ['c', 'rust', 'as-forge']) {
  for (const backend of ['inline', 'pool']) cases[`${lang} ${backend}`] = () => registries[backend].call(`bench-${lang}`, 'transform', input);
}
// The forge/1 call alone on the module as built (no fuel instrumentation, no registry): what
// the host adds on top of the guest's own work, apart from metering.
for (const lang of ['c', 'as-forge']) {
  const hostFunctions = new HostFunctionRegistry();
  hostFunctions.define({ name: 'log', maxRequestBytes: 1 << 16, handler: () => new Uint8Array(0) }); // asc's abort
  const callable = instantiateAbi(new WebAssembly.Module(modules[lang]), { gate: ALLOW_ALL_GATE, hostFunctions }).callable('transform');
  cases[`${lang} abi`] = () => callable(input);
}
cases['as-extism extism'] = async () => (await extism.call('transform', input)).bytes();
for (const [name, run] of Object.entries(cases)) check(name, await run());

async function round(run) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await run();
  return Number(process.hrtime.bigint() - start) / 1000 / CALLS;
}
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (const run of Object.values(cases)) await round(run); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(cases)) samples[name].push(await round(run));
  await extism.reset(); // Extism keeps every call's blocks until reset; not timed
}
for (const registry of Object.values(registries)) await registry.close();
await extism.close();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => [Math.min(...values), Math.max(...values)];
const results = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, { median: median(values), range: spread(values) }]));
const output = {
  inputBytes: input.length,
  moduleBytes: Object.fromEntries(Object.entries(modules).map(([name, wasm]) => [name, wasm.length])),
  microsecondsPerCall: results,
  ratio: {
    'as-forge inline / as-extism': results['as-forge inline'].median / results['as-extism extism'].median,
    'as-forge pool / as-extism': results['as-forge pool'].median / results['as-extism extism'].median,
    'as-forge abi (unmetered) / as-extism': results['as-forge abi'].median / results['as-extism extism'].median,
  },
};
if (asJson) console.log(JSON.stringify(output));
else {
  console.log(`transform of a ${input.length} B JSON document, median us per call over ${ROUNDS} rounds of ${CALLS} (min-max of rounds)`);
  for (const [name, { median: m, range }] of Object.entries(results)) console.log(`  ${name.padEnd(18)} ${m.toFixed(1).padStart(7)}  (${range[0].toFixed(1)}-${range[1].toFixed(1)})`);
  console.log('module bytes: ' + Object.entries(output.moduleBytes).map(([name, bytes]) => `${name} ${bytes}`).join(', '));
  for (const [name, value] of Object.entries(output.ratio)) console.log(`${name}: ${value.toFixed(2)}`);
}
