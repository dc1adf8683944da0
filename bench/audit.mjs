#!/usr/bin/env node
// Audit log throughput, side by side in one run:
//   1. sustained append with group commit (AuditLog: hand-built JSON, one Buffer and one
//      writev + fdatasync per batch of <= 1,000 records or 10 ms), target >= 300k records/s;
//   2. a naive writer: per record JSON.stringify + sha256 over prev + JSON, then
//      JSON.stringify again with the hash, the same batching and fdatasync policy, so
//      the difference is the encoding and hashing alone;
//   3. chain verification of the log written in 1 (verifyAuditLog: fixed offsets, one
//      hash per record, no JSON.parse; runs of lines checked natively where the module
//      was built), target >= 1M records/s, against a naive verifier that JSON.parses every
//      line and re-serialises it to hash.
// Run: npx tsc -b && node bench/audit.mjs [--records N] [--dir DIR] [--quick] [--json] [--js-chain]
// (--quick: 100,000 records unless --records says otherwise; --js-chain: fill and check
// the chain in JS even where the native module was built, for comparisons)
// Timings include every fdatasync; the log lives in DIR (default: the OS temp dir).
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { jsonOutput, singleCase, withRatios } from './stats.mjs';
import { AuditLog, defaultVerifyThreads, generateCheckpointKey, verifyAuditLog } from '../packages/microkernel/dist/index.js';
import { nativeChain, setNativeChain } from '../packages/microkernel/dist/audit/native.js';

function arg(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

if (process.argv.includes('--js-chain')) setNativeChain(false);
const emit = jsonOutput();
const RECORDS = Number(arg('records', process.argv.includes('--quick') ? '100000' : '1000000'));
const base = await mkdtemp(join(arg('dir', tmpdir()), 'forge-bench-audit-'));
const PLUGIN = `sha256:${'b'.repeat(64)}`;
const ACTIONS = ['wasi_snapshot_preview1.path_open', 'wasi_snapshot_preview1.fd_read', 'forge.kv_get', 'forge.http_request'];

function entry(i) {
  return {
    principal: 'plugin:acme/bench@1.0.0',
    plugin: PLUGIN,
    action: ACTIONS[i & 3],
    resource: `/data/file-${i % 1000}.txt`,
    decision: i % 17 === 0 ? 'deny' : 'allow',
    reason: i % 17 === 0 ? 'outside every granted volume' : 'granted by manifest volume data',
  };
}

const rate = (count, ms) => Math.round(count / (ms / 1000));
const fmt = (n) => n.toLocaleString('en-US');

/** 1. AuditLog with group commit. The producer appends 1,000 records, then lets I/O callbacks run. */
async function groupCommit(path) {
  const log = await AuditLog.open({ path, signingKey: generateCheckpointKey(), rotateSize: 1024 ** 3, checkpointInterval: 0 });
  const start = performance.now();
  for (let i = 0; i < RECORDS; ) {
    const end = Math.min(RECORDS, i + 1000);
    for (; i < end; i += 1) log.append(entry(i));
    // Backpressure without dropping: wait for the disk when 16 MiB are queued.
    if (log.pendingBytes > 16 * 1024 * 1024) await log.durable(log.seq - 20_000);
    else await yieldToLoop();
  }
  await log.flush();
  const ms = performance.now() - start;
  const stats = log.stats();
  await log.close();
  return { ms, stats };
}

/** 2. The naive writer: JSON.stringify and createHash per record, same batching and fdatasync. */
async function naive(path) {
  const handle = await open(path, 'w');
  let prev = '0'.repeat(64);
  let lines = [];
  let position = 0;
  let syncs = 0;
  const start = performance.now();
  const flush = async () => {
    const buffer = Buffer.from(lines.join(''));
    lines = [];
    await handle.write(buffer, 0, buffer.length, position);
    position += buffer.length;
    await handle.datasync();
    syncs += 1;
  };
  for (let i = 0; i < RECORDS; i += 1) {
    const record = { seq: i + 1, ts: new Date().toISOString(), prev, type: 'event', ...entry(i) };
    const hash = createHash('sha256').update(JSON.stringify(record)).digest('hex');
    lines.push(`${JSON.stringify({ ...record, hash })}\n`);
    prev = hash;
    if (lines.length === 1000) await flush();
  }
  if (lines.length > 0) await flush();
  const ms = performance.now() - start;
  await handle.close();
  return { ms, syncs };
}

/** 3b. The naive verifier: JSON.parse each line, re-serialise without the hash, hash, compare. */
async function naiveVerify(path) {
  const start = performance.now();
  const text = await readFile(path, 'utf8');
  let prev = '0'.repeat(64);
  let count = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const { hash, ...rest } = JSON.parse(line);
    if (rest.prev !== prev || createHash('sha256').update(JSON.stringify(rest)).digest('hex') !== hash) throw new Error(`naive verify failed at ${count}`);
    prev = hash;
    count += 1;
  }
  return { ms: performance.now() - start, count };
}

