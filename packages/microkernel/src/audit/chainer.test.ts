import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { IdentityContext, silentLogger } from '@forgeone/common';
import { RecordBatch } from './batch.js';
import { Chainer } from './chainer.js';
import { GENESIS_HASH } from './format.js';
import { listSegments, statePathFor } from './files.js';
import { generateCheckpointKey } from './keys.js';
import { AuditLog } from './log.js';
import type { AuditLogOptions } from './options.js';
import { parseAuditRecord } from './record.js';
import { comparedLogOptions, sampleEntry, tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const identity = new IdentityContext('host').forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });

/**
 * Appends `total` records (events, bridge reports and the checkpoints and segment
 * records they cause) 100 per turn of the event loop, so the chain worker can start.
 */
async function fill(log: AuditLog, total: number): Promise<void> {
  for (let i = 0; i < total; i += 1) {
    if (i % 3 === 0) log.record({ identity, action: 'wasi_snapshot_preview1.fd_read', resource: `fd:${3 + (i % 5)}`, allowed: true, reason: 'fd rights' });
    else log.append(sampleEntry(i));
    if (i % 100 === 99) await yieldToLoop();
  }
}

async function files(path: string): Promise<string[]> {
  const segments = await listSegments(path);
  return Promise.all([...segments.map((segment) => readFile(segment.path, 'latin1')), readFile(statePathFor(path), 'utf8')]);
}

describe('AuditLog: the chain worker', () => {
  it('hashes and signs a busy log off the log thread and writes byte for byte what the log thread writes', async () => {
    const dir = await tempDir();
    const key = generateCheckpointKey();
    const options = (name: string, chainWorker: boolean): AuditLogOptions => comparedLogOptions(dir, name, key, chainWorker, { batchRecords: 100, checkpointEvery: 250, rotateSize: 64 * 1024 });
    const worker = await AuditLog.open(options('worker', true));
    const here = await AuditLog.open(options('here', false));
    // Until the worker is up, batches are hashed here; go on until it has hashed some.
    for (let round = 0; round < 200 && worker.stats().hashedOffThread === 0; round += 1) {
      await fill(worker, 500);
      await fill(here, 500);
    }
    await fill(worker, 3000);
    await fill(here, 3000);
    const offThread = worker.stats().hashedOffThread;
    assert.equal(here.stats().hashedOffThread, 0);
    await worker.close();
    await here.close();
    assert.ok(offThread > 0, 'the worker hashed at least one batch');
    const written = await files(join(dir, 'worker', 'audit.log'));
    assert.ok(written.length > 2, 'the log rotated');
    assert.deepEqual(written, await files(join(dir, 'here', 'audit.log')));
    const verified = await verifyAuditLog({ path: join(dir, 'worker', 'audit.log'), keys: [key] });
    assert.equal(verified.ok, true, verified.problem?.message);
    assert.equal(verified.signatures, 'verified');
    assert.equal(verified.state, 'matched');
  });

  it('gives head() the hash the record will have while its batch is still being hashed', async () => {
    const dir = await tempDir();
    const path = join(dir, 'audit.log');
    const log = await AuditLog.open({ path, signingKey: generateCheckpointKey(), batchRecords: 100, checkpointEvery: 150, checkpointInterval: 0 });
    for (let round = 0; round < 200 && log.stats().hashedOffThread === 0; round += 1) await fill(log, 500);
    const heads: { seq: number; hash: string }[] = [];
    for (let i = 0; i < 1000; i += 1) {
      log.append(sampleEntry(i));
      if (i % 97 === 0) heads.push(log.head);
      if (i % 250 === 249) await yieldToLoop();
    }
    await log.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const hashOf = new Map(lines.map((line) => parseAuditRecord(line)).map((record) => [record.seq, record.hash]));
    assert.equal(heads.length, 11);
    for (const head of heads) assert.equal(hashOf.get(head.seq), head.hash, `head at seq ${head.seq}`);
  });
});

/** A batch of `records` records from seq `firstSeq` on (the same bytes every call). */
function batchOf(firstSeq: number, records: number): RecordBatch {
  const batch = new RecordBatch(1, 4096, 2);
  for (let seq = firstSeq; seq < firstSeq + records; seq += 1) batch.push(seq, '2025-01-02T03:04:05.678Z', `event","principal":"host:x","action":"a${seq}","decision":"allow"`, -1);
  return batch;
}
/** Batches of these sizes, seq from 1 on. */
function batches(...sizes: number[]): RecordBatch[] {
  let seq = 1;
  return sizes.map((records) => batchOf((seq += records) - records, records));
}
const bytes = (list: RecordBatch[]): string[] => list.map((batch) => batch.bytes().toString('latin1'));

/** A chainer whose worker is up, having filled `first` (a full batch) on the log thread. */
async function withWorker(first: RecordBatch, workerUrl?: URL): Promise<Chainer> {
  const chainer = new Chainer(GENESIS_HASH, undefined, silentLogger, true, workerUrl);
  chainer.submit(first, true);
  for (let turn = 0; turn < 2000 && chainer.where === 'starting'; turn += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(chainer.where, 'worker');
  return chainer;
}

describe('Chainer: a chain worker that dies', () => {
  it('fills the batch the worker held, and every later one, on the log thread: the same bytes as without a worker', async () => {
    // 40 records a batch: more than the log thread fills itself while the worker is idle.
    const reference = batches(40, 40, 40);
    const plain = new Chainer(GENESIS_HASH, undefined, silentLogger, false);
    for (const batch of reference) plain.submit(batch, true);
    const [first, ...rest] = batches(40, 40, 40);
    const dying = await withWorker(first as RecordBatch, new URL('./test-support/dying-chain-worker.js', import.meta.url));
    for (const batch of rest) dying.submit(batch, true);
    await Promise.all(rest.map((batch) => batch.ready));
    assert.equal(dying.where, 'dead');
    await dying.close();
    assert.deepEqual(bytes([first as RecordBatch, ...rest]), bytes(reference));
    assert.equal(dying.head(undefined), plain.head(undefined));
  });
});

describe('Chainer: small batches', () => {
  it('fills a small batch on the log thread while the worker is idle, and one behind a batch the worker holds on the worker, in order', async () => {
    const sizes = [40, 5, 40, 1];
    const reference = batches(...sizes);
    const plain = new Chainer(GENESIS_HASH, undefined, silentLogger, false);
    for (const batch of reference) plain.submit(batch, false);
    const [first, small, large, behind] = batches(...sizes) as [RecordBatch, RecordBatch, RecordBatch, RecordBatch];
    const chainer = await withWorker(first);
    chainer.submit(small, false);
    assert.equal(small.filled, true, 'filled here, before submit returned');
    chainer.submit(large, true);
    chainer.submit(behind, false);
    assert.equal(behind.filled, false, 'behind a batch the worker holds, it waits for the worker');
    await Promise.all([large.ready, behind.ready]);
    assert.equal(chainer.offThread, 2, 'the worker filled the large batch and the one behind it');
    assert.deepEqual(bytes([first, small, large, behind]), bytes(reference));
    assert.equal(chainer.head(undefined), plain.head(undefined));
    await chainer.close();
  });
});
