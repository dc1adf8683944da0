#!/usr/bin/env node
// WASI file-read throughput: the same guest program reads a 64 MiB file in 64 KiB
// fd_read calls, on ForgeOne's WASI preview1 (with a host-call gate checking every
// call) and on Node's built-in node:wasi, interleaved in one run.
// Target (issue 5): ForgeOne >= 0.8x node:wasi.
//
//   npx tsc -b && node bench/wasi-read.mjs [--size-mib 64] [--chunk-kib 64] [--rounds 15] [--quick] [--json]
//   (--quick: 5 rounds)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import wabtInit from 'wabt';
import { benchCase, withRatios } from './stats.mjs';
import { ALLOW_ALL_GATE } from '../packages/common/dist/index.js';
import { runWasiCommand } from '../packages/plugin-manager/dist/wasi.js';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const SIZE = option('size-mib', 64) * 1024 * 1024;
const CHUNK = option('chunk-kib', 64) * 1024;
const ROUNDS = option('rounds', process.argv.includes('--quick') ? 5 : 15);
const JSON_OUTPUT = process.argv.includes('--json');

// _start: open "data.bin" in the preopen (fd 3), fd_read CHUNK bytes at a time into
// a buffer at 64 KiB until 0, and exit 0 when the total is SIZE (else 1, or 100+errno).
const W = 'wasi_snapshot_preview1';
const PAGES = Math.ceil((65536 + CHUNK) / 65536);
const WAT = `(module
  (import "${W}" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "${W}" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "${W}" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") ${PAGES})
  (data (i32.const 64) "data.bin")
  (func (export "_start") (local $errno i32) (local $total i64)
    (local.set $errno (call $open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 8) (i32.const 0)
      (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $errno) (then (call $exit (i32.add (i32.const 100) (local.get $errno)))))
    (i32.store (i32.const 8) (i32.const 65536))
    (i32.store (i32.const 12) (i32.const ${CHUNK}))
    (block $done
      (loop $next
        (local.set $errno (call $read (i32.load (i32.const 0)) (i32.const 8) (i32.const 1) (i32.const 16)))
        (if (local.get $errno) (then (call $exit (i32.add (i32.const 100) (local.get $errno)))))
        (br_if $done (i32.eqz (i32.load (i32.const 16))))
        (local.set $total (i64.add (local.get $total) (i64.extend_i32_u (i32.load (i32.const 16)))))
        (br $next)))
    (call $exit (i64.ne (local.get $total) (i64.const ${SIZE})))))`;

const wabt = await wabtInit();
const parsed = wabt.parseWat('wasi-read.wat', WAT);
const module = await WebAssembly.compile(parsed.toBinary({}).buffer);
parsed.destroy();

const dir = mkdtempSync(join(tmpdir(), 'forge-bench-wasi-'));
const pattern = Buffer.alloc(1024 * 1024);
for (let index = 0; index < pattern.length; index += 1) pattern[index] = (index * 31) & 0xff;
writeFileSync(join(dir, 'data.bin'), Buffer.concat(Array.from({ length: SIZE / pattern.length }, () => pattern)));

// A gate that does what a policy gate's allow path costs at least: one lookup and a count.
const counted = new Map();
const countingGate = {
  check(call) {
    counted.set(call, (counted.get(call) ?? 0) + 1);
    return undefined;
  },
};

const runners = {
  'forgeone (counting gate)': async () => (await runWasiCommand(module, { preopens: [{ host: dir, guest: '/' }], gate: countingGate })).exitCode,
  'forgeone (allow-all gate)': async () => (await runWasiCommand(module, { preopens: [{ host: dir, guest: '/' }], gate: ALLOW_ALL_GATE })).exitCode,
  'node:wasi': async () => {
    const wasi = new WASI({ version: 'preview1', preopens: { '/': dir }, returnOnExit: true });
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    return wasi.start(instance);
  },
};

const samples = Object.fromEntries(Object.keys(runners).map((name) => [name, []]));
try {
  for (let round = -2; round < ROUNDS; round += 1) {
    for (const [name, run] of Object.entries(runners)) {
      const start = process.hrtime.bigint();
      const code = await run();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) throw new Error(`${name} guest exited ${code}`);
      if (round >= 0) samples[name].push(SIZE / (1024 * 1024) / seconds);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const baseline = median(samples['node:wasi']);
const results = Object.entries(samples).map(([name, values]) => ({ name, mibPerSecond: median(values), ratio: median(values) / baseline }));
const reads = (counted.get(`${W}.fd_read`) ?? 0) / (ROUNDS + 2);
if (JSON_OUTPUT) {
  const cases = withRatios(Object.entries(samples).map(([name, values]) => benchCase(name, 'MiB/s', values)), 'node:wasi');
  console.log(JSON.stringify({ sizeBytes: SIZE, chunkBytes: CHUNK, rounds: ROUNDS, node: process.version, readsPerRun: reads, results, cases }, null, 2));
} else {
  console.log(`WASI read throughput: ${SIZE / 1048576} MiB in ${CHUNK / 1024} KiB fd_read calls (${reads} per run), median of ${ROUNDS} rounds, Node ${process.version}`);
  for (const result of results) console.log(`  ${result.name.padEnd(28)} ${result.mibPerSecond.toFixed(0).padStart(6)} MiB/s   ${result.ratio.toFixed(2)}x node:wasi`);
}
