#!/usr/bin/env node
// One forge/1 call, side by side with the floor and with Extism, in one run:
//   (a)  ours:   AbiInstance.callable('echo') on bench/fixtures/abi-echo.wat; the output
//                comes back as a fresh Uint8Array (one slice)
//   (a2) ours, output copied into a caller-owned buffer (callable with a receiver)
//   (b)  raw:    a bare export over a fixed buffer: one Uint8Array.set in, one slice out
//   (b2) raw, output copied into a caller-owned buffer
//   (c)  extism: @extism/extism's createPlugin(...).call('echo') on bench/fixtures/extism-echo.wat
//   (d)  ours, with one guest-to-host call (forge.echo) inside the call
// for 16 B to 1 MiB in and out (16 B and 64 KiB are the targets' sizes; the others draw the
// latency-by-payload plot of bench/RESULTS.md). Rounds of the cases are interleaved so machine noise
// falls on all of them alike; each figure is the median over rounds of the mean time
// per call within a round.
//
// At 64 KiB the fresh-array cases (a, b) mostly measure the C allocator: glibc hands
// the freed 64 KiB blocks back to the kernel and page-faults them in again, which can
// cost 3-5x the copy itself on a busy machine. (a2, b2) show the cost without it; so
// does running with glibc's trimming off, which is how a host process would be tuned:
//   MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864 \
//     node --expose-gc bench/abi-call.mjs
//
// Usage: npm run build && node --expose-gc bench/abi-call.mjs [--quick] [--json]
// (without --expose-gc it runs too, with more noise from garbage collection).
import { readFileSync } from 'node:fs';
import { benchCase, withRatios } from './stats.mjs';
import { fileURLToPath } from 'node:url';
import createPlugin from '@extism/extism';
import wabtInit from 'wabt';
import { ALLOW_ALL_GATE } from '@forgeone/common';
// Internals, by built path: not part of the public API (bench/README.md).
import { HostFunctionRegistry, instantiateAbi } from '../packages/plugin-manager/dist/abi/index.js';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const ROUNDS = quick ? 9 : 31;
const TARGETS_US = { 16: 0.5, 65536: 20 };
const SIZES = [16, 256, 4096, 65536, 1 << 20];
// Calls per round by size, [fast case, Extism]: enough for ~5-20 ms per round on this class of machine.
const CALLS = { 16: [20_000, 2_000], 256: [20_000, 2_000], 4096: [5_000, 200], 65536: [1_000, 5], [1 << 20]: [50, 1] };

const wabt = await wabtInit();
function assemble(name) {
  const text = readFileSync(fileURLToPath(new URL(`fixtures/${name}`, import.meta.url)), 'utf8');
  const parsed = wabt.parseWat(name, text);
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

// (a) and (d): forge/1.
const hostFunctions = new HostFunctionRegistry().define({ name: 'echo', maxRequestBytes: 1 << 20, handler: (request) => request });
const plugin = instantiateAbi(new WebAssembly.Module(assemble('abi-echo.wat')), { gate: ALLOW_ALL_GATE, hostFunctions });
const oursEcho = plugin.callable('echo');
const oursHost = plugin.callable('echo_host');

// (b): the floor.
const raw = new WebAssembly.Instance(new WebAssembly.Module(assemble('raw-echo.wat'))).exports;
const RAW_AT = 1024;
let rawView = new Uint8Array(raw.memory.buffer);
function rawEcho(input) {
  if (rawView.buffer !== raw.memory.buffer) rawView = new Uint8Array(raw.memory.buffer);
  rawView.set(input, RAW_AT);
  const length = raw.echo(input.length);
  return rawView.slice(RAW_AT, RAW_AT + length);
}

// (a2) and (b2): the output goes into a buffer the caller owns (a worker's shared slot).
const slot = new Uint8Array(1 << 20);
const intoSlot = (output) => {
  slot.set(output);
  return slot.subarray(0, output.length);
};
const oursIntoSlot = plugin.callable('echo', intoSlot);
function rawIntoSlot(input) {
  if (rawView.buffer !== raw.memory.buffer) rawView = new Uint8Array(raw.memory.buffer);
  rawView.set(input, RAW_AT);
  const length = raw.echo(input.length);
  return intoSlot(rawView.subarray(RAW_AT, RAW_AT + length));
}

// (c): Extism's JS SDK, in the foreground (its default), no WASI.
const extism = await createPlugin({ wasm: [{ data: assemble('extism-echo.wat') }] }, { useWasi: false, runInWorker: false, logger: console });
async function extismEcho(input) {
  return (await extism.call('echo', input)).bytes();
}

let sink = 0;
function timeSync(fn, input, calls) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) sink += fn(input).length;
  return Number(process.hrtime.bigint() - started) / calls;
}
async function timeAsync(fn, input, calls) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i += 1) sink += (await fn(input)).length;
  const perCall = Number(process.hrtime.bigint() - started) / calls;
  await extism.reset(); // Extism keeps every call's blocks until reset; not timed
  return perCall;
}

