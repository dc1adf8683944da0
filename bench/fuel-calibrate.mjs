#!/usr/bin/env node
// Calibrates the fuel charge of bulk operations (memory.fill/copy/init, table.fill/copy/init)
// against ordinary code, on this machine:
//   (1) nanoseconds per fuel unit of ordinary code: kernels instrumented with fuel, time of a
//       call divided by the units it used (the WAT xorshift loop and, with clang, the C kernels
//       of bench/fuel.mjs);
//   (2) nanoseconds per byte of each bulk memory operation and per element of each bulk table
//       operation, on the uninstrumented module, warm (memory already touched: a first touch is
//       the kernel's page fault, which ordinary stores pay too and which the memory cap bounds),
//       at 64 KiB (in cache) and 64 MiB (memory-bound) for memory and 10,000 elements for tables;
//   (3) what one fuel unit should buy so a unit of bulk work costs no more time than a unit of
//       ordinary code: bytes per unit = (ns per unit) / (ns per byte), elements likewise. The
//       strict figures use the fastest ordinary code and the slowest bulk operation.
// The constants in packages/plugin-manager/src/runtime/wasm/opcodes.ts (BULK_MEMORY_SHIFT,
// BULK_TABLE_UNITS) are set from (3), rounded to the safe side; docs/runtime.md records a run.
//
// Usage: npm run build && node bench/fuel-calibrate.mjs [--quick] [--json]
import { rmSync } from 'node:fs';
import { WASI } from 'node:wasi';
// Internals, by built path: not part of the public API (bench/README.md).
import { FuelMeter, instrumentModule } from '../packages/plugin-manager/dist/runtime/index.js';
import { KERNEL_ARGS, compileProgram, programDir } from '../packages/plugin-manager/dist/runtime/wasm/test-support/c-programs.js';
import { wat } from '../packages/plugin-manager/dist/runtime/wasm/test-support/wat.js';

import { singleCase } from './stats.mjs';

const asJson = process.argv.includes('--json');
const ROUNDS = process.argv.includes('--quick') ? 5 : 15;
const AMPLE = 10n ** 15n;
const MiB = 1 << 20;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const XORSHIFT = `(module (func (export "xorshift") (param $n i32) (result i64) (local $x i64) (local $s i64)
  (local.set $x (i64.const 88172645463325252))
  (loop $l
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
    (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
    (local.set $s (i64.add (local.get $s) (local.get $x)))
    (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
  (local.get $s)))`;

// 129 MiB of memory: the source of copies lives at 64 MiB. Tables of 10,000 elements.
const BULK = `(module (memory (export "memory") 2064 2064)
  (table $t 10000 10000 funcref) (table $u 10000 10000 funcref)
  (elem $e funcref ${Array.from({ length: 10_000 }, () => '(ref.func $f)').join(' ')})
  (data $d "${'\\00'.repeat(65_536)}")
  (func $f)
  (func (export "fill") (param $n i32) (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
  (func (export "copy") (param $n i32) (memory.copy (i32.const 0) (i32.const 67108864) (local.get $n)))
  (func (export "init") (param $n i32) (memory.init $d (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "tfill") (param $n i32) (table.fill $t (i32.const 0) (ref.func $f) (local.get $n)))
  (func (export "tcopy") (param $n i32) (table.copy $u $t (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "tinit") (param $n i32) (table.init $t $e (i32.const 0) (i32.const 0) (local.get $n))))`;

/** Median ns of `run()` over ROUNDS, after warming up. */
function time(run) {
  for (let i = 0; i < 3; i += 1) run();
  const samples = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const started = process.hrtime.bigint();
    run();
    samples.push(Number(process.hrtime.bigint() - started));
  }
  return median(samples);
}

