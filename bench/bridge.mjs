#!/usr/bin/env node
// Bridge overhead per allowed host call with a warm decision cache at the default
// audit level (decisions), against a bare function call and against Cedar alone, and
// with the per-gate host-call counts metrics use (DecisionCounts). Then the same call
// audited at level all into a real AuditLog on disk (a temp dir): group commit, signed
// checkpoints, every batch written and fdatasync'ed inside the timed region; the log is
// verified afterwards and must hold exactly one event record per call.
// Run: npm run build && node bench/bridge.mjs [--quick] [--json] [--js-chain]
// (--js-chain: the audit chain is filled in JS, not by the native module, to compare the two)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { benchCase, jsonOutput, threadCpuNs, withRatios } from './stats.mjs';
import { IdentityContext } from '../packages/common/dist/index.js';
import {
  AnomalyDetector,
  AuditLog,
  CedarPolicies,
  DecisionCounts,
  SyscallBridge,
  TrustContext,
  generateCheckpointKey,
  verifyAuditLog,
} from '../packages/microkernel/dist/index.js';
import { nativeChain, setNativeChain } from '../packages/microkernel/dist/audit/native.js';

const emit = jsonOutput();
const quick = process.argv.includes('--quick');
if (process.argv.includes('--js-chain')) setNativeChain(false);
// Every measurement's per-round samples, in the order they were taken (for --json).
const taken = [];
const host = new IdentityContext('bench');
const plugin = { publisher: 'acme', name: 'bench', version: '1.0.0', digest: `sha256:${'b'.repeat(64)}`, attested: true };
const identity = host.forPlugin(plugin);
const ceiling = { filesystem: ['read'], network: [], allowed_hosts: [], syscalls: [], volumes: [{ name: 'data', path: '/data', mode: 'ro' }] };
const policy = { networkAccess: 'restricted', grants: { bench: { volumes: { data: { host: '/srv', mode: 'ro' } } } } };

function median(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Nanoseconds per call of fn, median of rounds. */
function measure(fn, perRound = quick ? 50_000 : 200_000, rounds = quick ? 7 : 15) {
  for (let i = 0; i < perRound; i += 1) fn(i);
  const samples = [];
  for (let round = 0; round < rounds; round += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perRound; i += 1) fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / perRound);
  }
  taken.push(samples);
  return median(samples);
}

/** Nanoseconds per call of a and of b, rounds interleaved (so JIT state and machine noise hit both alike). */
function measurePair(a, b, perRound = quick ? 50_000 : 200_000, rounds = quick ? 7 : 21) {
  for (let i = 0; i < perRound; i += 1) {
    a(i);
    b(i);
  }
  const samplesA = [];
  const samplesB = [];
  const time = (fn) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perRound; i += 1) fn(i);
    return Number(process.hrtime.bigint() - start) / perRound;
  };
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      samplesA.push(time(a));
      samplesB.push(time(b));
    } else {
      samplesB.push(time(b));
      samplesA.push(time(a));
    }
  }
  taken.push(samplesA, samplesB);
  return [median(samplesA), median(samplesB)];
}

function setup({ cedar = false, anomaly = false, counts = false } = {}) {
  const trust = new TrustContext(host, { policy });
  if (cedar) trust.setPolicy({ ...policy, cedar: CedarPolicies.load('forbid(principal, action, resource is ForgeOne::Path) when { resource.path == "/data/secret" };', trust.catalog) });
  const pluginTrust = trust.registerPlugin(plugin, ceiling);
  let audited = 0;
  const bridge = new SyscallBridge({
    trust,
    audit: { level: 'decisions', record: () => (audited += 1) },
    ...(anomaly ? { anomaly: new AnomalyDetector(() => {}) } : {}),
    ...(counts ? { counts: new DecisionCounts() } : {}),
  });
  return { gate: bridge.gateFor(pluginTrust, identity), trust, pluginTrust };
}

let sink = 0;
const bare = measure((i) => {
  sink += i & 1;
});
const plain = setup();
const withAnomaly = setup({ anomaly: true });
const withCedar = setup({ cedar: true, anomaly: true });
const withCounts = setup({ anomaly: true, counts: true });
const gatePlain = measure(() => plain.gate.check('wasi_snapshot_preview1.fd_read', 'fd:3'));
const gateAnomaly = measure(() => withAnomaly.gate.check('wasi_snapshot_preview1.fd_read', 'fd:3'));
const [anomalyAgain, gateCounts] = measurePair(
  () => withAnomaly.gate.check('wasi_snapshot_preview1.fd_read', 'fd:3'),
  () => withCounts.gate.check('wasi_snapshot_preview1.fd_read', 'fd:3'),
);
const gateCedar = measure(() => withCedar.gate.check('wasi_snapshot_preview1.path_open', '/data/file.txt'));
const cedarOnly = setup({ cedar: true });
let n = 0;
const cedarMiss = measure(
  () => {
    cedarOnly.trust.invalidate();
    cedarOnly.pluginTrust.decide('wasi_snapshot_preview1.path_open', `/data/f${(n += 1)}`);
  },
  300,
  7,
);

