import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { IdentityContext, silentLogger } from '@forgeone/common';
import { RecordBatch } from './batch.js';
import { Chainer } from './chainer.js';
import { GENESIS_HASH } from './format.js';
import { generateCheckpointKey } from './keys.js';
import { AuditLog } from './log.js';
import { comparedLogOptions, tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';
import { GroupCommitWriter, type WriterEvents } from './writer.js';

const identity = new IdentityContext('host').forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });

/** A batch of `records` records from seq `firstSeq` on, filled (a fixed prev and hash) and ready to write. */
function filledBatch(firstSeq: number, records: number): RecordBatch {
  const batch = new RecordBatch(1, 4096, 2);
  for (let seq = firstSeq; seq < firstSeq + records; seq += 1) batch.push(seq, '2025-01-02T03:04:05.678Z', `event","principal":"host:x","action":"a${seq}","decision":"allow"`, -1);
  batch.filled = true;
  batch.settle();
  return batch;
}

const QUIET: WriterEvents = { durable: () => undefined, failed: () => undefined, stalled: () => undefined, resumed: () => undefined, preWritesSettled: () => true };

/** A writer of a new file in a temp dir, with a promise per durable report. */
async function writerOf(): Promise<{ writer: GroupCommitWriter; path: string; durable: Promise<void> }> {
  const path = join(await tempDir(), 'audit.log');
  const handle = await open(path, 'w+');
  let reported: () => void = () => undefined;
  const durable = new Promise<void>((resolve) => (reported = resolve));
  return { writer: new GroupCommitWriter(path, handle, 1, 0, { ...QUIET, durable: () => reported() }), path, durable };
}

describe('GroupCommitWriter: batches the chain worker writes in place', () => {
  it('gives a batch its place only while every batch queued before it is pre-written too (no gap)', async () => {
    const { writer } = await writerOf();
    const first = filledBatch(1, 3);
    const second = filledBatch(4, 3);
    assert.equal(writer.reserve(first)?.position, 0);
    first.preWriting = false; // filled on the log thread: the writer writes it
    writer.enqueue(first);
    assert.equal(writer.reserve(second), undefined, 'behind a batch the writer writes, no place is given');
    await writer.close();
    writer.closePreWrites();
  });

  it('only syncs a run the worker wrote in order, and writes a run it did not (a failed pre-write) itself', async () => {
    const { writer, path, durable } = await writerOf();
    const first = filledBatch(1, 3);
    const place = writer.reserve(first);
    assert.ok(place !== undefined);
    first.preWriting = true;
    // What the worker does: the batch's bytes at its place, through the second descriptor.
    writeSync(place.fd, first.bytes(), 0, first.used, place.position);
    first.writtenAt = place.position;
    const expected = first.bytes().toString('latin1');
    const firstBytes = first.used;
    writer.enqueue(first);
    await durable;
    await writer.idle();
    assert.equal(writer.stats().preWritten, 1);
    assert.equal(readFileSync(path, 'latin1'), expected);

    const second = filledBatch(4, 3);
    const secondPlace = writer.reserve(second);
    assert.equal(secondPlace?.position, firstBytes);
    second.preWriting = true; // the worker's write failed: writtenAt stays -1
    const secondText = second.bytes().toString('latin1');
    writer.enqueue(second);
    await writer.idle();
    assert.equal(writer.stats().preWritten, 1, 'the failed pre-write was written by the writer');
    assert.equal(readFileSync(path, 'latin1'), expected + secondText);
    await writer.close();
    writer.closePreWrites();
  });
});

describe('Chainer: the worker writes a batch at its place once filled', () => {
  it('writes it where told and says so; after a failed write, writes nothing more through that descriptor', async () => {
    const dir = await tempDir();
    const chainer = new Chainer(GENESIS_HASH, undefined, silentLogger, true);
    // A full batch starts the worker (filled here meanwhile).
    chainer.submit(unfilled(1, 40), true);
    for (let turn = 0; turn < 2000 && chainer.where === 'starting'; turn += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(chainer.where, 'worker');
    const good = openSync(join(dir, 'good.log'), 'w+');
    const readOnly = openSync(join(dir, 'good.log'), 'r');
    try {
      const batches = [unfilled(41, 40), unfilled(81, 40), unfilled(121, 40)];
      const [a, b, c] = batches as [RecordBatch, RecordBatch, RecordBatch];
      chainer.submit(a, true, () => ({ fd: good, position: 7 }));
      chainer.submit(b, true, () => ({ fd: readOnly, position: 0 }));
      chainer.submit(c, true, () => ({ fd: readOnly, position: 0 }));
      await Promise.all(batches.map((batch) => batch.ready));
      assert.deepEqual(
        batches.map((batch) => [batch.preWriting, batch.writtenAt]),
        [
          [true, 7],
          [true, -1],
          [true, -1],
        ],
      );
      assert.equal(readFileSync(join(dir, 'good.log'), 'latin1').slice(7), a.bytes().toString('latin1'), 'the filled bytes, prev and hash included');
    } finally {
      await chainer.close();
      closeSync(good);
      closeSync(readOnly);
    }
  });
});

/** A batch of `records` records from seq `firstSeq` on, for the chain to fill. */
function unfilled(firstSeq: number, records: number): RecordBatch {
  const batch = new RecordBatch(1, 4096, 2);
  for (let seq = firstSeq; seq < firstSeq + records; seq += 1) batch.push(seq, '2025-01-02T03:04:05.678Z', `event","principal":"host:x","action":"a${seq}","decision":"allow"`, -1);
  return batch;
}

describe('AuditLog: a log thread that never yields (a guest running synchronously)', () => {
  it('has the worker write its batches meanwhile, and ends with the same bytes as a log without a worker', async () => {
    const dir = await tempDir();
    const key = generateCheckpointKey();
    const sizes = { batchRecords: 200, checkpointEvery: 1000 };
    const logs = [await AuditLog.open(comparedLogOptions(dir, 'worker', key, true, sizes)), await AuditLog.open(comparedLogOptions(dir, 'here', key, false, sizes))] as const;
    const report = (log: AuditLog, i: number): void => log.record({ identity, action: 'wasi_snapshot_preview1.fd_read', resource: 'fd:4', allowed: true, reason: `cached ${i % 3}` });
    // Until the worker is up, batches are filled on the log thread.
    for (let round = 0; round < 400 && logs[0].stats().hashedOffThread === 0; round += 1) {
      for (const log of logs) for (let i = 0; i < 400; i += 1) report(log, i);
      await yieldToLoop();
    }
    await Promise.all(logs.map((log) => log.flush()));
    // 20,000 records without a turn of the event loop: only the worker can write meanwhile.
    for (const log of logs) for (let i = 0; i < 20_000; i += 1) report(log, i);
    await Promise.all(logs.map((log) => log.flush()));
    const preWritten = logs[0].stats().preWritten;
    assert.equal(logs[1].stats().preWritten, 0);
    for (const log of logs) await log.close();
    assert.ok(preWritten > 0, 'the worker wrote batches in place');
    const [written, reference] = await Promise.all(['worker', 'here'].map((name) => readFile(join(dir, name, 'audit.log'), 'latin1')));
    assert.equal(written, reference);
    const verified = await verifyAuditLog({ path: join(dir, 'worker', 'audit.log'), keys: [key] });
    assert.equal(verified.ok, true, verified.problem?.message);
  });
});