async function nsPerUnit(bytes, kernels, wasi) {
  const module = await WebAssembly.compile(instrumentModule(bytes, { fuel: true }).bytes);
  const host = wasi ? new WASI({ version: 'preview1', returnOnExit: true }) : undefined;
  const instance = await WebAssembly.instantiate(module, host?.getImportObject() ?? {});
  const meter = FuelMeter.of(instance);
  meter.remaining = AMPLE;
  host?.initialize(instance);
  return kernels.map(([kernel, arg]) => {
    meter.remaining = AMPLE;
    instance.exports[kernel](arg);
    const used = Number(AMPLE - meter.remaining);
    const ns = time(() => {
      meter.remaining = AMPLE;
      instance.exports[kernel](arg);
    });
    return { kernel, units: used, nsPerUnit: ns / used };
  });
}

const ordinary = await nsPerUnit(await wat(XORSHIFT), [['xorshift', 20_000_000]], false);
const notes = [];
let dir;
try {
  dir = programDir();
  ordinary.push(...(await nsPerUnit(compileProgram(dir, 'kernels'), Object.entries(KERNEL_ARGS), true)));
} catch (error) {
  notes.push(`C kernels skipped: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

const { instance } = await WebAssembly.instantiate(await wat(BULK));
const bulk = [];
for (const [op, sizes] of [['fill', [64 * 1024, 64 * MiB]], ['copy', [64 * 1024, 64 * MiB]], ['init', [64 * 1024]], ['tfill', [10_000]], ['tcopy', [10_000]], ['tinit', [10_000]]]) {
  for (const size of sizes) {
    instance.exports[op](size); // touch the pages once
    const ns = time(() => instance.exports[op](size));
    bulk.push({ op, size, nsPer: ns / size, unit: op.startsWith('t') ? 'element' : 'byte' });
  }
}

const fastestUnit = Math.min(...ordinary.map((row) => row.nsPerUnit));
const medianUnit = median(ordinary.map((row) => row.nsPerUnit));
const slowestByte = Math.max(...bulk.filter((row) => row.unit === 'byte').map((row) => row.nsPer));
const slowestElement = Math.max(...bulk.filter((row) => row.unit === 'element').map((row) => row.nsPer));
const report = {
  node: process.version,
  ordinary,
  bulk,
  nsPerUnit: { fastest: fastestUnit, median: medianUnit },
  bytesPerUnit: { strict: fastestUnit / slowestByte, median: medianUnit / slowestByte },
  unitsPerElement: { strict: slowestElement / fastestUnit, median: slowestElement / medianUnit },
  notes,
  // No anchor: a calibration. Each figure is a median over ROUNDS.
  cases: [...ordinary.map((row) => singleCase(`ordinary: ${row.kernel}`, 'ns/unit', row.nsPerUnit)), ...bulk.map((row) => singleCase(`bulk: ${row.op} ${row.size}`, `ns/${row.unit}`, row.nsPer))],
};
if (asJson) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  process.stdout.write(`ordinary code (node ${process.version}), ns per fuel unit:\n`);
  for (const row of ordinary) process.stdout.write(`  ${row.kernel.padEnd(10)} ${row.nsPerUnit.toFixed(3)}  (${row.units} units)\n`);
  process.stdout.write(`bulk operations, warm, uninstrumented:\n`);
  for (const row of bulk) process.stdout.write(`  ${row.op.padEnd(6)} ${String(row.size).padStart(9)} ${row.unit}s: ${row.nsPer.toFixed(4)} ns/${row.unit}\n`);
  process.stdout.write(`ns per unit: fastest ${fastestUnit.toFixed(3)}, median ${medianUnit.toFixed(3)}\n`);
  process.stdout.write(`bytes per unit so bulk memory is never cheaper per ns than ordinary code: ${report.bytesPerUnit.strict.toFixed(2)} (strict), ${report.bytesPerUnit.median.toFixed(2)} (median code)\n`);
  process.stdout.write(`units per table element: ${report.unitsPerElement.strict.toFixed(1)} (strict), ${report.unitsPerElement.median.toFixed(1)} (median code)\n`);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
}
