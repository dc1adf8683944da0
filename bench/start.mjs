#!/usr/bin/env node
// An installed, signed plugin from stopped to Running in the pool (target <= 5 ms).
// Run: npm run build && node bench/start.mjs [ROUNDS] [--quick] [--json]   (default 200; --quick 50)
//
// Setup (not timed): a CA and publisher, the sample plugin packed, signed and installed
// in a store; a registry on a one-worker pool. Timed, medians of repeated rounds:
//  - load + start: openVerifiedPackage (warm trust store), prepareModule (compile-cache
//    hit after the first), backend.load (instantiate in the worker), init, start;
//  - stop -> start: the plugin is loaded and stopped; start runs its start entry point;
//  - the first load + start of the process (cold: compiles the module, warms the worker);
//  - where load + start's time goes, in a second registry whose backend is wrapped to time
//    its calls (separate rounds, so the wrapping costs the timed case nothing): loadPlugin
//    (read, verify, prepare on the host), the pool's load (placing, the worker's
//    instantiation and both threads' wake-ups), the init and start jobs, and the rest;
//    and (Linux, schedstat) how long threads were runnable but waiting for a CPU: the host
//    thread during loadPlugin and during startPlugin, and every thread of the process (the
//    pool worker, V8's helpers) during startPlugin;
//  - the anchor, Extism: createPlugin + one call of its echo guest, from bytes (its cold
//    start), from a compiled module, and in a worker of its own (rounds / 5, at least 5).
// Container runtimes (podman with runc, and crun where it runs) are measured side by side
// with ForgeOne's launcher in bench/containers.mjs, on an image it builds from busybox-static.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import createPlugin from '@extism/extism';
import wabtInit from 'wabt';
import { benchCase, jsonOutput, singleCase } from './stats.mjs';
import { parseConfig } from '../packages/common/dist/index.js';
import { PluginRegistry, PluginStore, storeOptionsFromConfig } from '../packages/plugin-manager/dist/index.js';
import { configuredBackend } from '../packages/plugin-manager/dist/registry/backend-host.js';
import { TrustStore, createRootCa, encodePem, generateKeyPair, issueCertificate, packDirectory, signPackage } from '../packages/plugin-manager/dist/signing.js';

const emit = jsonOutput();
const rounds = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? (process.argv.includes('--quick') ? 50 : 200));
const dir = await mkdtemp(join(tmpdir(), 'forge-bench-start-'));
const root = createRootCa({ name: 'Bench Root' });
const publisher = generateKeyPair('ed25519');
const { certificate } = issueCertificate({ certificate: root.certificate, key: root.key, chain: [] }, { publicKey: publisher.publicKey, name: 'Bench Publisher' });
await writeFile(join(dir, 'trust.pem'), encodePem('CERTIFICATE', root.certificate.der));
const packed = await packDirectory(fileURLToPath(new URL('../examples/sample-plugin', import.meta.url)));
const signed = await signPackage(packed.bytes, { key: publisher, certificate: certificate.der });

const config = parseConfig(
  'plugin_manager:\n  plugin_directory: plugins\n  temp_directory: tmp\n  security:\n    trust_store: trust.pem\n    namespace_isolation: false\n  runtime:\n    backend: pool\n    pool_size: 1\n',
  { name: 'bench.yaml', baseDir: dir },
);
const verification = { verifySignatures: true, trustStore: TrustStore.create({ roots: [root.certificate] }) };
const store = await PluginStore.open(storeOptionsFromConfig(config, verification));
const installed = (await store.install(signed.bytes)).plugin;
const registry = await PluginRegistry.create(config, { configDir: dir, audit: false, attestation: verification });

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p90 = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)];

let start = process.hrtime.bigint();
let id = await registry.loadPlugin(installed.paths.package);
await registry.startPlugin(id);
const cold = ms(start);