const sync = (fn) => (input, calls) => timeSync(fn, input, calls);
const cases = [
  { id: 'ours', label: '(a)  forge/1 call', run: sync(oursEcho), check: oursEcho },
  { id: 'ours_slot', label: '(a2) forge/1 call into a buffer', run: sync(oursIntoSlot), check: oursIntoSlot },
  { id: 'raw', label: '(b)  raw export, set + slice', run: sync(rawEcho), check: rawEcho },
  { id: 'raw_slot', label: '(b2) raw export into a buffer', run: sync(rawIntoSlot), check: rawIntoSlot },
  { id: 'extism', label: '(c)  Extism JS SDK call', run: (input, calls) => timeAsync(extismEcho, input, calls), check: extismEcho, slow: true },
  { id: 'ours_host', label: '(d)  forge/1 call + 1 host call', run: sync(oursHost), check: oursHost },
];

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

const results = [];
for (const size of SIZES) {
  const input = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) input[i] = (i * 7 + 3) & 0xff;
  for (const c of cases) {
    const output = await c.check(input);
    if (output.length !== size || output.some((byte, i) => byte !== input[i])) throw new Error(`${c.id} does not echo ${size} bytes`);
  }
  const calls = (c) => CALLS[size][c.slow ? 1 : 0] / (quick ? 4 : 1);
  for (const c of cases) await c.run(input, calls(c) * 2); // warm up: tier-up, memory growth
  const samples = new Map(cases.map((c) => [c.id, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const c of cases) {
      // With --expose-gc, each round starts from a collected heap, so one case's garbage
      // (Extism's per-word BigInts, 64 KiB copies) is not collected on another's time.
      globalThis.gc?.();
      samples.get(c.id).push(await c.run(input, Math.max(1, Math.round(calls(c)))));
    }
  }
  for (const c of cases) {
    const ns = samples.get(c.id);
    results.push({ size, id: c.id, label: c.label, median_us: median(ns) / 1000, min_us: Math.min(...ns) / 1000, max_us: Math.max(...ns) / 1000, samples_us: ns.map((n) => n / 1000) });
  }
}
await extism.close();

const byKey = new Map(results.map((r) => [`${r.size}:${r.id}`, r]));
if (asJson) {
  // cases: per size (group), each case's median over rounds, ratio to the raw floor (b).
  const cases = results.map((r) => benchCase(r.id, 'us', r.samples_us, { label: `${r.label}, ${r.size} B`, group: `${r.size}`, size: r.size }));
  for (const size of SIZES) withRatios(cases, 'raw', `${size}`);
  for (const r of results) delete r.samples_us;
  process.stdout.write(`${JSON.stringify({ node: process.version, rounds: ROUNDS, results, cases, sink }, null, 2)}\n`);
} else {
  const fmt = (us) => (us < 10 ? us.toFixed(3) : us < 1000 ? us.toFixed(1) : us.toFixed(0));
  process.stdout.write(`forge/1 call benchmark (node ${process.version}, ${ROUNDS} interleaved rounds; microseconds per call)\n`);
  for (const size of SIZES) {
    const ours = byKey.get(`${size}:ours`).median_us;
    process.stdout.write(`\n${size < 1024 ? `${size} B` : `${size / 1024} KiB`} in and out\n`);
    process.stdout.write(`  ${'case'.padEnd(36)}${'median'.padStart(10)}${'min'.padStart(10)}${'max'.padStart(10)}   vs ours\n`);
    for (const c of cases) {
      const r = byKey.get(`${size}:${c.id}`);
      const ratio = r.median_us / ours;
      process.stdout.write(
        `  ${c.label.padEnd(36)}${fmt(r.median_us).padStart(10)}${fmt(r.min_us).padStart(10)}${fmt(r.max_us).padStart(10)}   ${ratio >= 1 ? `${ratio.toFixed(1)}x` : `1/${(1 / ratio).toFixed(1)}`}\n`,
      );
    }
    const target = TARGETS_US[size];
    if (target === undefined) continue;
    const slotted = byKey.get(`${size}:ours_slot`).median_us;
    process.stdout.write(`  target <= ${target} us median: (a) ${ours <= target ? 'met' : 'MISSED'}, (a2) ${slotted <= target ? 'met' : 'MISSED'}\n`);
  }
}
if (sink === 0) throw new Error('no output was produced');
