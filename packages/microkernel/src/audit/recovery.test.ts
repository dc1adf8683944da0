import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '@forgeone/common';
import { segmentPath } from './files.js';
import { generateCheckpointKey } from './keys.js';
import { AuditLog } from './log.js';
import { parseAuditRecord, type AuditRecoveryRecord } from './record.js';
import { hashOf, readLines, sampleEntry, tempDir, writeLines, writeLog } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const CHILD = fileURLToPath(new URL('./test-support/append-child.js', import.meta.url));

async function lastRecord(path: string) {
  const { lines } = await readLines(path);
  return parseAuditRecord(Buffer.from(lines.at(-1)?.text ?? '', 'latin1').toString('utf8'));
}

describe('crash recovery on open', () => {
  it('cuts a torn last line, keeps the cut bytes, and continues the chain with a recovery record', async () => {
    const dir = await tempDir();
    const key = generateCheckpointKey();
    const { path } = await writeLog(dir, 20, { signingKey: key });
    const before = (await stat(path)).size;
    // Records 22.. were being written when the process died: half a line made it to disk.
    const torn = Buffer.from('{"seq":22,"ts":"2025-01-02T03:04:05.678Z","prev":"ab');
    await appendFile(path, torn);
    const log = await AuditLog.open({ path, signingKey: key });
    assert.equal(log.seq, 22);
    await log.close();
    const recovery = (await readLines(path)).lines
      .map((line) => parseAuditRecord(Buffer.from(line.text, 'latin1').toString('utf8')))
      .find((record) => record.type === 'recovery') as AuditRecoveryRecord;
    assert.equal(recovery.seq, 22);
    assert.equal(recovery.cut_offset, before);
    assert.equal(recovery.cut_bytes, torn.length);
    assert.equal(recovery.cut_sha256, createHash('sha256').update(torn).digest('hex'));
    assert.match(recovery.reason, /last line is incomplete/);
    assert.deepEqual(await readFile(join(dir, recovery.saved_to)), torn);
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    assert.equal(result.recoveries.length, 1);
  });

  it('cuts a tail of zeros and garbage that a power loss can leave after the last good record', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 5);
    const { lines } = await readLines(path);
    // A complete-looking record whose bytes were not all written, then zero-filled blocks.
    const damaged = `${(lines[2]?.text ?? '').slice(0, 40)}${'\u0000'.repeat(30)}\n${'\u0000'.repeat(500)}`;
    await appendFile(path, Buffer.from(damaged, 'latin1'));
    const log = await AuditLog.open({ path, signingKey: key });
    await log.close();
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    assert.equal(result.recoveries[0]?.cutBytes, Buffer.byteLength(damaged, 'latin1'));
  });

  it('refuses with FO_AUDIT_CORRUPT, changing nothing, when a record before the last checkpoint is damaged', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 30, { checkpointEvery: 10 });
    const { lines, files } = await readLines(path);
    // Damage the checkpoint that the state file records (the last line).
    const last = lines.at(-1);
    if (last !== undefined) last.text = last.text.replace('"type":"checkpoint"', '"type":"checkpoinT"');
    await writeLines(files, lines);
    const bytes = await readFile(path);
    await assert.rejects(AuditLog.open({ path, signingKey: key }), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_CORRUPT'));
    assert.deepEqual(await readFile(path), bytes);
  });

  it('refuses with FO_AUDIT_CORRUPT when a well-formed record does not continue the chain (a deletion, not a crash)', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 8);
    // Five records after the last checkpoint (opened without a key, so no more checkpoints).
    const log = await AuditLog.open({ path });
    for (let i = 0; i < 5; i += 1) log.append(sampleEntry(i));
    await log.close();
    const { lines, files } = await readLines(path);
    lines.splice(lines.length - 3, 1);
    await writeLines(files, lines);
    const bytes = await readFile(path);
    await assert.rejects(AuditLog.open({ path, signingKey: key }), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_CORRUPT'));
    assert.deepEqual(await readFile(path), bytes);
  });

  it('refuses with FO_AUDIT_TRUNCATED when the log ends before the checkpoint the state file records', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 30, { checkpointEvery: 10 });
    const { lines } = await readLines(path);
    await truncate(path, Buffer.byteLength(lines.slice(0, 12).map((line) => `${line.text}\n`).join(''), 'latin1'));
    await assert.rejects(AuditLog.open({ path, signingKey: key }), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_TRUNCATED'));
  });

  it('starts a new segment with a segment record when a crash came between the rename and the new file', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 10);
    await rename(path, segmentPath(path, 1));
    const log = await AuditLog.open({ path, signingKey: key });
    assert.equal(log.seq, 12);
    await log.close();
    const first = parseAuditRecord((await readFile(path, 'utf8')).split('\n')[0] ?? '');
    assert.equal(first.type, 'segment');
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    assert.equal(result.segments.length, 2);
  });

  it('never loses a record reported durable when the writing process is killed while it appends', async (t) => {
    const dir = await tempDir();
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'audit.log');
    const child = spawn(process.execPath, [CHILD, path, 'stream'], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    const durable: { seq: number; hash: string }[] = [];
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) {
      const [word, seq, hash] = line.split(' ');
      if (word === 'durable') durable.push({ seq: Number(seq), hash: hash ?? '' });
      // Kill it while it keeps appending: its next batches are in flight.
      if (durable.length === 4) break;
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const log = await AuditLog.open({ path });
    await log.close();
    const result = await verifyAuditLog({ path, threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    const { lines: written } = await readLines(path);
    const bySeq = new Map(written.map((line) => [parseAuditRecord(Buffer.from(line.text, 'latin1').toString('utf8')).seq, hashOf(line.text)]));
    assert.equal(durable.length, 4);
    for (const { seq, hash } of durable) assert.equal(bySeq.get(seq), hash, `durable record ${seq} is intact`);
  });

  it('cuts the partial batch a process killed in the middle of a 65 MiB write leaves, keeping every durable record', async (t) => {
    const dir = await tempDir();
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'audit.log');
    const run = spawnSync(process.execPath, [CHILD, path, 'burst'], { encoding: 'utf8' });
    assert.equal(run.signal, 'SIGKILL', run.stderr);
    const [, seq, hash] = run.stdout.trim().split(' ');
    const bytes = await readFile(path);
    const torn = bytes.length - (bytes.lastIndexOf(10) + 1);
    t.diagnostic(`the kill left ${bytes.length} bytes, ${torn} of them after the last newline`);
    const log = await AuditLog.open({ path });
    await log.close();
    const result = await verifyAuditLog({ path, threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    const { lines } = await readLines(path);
    assert.equal(hashOf(lines[Number(seq) - 1]?.text ?? ''), hash, 'the last durable record is intact');
    if (torn > 0) {
      assert.equal(result.recoveries.length, 1);
      assert.equal(result.recoveries[0]?.cutBytes, torn);
    }
  });

  it('recovers an empty log file created just before a crash', async () => {
    const dir = await tempDir();
    const path = join(dir, 'audit.log');
    await writeFile(path, '');
    const log = await AuditLog.open({ path });
    assert.equal(log.seq, 0);
    log.append(sampleEntry(1));
    await log.close();
    assert.equal((await lastRecord(path)).seq, 1);
  });
});