const loadStart = [];
const stopStart = [];
for (let round = 0; round < rounds; round += 1) {
  await registry.stopPlugin(id);
  start = process.hrtime.bigint();
  await registry.startPlugin(id);
  stopStart.push(ms(start));
  await registry.unloadPlugin(id);
  start = process.hrtime.bigint();
  id = await registry.loadPlugin(installed.paths.package);
  await registry.startPlugin(id);
  loadStart.push(ms(start));
}
await registry.close();

// The stages of load + start. The backend and its handles are wrapped to time load and
// the lifecycle steps; what the registry does around them is the rest of startPlugin.
const stage = { loadPlugin: [], 'pool load (instantiate in the worker)': [], 'init job': [], 'start job': [], 'rest of startPlugin': [] };
// Time runnable but not running (the second field of schedstat, ns), read outside the timed stages.
const schedstat = existsSync('/proc/thread-self/schedstat');
const waitedMs = (path) => Number(readFileSync(path, 'utf8').split(' ')[1]) / 1e6;
const hostWaited = () => waitedMs('/proc/thread-self/schedstat');
const allWaited = () => readdirSync('/proc/self/task').reduce((sum, task) => {
  try {
    return sum + waitedMs(`/proc/self/task/${task}/schedstat`);
  } catch {
    return sum; // a thread that ended meanwhile
  }
}, 0);
const cpuWait = { 'loadPlugin: the host thread': [], 'startPlugin: the host thread': [], 'startPlugin: every thread (worker, V8 helpers too)': [] };
let current = {};
const timed = (what, run) => async (...args) => {
  const begun = process.hrtime.bigint();
  try {
    return await run(...args);
  } finally {
    current[what] = ms(begun);
  }
};
const timedHandle = (handle) => new Proxy(handle, {
  get: (target, key) => {
    const value = Reflect.get(target, key);
    if (typeof value !== 'function') return value;
    return key === 'lifecycle' ? (step, ...rest) => timed(`${step} job`, (...args) => value.apply(target, args))(step, ...rest) : value.bind(target);
  },
});
const timedBackend = (backend) => new Proxy(backend, {
  get: (target, key) => {
    const value = Reflect.get(target, key);
    if (typeof value !== 'function') return value;
    return key === 'load' ? timed('pool load (instantiate in the worker)', async (spec) => timedHandle(await value.call(target, spec))) : value.bind(target);
  },
});
const staged = await PluginRegistry.create(config, { configDir: dir, audit: false, attestation: verification, backend: async (host, forged) => timedBackend(await configuredBackend(host, forged)) });
id = await staged.loadPlugin(installed.paths.package);
await staged.startPlugin(id);
for (let round = 0; round < rounds; round += 1) {
  await staged.stopPlugin(id);
  await staged.startPlugin(id);
  await staged.unloadPlugin(id);
  current = {};
  const hostBefore = schedstat ? hostWaited() : 0;
  start = process.hrtime.bigint();
  id = await staged.loadPlugin(installed.paths.package);
  stage.loadPlugin.push(ms(start));
  const hostBetween = schedstat ? hostWaited() : 0;
  const allBefore = schedstat ? allWaited() : 0;
  if (schedstat) cpuWait['loadPlugin: the host thread'].push(hostBetween - hostBefore);
  const hostStarting = schedstat ? hostWaited() : 0;
  start = process.hrtime.bigint();
  await staged.startPlugin(id);
  const starting = ms(start);
  if (schedstat) {
    cpuWait['startPlugin: the host thread'].push(hostWaited() - hostStarting);
    cpuWait['startPlugin: every thread (worker, V8 helpers too)'].push(allWaited() - allBefore);
  }
  for (const what of ['pool load (instantiate in the worker)', 'init job', 'start job']) stage[what].push(current[what] ?? 0);
  stage['rest of startPlugin'].push(starting - (current['pool load (instantiate in the worker)'] ?? 0) - (current['init job'] ?? 0) - (current['start job'] ?? 0));
}
await staged.close();

