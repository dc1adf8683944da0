#!/usr/bin/env node
// Fuel metering overhead and instrumentation throughput, in one run:
//   (1) compute kernels, original module vs the same module instrumented with fuel (plus
//       memory and table caps), in the same process: the kernels of a C reactor compiled
//       at run time with `clang --target=wasm32-wasi -O2` (sieve: a tight store loop;
//       matmul; collatz; fnv; mix: loads, multiplies and a modulo; fib: tiny recursive
//       calls) and a WAT xorshift loop that needs no compiler. Each kernel is warmed up
//       until the engine has tiered it up, then rounds alternate original and instrumented
//       calls so machine noise falls on both alike; a figure is the median over rounds,
//       and the ratio is instrumented / original (1.00 = no overhead).
//       Two memcpy-heavy WAT kernels show what charging bulk operations by their length
//       (one unit per byte) costs in time: memory.copy of 64-byte and of 64 KiB blocks.
//   (2) instrumentation throughput (decode, rewrite, encode) and analysis throughput on the
//       largest compiled program, in MB/s (1 MB = 10^6 bytes).
// Without clang, (1) runs the WAT loop only and (2) uses a generated module.
//
// Usage: npm run build && node bench/fuel.mjs [--quick] [--json]
import { rmSync } from 'node:fs';
import { benchCase, withRatios } from './stats.mjs';
import { WASI } from 'node:wasi';
// Internals, by built path: not part of the public API (bench/README.md).
import { FuelMeter, analyzeModule, instrumentModule } from '../packages/plugin-manager/dist/runtime/index.js';
import { C_PROGRAMS, KERNEL_ARGS, compileProgram, programDir } from '../packages/plugin-manager/dist/runtime/wasm/test-support/c-programs.js';
import { generateModule } from '../packages/plugin-manager/dist/runtime/wasm/test-support/generator.js';
import { wat } from '../packages/plugin-manager/dist/runtime/wasm/test-support/wat.js';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const ROUNDS = quick ? 7 : 21;
const WARMUP = quick ? 3 : 8;
const TARGET = 1.15;
const AMPLE = 10n ** 15n;
// Per kernel, the original (the anchor) and the instrumented module's rounds (for --json).
const cases = [];
const INSTRUMENT = { fuel: true, maxMemoryBytes: 256 * 1024 * 1024, maxTableElements: 100_000 };

const XORSHIFT = `(module (func (export "xorshift") (param $n i32) (result i64) (local $x i64) (local $s i64)
  (local.set $x (i64.const 88172645463325252))
  (loop $l
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
    (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
    (local.set $s (i64.add (local.get $s) (local.get $x)))
    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
  (local.get $s)))`;

// Copies 64-byte blocks (copy64) or 64 KiB blocks (copy64k) from the first MiB to the
// second, n times, and sums a word of each destination so the copies cannot be elided.
const MEMCPY = `(module (memory (export "memory") 64 64)
  (data (i32.const 0) "\\01\\02\\03\\04\\05\\06\\07\\08")
  (data (i32.const 196608) "\\11\\12\\13\\14\\15\\16\\17\\18")
  (func (export "copy64") (param $n i32) (result i64) (local $i i32) (local $d i32) (local $s i64)
    (loop $l
      (local.set $d (i32.add (i32.const 1048576) (i32.and (i32.mul (local.get $i) (i32.const 64)) (i32.const 0xffc0))))
      (memory.copy (local.get $d) (i32.and (i32.mul (local.get $i) (i32.const 72)) (i32.const 0x3ffc0)) (i32.const 64))
      (local.set $s (i64.add (local.get $s) (i64.load (local.get $d))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))
  (func (export "copy64k") (param $n i32) (result i64) (local $i i32) (local $d i32) (local $s i64)
    (loop $l
      (local.set $d (i32.add (i32.const 1048576) (i32.mul (i32.and (local.get $i) (i32.const 7)) (i32.const 65536))))
      (memory.copy (local.get $d) (i32.mul (i32.and (i32.add (local.get $i) (i32.const 3)) (i32.const 15)) (i32.const 65536)) (i32.const 65536))
      (local.set $s (i64.add (local.get $s) (i64.load (local.get $d))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s)))`;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Instantiates a module; a WASI reactor gets its initialiser run (with fuel, when metered). */
async function instantiate(bytes, { wasi = false, metered = false } = {}) {
  const module = await WebAssembly.compile(bytes);
  const host = wasi ? new WASI({ version: 'preview1', returnOnExit: true }) : undefined;
  const instance = await WebAssembly.instantiate(module, host?.getImportObject() ?? {});
  const meter = metered ? FuelMeter.of(instance) : undefined;
  if (meter) meter.remaining = AMPLE;
  host?.initialize(instance);
  return { instance, meter };
}

/** Times one call; the fuel is set outside the timed region. */
function timeCall(side, kernel, arg) {
  if (side.meter) side.meter.remaining = AMPLE;
  const started = process.hrtime.bigint();
  const value = side.instance.exports[kernel](arg);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  return { value, elapsed, used: side.meter ? AMPLE - side.meter.remaining : 0n };
}

