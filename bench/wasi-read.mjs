#!/usr/bin/env node
// WASI file-read throughput: the same guest program reads a 64 MiB file in 64 KiB
// fd_read calls, on ForgeOne's WASI preview1 (with a host-call gate checking every
// call) and on Node's built-in node:wasi, interleaved in one run.
// Target (issue 5): ForgeOne >= 0.8x node:wasi.
// Then the same in 4 KiB reads with every call audited: ForgeOne's WASI behind a real
// policy gate (TrustContext + SyscallBridge) whose audit port is a real AuditLog at
// level all, on disk in a temp dir, each run ending with flush() (its records durable)
// inside the timed region; against node:wasi at 4 KiB, interleaved. The log is verified
// afterwards and must hold exactly one event record per WASI call. The same 4 KiB reads
// with the allow-all gate show what the audit costs on top of ForgeOne's own read path.
// Target (issue 16): >= 0.8x node:wasi.
//
//   npx tsc -b && node bench/wasi-read.mjs [--size-mib 64] [--chunk-kib 64] [--rounds 15] [--quick] [--json] [--js-chain] [--js-io]
//   (--quick: 5 rounds; --js-chain: the audit chain is filled in JS, not by the native
//   module; --js-io: ForgeOne reads through node:fs, one readSync per iovec, not by one
//   preadv in native/wasi-io.c; both to compare the two ways)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import wabtInit from 'wabt';
import { benchCase, threadCpuNs, withRatios } from './stats.mjs';
import { ALLOW_ALL_GATE, IdentityContext } from '../packages/common/dist/index.js';
import { AuditLog, SyscallBridge, TrustContext, generateCheckpointKey, verifyAuditLog } from '../packages/microkernel/dist/index.js';
import { nativeChain, setNativeChain } from '../packages/microkernel/dist/audit/native.js';
import { runWasiCommand } from '../packages/plugin-manager/dist/wasi.js';
import { nativeWasiIo, useNativeWasiIo } from '../packages/plugin-manager/dist/runtime/wasi-p1/host-io.js';

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const SIZE = option('size-mib', 64) * 1024 * 1024;
const CHUNK = option('chunk-kib', 64) * 1024;
const ROUNDS = option('rounds', process.argv.includes('--quick') ? 5 : 15);
const JSON_OUTPUT = process.argv.includes('--json');
if (process.argv.includes('--js-chain')) setNativeChain(false);
if (process.argv.includes('--js-io')) useNativeWasiIo(false);