// Extism, the embedding peer: createPlugin of its echo guest (bench/fixtures/extism-echo.wat)
// plus one call, then close, from the module's bytes (compile + instantiate: its cold start)
// and from a compiled WebAssembly.Module (instantiate only: the counterpart of ForgeOne's
// load, whose compile cache hits after the first), in process and in a worker of its own.
const wabt = await wabtInit();
const parsed = wabt.parseWat('extism-echo.wat', readFileSync(fileURLToPath(new URL('fixtures/extism-echo.wat', import.meta.url)), 'utf8'));
const extismBytes = parsed.toBinary({}).buffer;
parsed.destroy();
const extismModule = await WebAssembly.compile(extismBytes);
const quiet = { ...console, debug() {}, info() {}, log() {} };
const extismTimes = { bytes: [], module: [], worker: [] };
const extismRounds = Math.max(5, Math.floor(rounds / 5));
const extismStart = async (wasm, runInWorker) => {
  const begun = process.hrtime.bigint();
  const plugin = await createPlugin({ wasm: [wasm] }, { useWasi: false, runInWorker, logger: quiet });
  await plugin.call('echo', 'x');
  const took = ms(begun);
  await plugin.close();
  return took;
};
for (let round = 0; round < extismRounds; round += 1) {
  extismTimes.bytes.push(await extismStart({ data: extismBytes }, false));
  extismTimes.module.push(await extismStart({ module: extismModule }, false));
  extismTimes.worker.push(await extismStart({ module: extismModule }, true));
}

console.log(`installed signed plugin to Running on a one-worker pool (node ${process.version}, ${rounds} rounds)`);
console.log(`  first load + start in the process (cold compile)     ${cold.toFixed(2)} ms`);
console.log(`  load + start (verify, prepare, instantiate, init)    median ${median(loadStart).toFixed(3)} ms, p90 ${p90(loadStart).toFixed(3)} ms  (target <= 5 ms)`);
console.log(`  stopped -> Running (start entry point)               median ${median(stopStart).toFixed(3)} ms, p90 ${p90(stopStart).toFixed(3)} ms`);
console.log('  where load + start goes (separate rounds, wrapped backend):');
for (const [what, values] of Object.entries(stage)) console.log(`    ${what.padEnd(50)} median ${median(values).toFixed(3)} ms, p90 ${p90(values).toFixed(3)} ms`);
if (schedstat) {
  console.log('  runnable but waiting for a CPU, same rounds (/proc schedstat, summed over the threads named):');
  for (const [what, values] of Object.entries(cpuWait)) console.log(`    ${what.padEnd(50)} median ${median(values).toFixed(3)} ms, p90 ${p90(values).toFixed(3)} ms`);
}
console.log('  container runtimes: see bench/containers.mjs (podman run --rm, pause, memory, side by side)');
console.log(`  Extism createPlugin + first call, from bytes (cold)   median ${median(extismTimes.bytes).toFixed(3)} ms`);
console.log(`  Extism createPlugin + first call, compiled module     median ${median(extismTimes.module).toFixed(3)} ms`);
console.log(`  Extism createPlugin runInWorker + first call          median ${median(extismTimes.worker).toFixed(3)} ms`);
emit?.({
  rounds,
  cases: [
    benchCase('load + start', 'ms', loadStart, { perCall: true }),
    benchCase('stopped -> Running', 'ms', stopStart, { perCall: true }),
    singleCase('first load + start in the process (cold)', 'ms', cold),
    ...Object.entries(stage).map(([what, values]) => benchCase(`load + start, stage: ${what}`, 'ms', values, { perCall: true })),
    ...(schedstat ? Object.entries(cpuWait).map(([what, values]) => benchCase(`load + start, waiting for a CPU: ${what}`, 'ms', values, { perCall: true })) : []),
    ...[
      ['Extism: createPlugin + first call, from bytes (compile + instantiate)', extismTimes.bytes],
      ['Extism: createPlugin + first call, from a compiled module (instantiate)', extismTimes.module],
      ['Extism: createPlugin runInWorker + first call, compiled module', extismTimes.worker],
    ].map(([label, values]) => ({ ...benchCase(label, 'ms', values, { perCall: true }), anchor: 'load + start', ratio: median(values) / median(loadStart) })),
  ],
});