// Audited at level all into a real AuditLog on disk. A plugin's host calls come in runs
// (one guest call makes many), and between runs the event loop lets the group-commit
// writer run: so 1,000 calls, then a turn of the loop, and each round ends with flush()
// (every record of the round durable) inside the timed region.
const auditDir = await mkdtemp(join(tmpdir(), 'forge-bench-bridge-audit-'));
const auditPath = join(auditDir, 'audit.log');
const auditKey = generateCheckpointKey();
const auditLog = await AuditLog.open({ path: auditPath, level: 'all', signingKey: auditKey, rotateSize: 1024 ** 3, checkpointInterval: 0 });
const audited = (() => {
  const trust = new TrustContext(host, { policy });
  const pluginTrust = trust.registerPlugin(plugin, ceiling);
  const bridge = new SyscallBridge({ trust, audit: auditLog, anomaly: new AnomalyDetector(() => {}) });
  return bridge.gateFor(pluginTrust, identity);
})();
let auditedCalls = 0;
async function auditedRound(calls) {
  const start = process.hrtime.bigint();
  for (let done = 0; done < calls; ) {
    const end = Math.min(calls, done + 1000);
    for (; done < end; done += 1) {
      if (audited.check('wasi_snapshot_preview1.fd_read', 'fd:3') !== undefined) throw new Error('an audited call was refused (audit backlog or failure)');
    }
    await yieldToLoop();
  }
  await auditLog.flush();
  auditedCalls += calls;
  return Number(process.hrtime.bigint() - start) / calls;
}
const auditedSamples = [];
const auditedPerRound = quick ? 20_000 : 50_000;
await auditedRound(auditedPerRound);
const cpuBefore = { thread: threadCpuNs(), process: process.cpuUsage(), calls: auditedCalls };
for (let round = 0; round < (quick ? 7 : 15); round += 1) auditedSamples.push(await auditedRound(auditedPerRound));
const cpuCalls = auditedCalls - cpuBefore.calls;
const threadAfter = threadCpuNs();
const callerCpu = threadAfter === undefined || cpuBefore.thread === undefined ? undefined : (threadAfter - cpuBefore.thread) / cpuCalls;
const processUsage = process.cpuUsage(cpuBefore.process);
const processCpu = ((processUsage.user + processUsage.system) * 1000) / cpuCalls;
const auditStats = auditLog.stats();
await auditLog.close();
const auditCheck = await verifyAuditLog({ path: auditPath, keys: [auditKey] });
await rm(auditDir, { recursive: true, force: true });
if (!auditCheck.ok) throw new Error(`the benchmark's audit log does not verify: ${auditCheck.problem?.message}`);
if (auditCheck.records - auditCheck.checkpoints !== auditedCalls) throw new Error(`the audit log holds ${auditCheck.records - auditCheck.checkpoints} event records for ${auditedCalls} calls`);
const gateAudited = median(auditedSamples);

console.log(`bare function call                                ${bare.toFixed(1)} ns`);
console.log(`gate.check, warm cache, audit=decisions          ${gatePlain.toFixed(1)} ns  (target <= 500 ns)`);
console.log(`  + anomaly detection                            ${gateAnomaly.toFixed(1)} ns`);
console.log(`  + host-call counts (metrics)                   ${gateCounts.toFixed(1)} ns  (interleaved with anomaly alone: ${anomalyAgain.toFixed(1)} ns)`);
console.log(`  + Cedar policies configured (cache hit)        ${gateCedar.toFixed(1)} ns`);
console.log(`decision with Cedar, cache miss                  ${(cedarMiss / 1000).toFixed(1)} us  (${(cedarMiss / gateCedar).toFixed(0)}x a cache hit)`);
console.log(`gate.check, real AuditLog on disk, audit=all     ${gateAudited.toFixed(1)} ns  (target <= 500 ns; ${auditedCalls} records verified, ${auditStats.syncs} fdatasyncs)`);
console.log(`  CPU per audited call: caller's thread ${callerCpu === undefined ? 'n/a' : `${callerCpu.toFixed(0)} ns`}, whole process ${processCpu.toFixed(0)} ns (${auditStats.hashedOffThread ?? 0} batches hashed off thread, chain filled ${nativeChain() ? 'natively' : 'in JS'})`);
if (sink < 0) console.log(sink);
// Medians over rounds of the mean per call (no per-call samples: a call takes nanoseconds).
emit?.({
  cases: withRatios(
    [
      benchCase('bare function call', 'ns', taken[0]),
      benchCase('gate.check, warm cache, audit=decisions', 'ns', taken[1]),
      benchCase('+ anomaly detection', 'ns', taken[2]),
      benchCase('+ host-call counts (metrics)', 'ns', taken[4]),
      benchCase('+ Cedar policies configured (cache hit)', 'ns', taken[5]),
      benchCase('decision with Cedar, cache miss', 'ns', taken[6]),
      benchCase('gate.check, real AuditLog on disk, audit=all', 'ns', auditedSamples, {
        records: auditedCalls,
        syncs: auditStats.syncs,
        caller_thread_cpu_ns: callerCpu,
        process_cpu_ns: processCpu,
        batches_hashed_off_thread: auditStats.hashedOffThread ?? 0,
      }),
    ],
    'bare function call',
  ),
});