try {
  const logPath = join(base, 'audit.log');
  const fast = await groupCommit(logPath);
  const slow = await naive(join(base, 'naive.log'));
  const size = (await stat(logPath)).size;
  // Verification reads the file (warm page cache, as right after writing it): with the
  // default thread count (idle cores), on one thread, and on every core.
  const verify = async (threads) => {
    const start = performance.now();
    const result = await verifyAuditLog({ path: logPath, ...(threads === undefined ? {} : { threads }) });
    if (!result.ok) throw new Error(`verification failed: ${JSON.stringify(result.problem)}`);
    return { result, ms: performance.now() - start };
  };
  const defaultThreads = defaultVerifyThreads();
  const { result, ms: verifyMs } = await verify(undefined);
  const { ms: oneMs } = await verify(1);
  const cores = Math.min(availableParallelism(), 8);
  const { ms: allMs } = await verify(cores);
  const slowVerify = await naiveVerify(join(base, 'naive.log'));

  console.log(`audit log benchmark: ${fmt(RECORDS)} records, Node ${process.version}, log in ${base}`);
  console.log(`  record size: ${Math.round(size / result.records)} bytes on average (${fmt(size)} bytes)`);
  console.log('append (sustained, durable at the end)');
  console.log(`  AuditLog group commit   ${fmt(rate(RECORDS, fast.ms)).padStart(11)} records/s  (${fast.stats.syncs} writev+fdatasync for ${fast.stats.batches} batches, target >= 300,000)`);
  console.log(`  naive JSON.stringify    ${fmt(rate(RECORDS, slow.ms)).padStart(11)} records/s  (${slow.syncs} write+fdatasync)`);
  console.log(`chain verification (chain ${nativeChain() ? 'checked natively' : 'checked in JS'})`);
  console.log(`  verifyAuditLog          ${fmt(rate(result.records, verifyMs)).padStart(11)} records/s  (default: ${defaultThreads} thread(s) for the idle cores; ${fmt(result.records)} records, ${result.checkpoints} checkpoints, target >= 1,000,000)`);
  console.log(`    on 1 thread           ${fmt(rate(result.records, oneMs)).padStart(11)} records/s`);
  console.log(`    on ${cores} threads           ${fmt(rate(result.records, allMs)).padStart(11)} records/s  (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`);
  console.log(`  naive JSON.parse        ${fmt(rate(slowVerify.count, slowVerify.ms)).padStart(11)} records/s`);
  emit?.({
    records: RECORDS,
    recordBytes: Math.round(size / result.records),
    chain: nativeChain() ? 'native' : 'js',
    cases: [
      ...withRatios([singleCase('append: AuditLog group commit', 'records/s', rate(RECORDS, fast.ms), { group: 'append' }), singleCase('append: naive JSON + sha256', 'records/s', rate(RECORDS, slow.ms), { group: 'append' })], 'append: naive JSON + sha256'),
      ...withRatios(
        [
          singleCase('verify: verifyAuditLog (default threads)', 'records/s', rate(result.records, verifyMs), { group: 'verify', threads: defaultThreads }),
          singleCase('verify: on 1 thread', 'records/s', rate(result.records, oneMs), { group: 'verify' }),
          singleCase(`verify: on ${cores} threads`, 'records/s', rate(result.records, allMs), { group: 'verify' }),
          singleCase('verify: naive JSON.parse', 'records/s', rate(slowVerify.count, slowVerify.ms), { group: 'verify' }),
        ],
        'verify: naive JSON.parse',
      ),
    ],
  });
} finally {
  await rm(base, { recursive: true, force: true });
}