// _start: open "data.bin" in the preopen (fd 3), fd_read CHUNK bytes at a time into
// a buffer at 64 KiB until 0, and exit 0 when the total is SIZE (else 1, or 100+errno).
const W = 'wasi_snapshot_preview1';
const AUDITED_CHUNK = 4 * 1024;
const wat = (CHUNK) => `(module
  (import "${W}" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "${W}" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "${W}" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") ${Math.ceil((65536 + CHUNK) / 65536)})
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
async function compileWat(chunk) {
  const parsed = wabt.parseWat('wasi-read.wat', wat(chunk));
  const compiled = await WebAssembly.compile(parsed.toBinary({}).buffer);
  parsed.destroy();
  return compiled;
}
const module = await compileWat(CHUNK);
const module4k = await compileWat(AUDITED_CHUNK);

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

// The audited case: the policy gate a hosted plugin gets (trust + bridge), reporting to
// a real AuditLog at level all (signed checkpoints, group commit, fdatasync).
const auditDir = await mkdtemp(join(tmpdir(), 'forge-bench-wasi-audit-'));
const auditPath = join(auditDir, 'audit.log');
const auditKey = generateCheckpointKey();
const auditLog = await AuditLog.open({ path: auditPath, level: 'all', signingKey: auditKey, rotateSize: 1024 ** 3, checkpointInterval: 0 });
const hostIdentity = new IdentityContext('bench');
const benchPlugin = { publisher: 'acme', name: 'reader', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true };
const trust = new TrustContext(hostIdentity, { policy: { networkAccess: 'restricted', grants: { reader: { volumes: { data: { host: dir, mode: 'ro' } } } } } });
const pluginTrust = trust.registerPlugin(benchPlugin, {
  filesystem: ['read'],
  network: [],
  allowed_hosts: [],
  syscalls: [],
  volumes: [{ name: 'data', path: '/data', mode: 'ro' }],
});
const auditedGate = new SyscallBridge({ trust, audit: auditLog }).gateFor(pluginTrust, hostIdentity.forPlugin(benchPlugin));
let auditedRuns = 0;
/** Per audited run: the caller's thread CPU (ns, Linux) and the wait in its final flush() (ns). */
const auditedDiagnostics = [];

const runners = {
  'forgeone (counting gate)': async () => (await runWasiCommand(module, { preopens: [{ host: dir, guest: '/' }], gate: countingGate })).exitCode,
  'forgeone (allow-all gate)': async () => (await runWasiCommand(module, { preopens: [{ host: dir, guest: '/' }], gate: ALLOW_ALL_GATE })).exitCode,
  'node:wasi': async () => {
    const wasi = new WASI({ version: 'preview1', preopens: { '/': dir }, returnOnExit: true });
    const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
    return wasi.start(instance);
  },
};

const AUDITED = 'forgeone (real AuditLog, level all), 4 KiB';
const NODE_4K = 'node:wasi, 4 KiB';
// The floor the audited case stands on: the same 4 KiB reads with no gate work at all.
const UNAUDITED_4K = 'forgeone (allow-all gate), 4 KiB';
const audited4k = {
  [UNAUDITED_4K]: async () => (await runWasiCommand(module4k, { preopens: [{ host: dir, guest: '/data' }], gate: ALLOW_ALL_GATE })).exitCode,
  [AUDITED]: async () => {
    const cpuBefore = threadCpuNs();
    const { exitCode } = await runWasiCommand(module4k, { preopens: [{ host: dir, guest: '/data' }], gate: auditedGate });
    const flushStart = process.hrtime.bigint();
    await auditLog.flush();
    // Diagnostics only (the timed region is unchanged): the caller's thread CPU over the
    // run and the wait in flush() for the rest of the run's records to be durable.
    auditedDiagnostics.push({ flushNs: Number(process.hrtime.bigint() - flushStart), cpuNs: cpuBefore === undefined ? undefined : (threadCpuNs() ?? 0) - cpuBefore });
    auditedRuns += 1;
    return exitCode;
  },
  [NODE_4K]: async () => {
    const wasi = new WASI({ version: 'preview1', preopens: { '/data': dir }, returnOnExit: true });
    const instance = await WebAssembly.instantiate(module4k, wasi.getImportObject());
    return wasi.start(instance);
  },
};

const samples = Object.fromEntries([...Object.keys(runners), ...Object.keys(audited4k)].map((name) => [name, []]));
/** Runs every runner of `set` once per round, interleaved, recording MiB/s. */
async function rounds(set) {
  for (let round = -2; round < ROUNDS; round += 1) {
    for (const [name, run] of Object.entries(set)) {
      const start = process.hrtime.bigint();
      const code = await run();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) throw new Error(`${name} guest exited ${code}`);
      if (round >= 0) samples[name].push(SIZE / (1024 * 1024) / seconds);
    }
  }
}
let auditCheck;
let auditStats;
try {
  await rounds(runners);
  await rounds(audited4k);
  auditStats = auditLog.stats();
  await auditLog.close();
  auditCheck = await verifyAuditLog({ path: auditPath, keys: [auditKey] });
} finally {
  rmSync(dir, { recursive: true, force: true });
  await rm(auditDir, { recursive: true, force: true });
}
// Per run: path_open, SIZE / 4 KiB reads, the read that returns 0, proc_exit.
const auditedCallsPerRun = SIZE / AUDITED_CHUNK + 3;
if (!auditCheck.ok) throw new Error(`the benchmark's audit log does not verify: ${auditCheck.problem?.message}`);
if (auditCheck.records - auditCheck.checkpoints !== auditedRuns * auditedCallsPerRun) {
  throw new Error(`the audit log holds ${auditCheck.records - auditCheck.checkpoints} event records for ${auditedRuns} runs of ${auditedCallsPerRun} calls`);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
// The timed rounds' audited runs (the two warm-up rounds excluded), per call.
const timedDiagnostics = auditedDiagnostics.slice(-ROUNDS);
const callerCpuPerCall = timedDiagnostics.some((run) => run.cpuNs === undefined) ? undefined : timedDiagnostics.reduce((sum, run) => sum + run.cpuNs, 0) / (timedDiagnostics.length * auditedCallsPerRun);
const flushWaitPerCall = median(timedDiagnostics.map((run) => run.flushNs)) / auditedCallsPerRun;
const baselineOf = (name) => median(samples[name in audited4k ? NODE_4K : 'node:wasi']);
const results = Object.entries(samples).map(([name, values]) => ({ name, mibPerSecond: median(values), ratio: median(values) / baselineOf(name) }));
const reads = (counted.get(`${W}.fd_read`) ?? 0) / (ROUNDS + 2);
if (JSON_OUTPUT) {
  const cases = Object.entries(samples).map(([name, values]) => benchCase(name, 'MiB/s', values, { group: name in audited4k ? AUDITED_CHUNK : CHUNK }));
  withRatios(cases, 'node:wasi', CHUNK);
  withRatios(cases, NODE_4K, AUDITED_CHUNK);
  const audit = {
    records: auditCheck.records,
    checkpoints: auditCheck.checkpoints,
    syncs: auditStats.syncs,
    batches: auditStats.batches,
    preWritten: auditStats.preWritten,
    callsPerRun: auditedCallsPerRun,
    callerThreadCpuNsPerCall: callerCpuPerCall,
    flushWaitNsPerCall: flushWaitPerCall,
  };
  const io = nativeWasiIo() ? 'native' : 'node:fs';
  console.log(JSON.stringify({ sizeBytes: SIZE, chunkBytes: CHUNK, rounds: ROUNDS, node: process.version, readsPerRun: reads, io, audit, results, cases }, null, 2));
} else {
  const io = nativeWasiIo() ? 'one native preadv per call' : 'node:fs readSync per iovec';
  console.log(`WASI read throughput: ${SIZE / 1048576} MiB in ${CHUNK / 1024} KiB fd_read calls (${reads} per run), median of ${ROUNDS} rounds, Node ${process.version}; ForgeOne reads: ${io}`);
  for (const result of results) console.log(`  ${result.name.padEnd(44)} ${result.mibPerSecond.toFixed(0).padStart(6)} MiB/s   ${result.ratio.toFixed(2)}x node:wasi`);
  console.log(`  audited, per call: caller's thread CPU ${callerCpuPerCall === undefined ? 'n/a' : `${callerCpuPerCall.toFixed(0)} ns`} (all timed runs), wait in the run's final flush() ${flushWaitPerCall.toFixed(0)} ns (median run)`);
  console.log(`  audited: ${auditCheck.records} records verified (${auditCheck.checkpoints} checkpoints), ${auditStats.syncs} fdatasyncs, ${auditStats.preWritten} of ${auditStats.batches} batches written by the chain worker, chain filled ${nativeChain() ? 'natively' : 'in JS'}; target >= 0.8x node:wasi at 4 KiB`);
}
