import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { requireTool } from '@forgeone/common/testing';
import { segmentPath, statePathFor } from './files.js';
import { checkpointStatement } from './format.js';
import { generateCheckpointKey } from './keys.js';
import { parseAuditRecord } from './record.js';
import { describeBothChains } from './test-support/chain-modes.js';
import { rechain, readLines, rehash, tempDir, writeLines, writeLog } from './test-support/logs.js';
import { verifyAuditLog, type AuditVerification } from './verify.js';

function problemAt(result: AuditVerification): [string | undefined, number | undefined] {
  return [result.problem?.code, result.problem?.record?.index];
}

describeBothChains('verifyAuditLog', () => {
  it('accepts an untouched log and reports its records, checkpoints and state', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 50, { checkpointEvery: 20 });
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    assert.equal(result.records, 53);
    assert.equal(result.checkpoints, 3);
    assert.equal(result.signatures, 'verified');
    assert.equal(result.state, 'matched');
    assert.equal(result.lastCheckpoint?.seq, 53);
    assert.deepEqual(result.lastCheckpoint?.location, { file: path, line: 53, offset: result.lastCheckpoint?.location.offset ?? -1, index: 52, seq: 53 });
  });

  it('names the changed record for one changed byte, with file, line, offset and seq', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 10);
    const { lines, files } = await readLines(path);
    const line = lines[4];
    if (line !== undefined) line.text = line.text.replace('"type":"event"', '"type":"evenT"');
    await writeLines(files, lines);
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.ok, false);
    const offset = Buffer.byteLength(lines.slice(0, 4).map((l) => `${l.text}\n`).join(''), 'latin1');
    assert.deepEqual(result.problem?.record, { file: path, line: 5, offset, index: 4, seq: 5 });
    assert.equal(result.problem?.code, 'FO_AUDIT_RECORD_CORRUPT');
  });

  it('names the place of a deleted record (FO_AUDIT_CHAIN_BROKEN)', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 10);
    const { lines, files } = await readLines(path);
    lines.splice(3, 1);
    await writeLines(files, lines);
    assert.deepEqual(problemAt(await verifyAuditLog({ path, keys: [key], threads: 1 })), ['FO_AUDIT_CHAIN_BROKEN', 3]);
  });

  it('names the first of two swapped records', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 10);
    const { lines, files } = await readLines(path);
    const [a, b] = [lines[6], lines[7]];
    if (a !== undefined && b !== undefined) [lines[6], lines[7]] = [b, a];
    await writeLines(files, lines);
    assert.deepEqual(problemAt(await verifyAuditLog({ path, keys: [key], threads: 1 })), ['FO_AUDIT_CHAIN_BROKEN', 6]);
  });

  it('names a forged record inserted with a correct link and hash, not the genuine one after it', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 10);
    const { lines, files } = await readLines(path);
    const forged = { file: path, text: rehash((lines[5]?.text ?? '').replace('"action":', '"note":"forged","action":')) };
    lines.splice(5, 0, forged);
    rechain(lines.slice(0, 6), 5); // link the forged record to record 5 only
    await writeLines(files, lines);
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.deepEqual(problemAt(result), ['FO_AUDIT_CHAIN_BROKEN', 5]);
    assert.match(result.problem?.message ?? '', /inserted/);
  });

  it('names a replayed copy of an earlier record', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 10);
    const { lines, files } = await readLines(path);
    lines.splice(8, 0, { file: path, text: lines[2]?.text ?? '' });
    await writeLines(files, lines);
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.deepEqual(problemAt(result), ['FO_AUDIT_CHAIN_BROKEN', 8]);
    assert.match(result.problem?.message ?? '', /repeats/);
  });

  it('detects a truncation that removed the last checkpoint, against the state file (FO_AUDIT_TRUNCATED)', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 30, { checkpointEvery: 10 });
    const { lines, files } = await readLines(path);
    await writeLines(files, lines.slice(0, 25));
    assert.deepEqual(problemAt(await verifyAuditLog({ path, keys: [key], threads: 1 })), ['FO_AUDIT_TRUNCATED', 25]);
  });

  it('detects a torn last line', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 5);
    const { lines } = await readLines(path);
    const text = lines.map((line) => `${line.text}\n`).join('');
    await writeFile(path, Buffer.from(text.slice(0, -20), 'latin1'));
    assert.deepEqual(problemAt(await verifyAuditLog({ path, keys: [key], threads: 1 })), ['FO_AUDIT_TRUNCATED', lines.length - 1]);
  });

  it('detects a forged checkpoint signature even when the chain after it was recomputed', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 30, { checkpointEvery: 10 });
    const { lines, files } = await readLines(path);
    const index = lines.findIndex((line) => line.text.includes('"type":"checkpoint"'));
    const line = lines[index];
    if (line !== undefined) line.text = line.text.replace(/"sig":"[^"]+"/, `"sig":"${Buffer.alloc(64, 7).toString('base64')}"`);
    rechain(lines, index);
    await writeLines(files, lines);
    assert.deepEqual(problemAt(await verifyAuditLog({ path, keys: [key], statePath: null, threads: 1 })), ['FO_AUDIT_SIGNATURE_INVALID', index]);
  });

  it('refuses checkpoints signed by another key with FO_AUDIT_KEY_UNKNOWN', async () => {
    const dir = await tempDir();
    const { path } = await writeLog(dir, 5);
    const result = await verifyAuditLog({ path, keys: [generateCheckpointKey()], threads: 1 });
    assert.deepEqual(problemAt(result), ['FO_AUDIT_KEY_UNKNOWN', 5]);
  });

  it('says signatures were not checked when no key is given', async () => {
    const dir = await tempDir();
    const { path } = await writeLog(dir, 5);
    const result = await verifyAuditLog({ path, threads: 1 });
    assert.equal(result.ok, true);
    assert.equal(result.signatures, 'unchecked');
  });

  it('reports a missing state file when the log has checkpoints (FO_AUDIT_STATE_MISSING)', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 5);
    await rm(statePathFor(path));
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.problem?.code, 'FO_AUDIT_STATE_MISSING');
    assert.equal(result.problem?.record, undefined);
  });

  it('refuses a state file from another log (FO_AUDIT_STATE_INVALID)', async () => {
    const one = await writeLog(await tempDir(), 5);
    const other = await writeLog(await tempDir(), 5, { signingKey: one.key });
    await copyFile(statePathFor(other.path), statePathFor(one.path));
    const result = await verifyAuditLog({ path: one.path, keys: [one.key], threads: 1 });
    assert.deepEqual(problemAt(result), ['FO_AUDIT_STATE_INVALID', 5]);
  });

  it('verifies across rotated segments and reports a missing segment (FO_AUDIT_INCOMPLETE)', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 200, { rotateSize: 16 * 1024 });
    assert.equal((await verifyAuditLog({ path, keys: [key], threads: 1 })).ok, true);
    await rm(segmentPath(path, 2));
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.problem?.code, 'FO_AUDIT_INCOMPLETE');
    assert.equal(result.problem?.record?.file, segmentPath(path, 3));
  });

  it('with partial, checks a log whose oldest segments were removed from its first record on', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 200, { rotateSize: 16 * 1024 });
    await rm(segmentPath(path, 1));
    assert.equal((await verifyAuditLog({ path, keys: [key], threads: 1 })).problem?.code, 'FO_AUDIT_INCOMPLETE');
    const result = await verifyAuditLog({ path, keys: [key], threads: 1, partial: true });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
  });

  it('refuses a correctly hashed record of an unknown type, or a recovery record without its fields', async () => {
    for (const [from, to] of [
      ['"type":"event"', '"type":"evil"'],
      ['"type":"event"', '"type":"recovery"'],
    ] as const) {
      const dir = await tempDir();
      const { path, key } = await writeLog(dir, 6);
      const { lines, files } = await readLines(path);
      const line = lines[2];
      if (line !== undefined) line.text = line.text.replace(from, to);
      rechain(lines, 2);
      await writeLines(files, lines);
      const result = await verifyAuditLog({ path, keys: [key], statePath: null, threads: 1 });
      assert.deepEqual(problemAt(result), ['FO_AUDIT_RECORD_CORRUPT', 2], to);
    }
  });

  it('throws FO_AUDIT_LOG_NOT_FOUND when there is no log', async () => {
    await assert.rejects(verifyAuditLog({ path: join(await tempDir(), 'none.log') }), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_LOG_NOT_FOUND'));
  });

  it('gives the same answer on worker threads as on one thread, for good and tampered logs', async () => {
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 3000, { rotateSize: 256 * 1024, checkpointEvery: 500 });
    const sequential = await verifyAuditLog({ path, keys: [key], threads: 1 });
    const parallel = await verifyAuditLog({ path, keys: [key], threads: 3, parallelFrom: 0 });
    assert.equal(sequential.ok, true);
    assert.deepEqual(parallel, sequential);
    const { lines, files } = await readLines(path);
    lines.splice(1700, 1);
    await writeLines(files, lines);
    assert.deepEqual(await verifyAuditLog({ path, keys: [key], threads: 3, parallelFrom: 0 }), await verifyAuditLog({ path, keys: [key], threads: 1 }));
  });

  it('lets an outside tool check a checkpoint: openssl accepts the signature over the documented statement', async (t) => {
    if (!requireTool(t, 'openssl', ['version'])) return;
    const dir = await tempDir();
    const { path, key } = await writeLog(dir, 5);
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    const checkpoint = parseAuditRecord(lines.at(-1) ?? '');
    assert.equal(checkpoint.type, 'checkpoint');
    if (checkpoint.type !== 'checkpoint') return;
    await writeFile(join(dir, 'statement'), checkpointStatement(checkpoint.seq - 1, checkpoint.prev));
    await writeFile(join(dir, 'sig.bin'), Buffer.from(checkpoint.sig, 'base64'));
    await writeFile(join(dir, 'pub.pem'), key.publicKey.export({ type: 'spki', format: 'pem' }));
    const verify = (statement: string) =>
      spawnSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', statement, '-sigfile', 'sig.bin'], { cwd: dir, encoding: 'utf8' });
    const good = verify('statement');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /Signature Verified Successfully/);
    await writeFile(join(dir, 'other'), checkpointStatement(checkpoint.seq, checkpoint.prev));
    assert.notEqual(verify('other').status, 0);
  });
});