async function measureKernels(bytes, kernels, wasi) {
  const original = await instantiate(bytes, { wasi });
  const instrumented = await instantiate(instrumentModule(bytes, INSTRUMENT).bytes, { wasi, metered: true });
  const rows = [];
  for (const [kernel, arg] of kernels) {
    for (let round = 0; round < WARMUP; round += 1) {
      timeCall(original, kernel, arg);
      timeCall(instrumented, kernel, arg);
    }
    const a = [];
    const b = [];
    let fuel = 0n;
    for (let round = 0; round < ROUNDS; round += 1) {
      const first = round % 2 === 0 ? original : instrumented;
      const second = first === original ? instrumented : original;
      const x = timeCall(first, kernel, arg);
      const y = timeCall(second, kernel, arg);
      const [o, i] = first === original ? [x, y] : [y, x];
      if (o.value !== i.value) throw new Error(`${kernel}: instrumented result ${i.value} differs from ${o.value}`);
      a.push(o.elapsed);
      b.push(i.elapsed);
      fuel = i.used;
    }
    cases.push(...withRatios([benchCase(`${kernel}: original`, 'ms', a, { group: kernel }), benchCase(`${kernel}: fuel`, 'ms', b, { group: kernel })], `${kernel}: original`));
    const originalMs = median(a);
    const instrumentedMs = median(b);
    rows.push({ kernel, arg, originalMs, instrumentedMs, ratio: instrumentedMs / originalMs, fuel: fuel.toString() });
  }
  return rows;
}

function throughput(bytes) {
  const runs = quick ? 10 : 40;
  const time = (work) => {
    for (let i = 0; i < 3; i += 1) work();
    const samples = [];
    for (let i = 0; i < runs; i += 1) {
      const started = process.hrtime.bigint();
      work();
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(samples);
  };
  const instrumentMs = time(() => instrumentModule(bytes, INSTRUMENT));
  const analyzeMs = time(() => analyzeModule(bytes));
  const mbps = (ms) => bytes.length / 1e6 / (ms / 1e3);
  return { bytes: bytes.length, instrumentMs, instrumentMBps: mbps(instrumentMs), analyzeMs, analyzeMBps: mbps(analyzeMs) };
}

const notes = [];
const rows = await measureKernels(await wat(XORSHIFT), [['xorshift', 20_000_000]], false);
const copies = await measureKernels(await wat(MEMCPY), [['copy64', 2_000_000], ['copy64k', 2_000]], false);
let largest;
let dir;
try {
  dir = programDir();
  const kernels = compileProgram(dir, 'kernels');
  rows.push(...(await measureKernels(kernels, Object.entries(KERNEL_ARGS), true)));
  for (const name of Object.keys(C_PROGRAMS)) {
    const bytes = compileProgram(dir, name);
    if (largest === undefined || bytes.length > largest.bytes.length) largest = { name, bytes };
  }
} catch (error) {
  notes.push(`C kernels skipped: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
largest ??= { name: 'generated module (seed 1, 40 helpers)', bytes: await wat(generateModule(1, 40)) };

const loops = rows.filter((row) => row.kernel !== 'fib');
const geomean = Math.exp(loops.reduce((sum, row) => sum + Math.log(row.ratio), 0) / loops.length);
const speed = { program: largest.name, ...throughput(largest.bytes) };
const report = { node: process.version, rounds: ROUNDS, kernels: rows, memcpyKernels: copies, loopGeomeanRatio: geomean, target: TARGET, throughput: speed, notes, cases };

if (asJson) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const line = (...cells) => cells.map((cell, i) => String(cell)[i === 0 ? 'padEnd' : 'padStart'](i === 0 ? 10 : 14)).join('');
  process.stdout.write(`fuel overhead (node ${process.version}, median of ${ROUNDS} alternating rounds after ${WARMUP} warm-up rounds)\n`);
  process.stdout.write(`${line('kernel', 'original ms', 'fuel ms', 'ratio', 'fuel units')}\n`);
  for (const row of rows) process.stdout.write(`${line(row.kernel, row.originalMs.toFixed(3), row.instrumentedMs.toFixed(3), row.ratio.toFixed(3), row.fuel)}\n`);
  process.stdout.write(`loop kernels, geometric mean ratio: ${geomean.toFixed(3)} (target <= ${TARGET}; fib, a call-bound kernel, is left out)\n`);
  process.stdout.write(`memcpy kernels (bulk operations charged by length):\n`);
  for (const row of copies) process.stdout.write(`${line(row.kernel, row.originalMs.toFixed(3), row.instrumentedMs.toFixed(3), row.ratio.toFixed(3), row.fuel)}\n`);
  process.stdout.write(`instrumentation of ${speed.program} (${speed.bytes} bytes): ${speed.instrumentMs.toFixed(2)} ms, ${speed.instrumentMBps.toFixed(1)} MB/s; analysis ${speed.analyzeMs.toFixed(2)} ms, ${speed.analyzeMBps.toFixed(1)} MB/s\n`);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
}
