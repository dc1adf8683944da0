import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext } from '@forgeone/common';
import { statePathFor, segmentPath } from './files.js';
import { GENESIS_HASH } from './format.js';
import { checkpointKeyId, generateCheckpointKey, verifyCheckpointSignature } from './keys.js';
import { AuditLog } from './log.js';
import type { AuditCheckpointNotice } from './options.js';
import { parseAuditRecord, type AuditEventRecord } from './record.js';
import { readCheckpointState } from './state.js';
import { readLines, sampleEntry, tempDir, writeLog } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

async function records(path: string) {
  return (await readLines(path)).lines.map((line) => parseAuditRecord(Buffer.from(line.text, 'latin1').toString('utf8')));
}

describe('AuditLog: appending and group commit', () => {
  it('gives records consecutive seqs synchronously and chains each to the one before', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, clock: () => Date.UTC(2025, 0, 2, 3, 4, 5, 678) });
    assert.equal(log.append(sampleEntry(1)), 1);
    assert.equal(log.append(sampleEntry(2)), 2);
    assert.equal(log.seq, 2);
    await log.close();
    const [first, second] = await records(path);
    assert.equal(first?.seq, 1);
    assert.equal(first?.prev, GENESIS_HASH);
    assert.equal(first?.ts, '2025-01-02T03:04:05.678Z');
    assert.equal(second?.prev, first?.hash);
    assert.equal((await verifyAuditLog({ path, threads: 1 })).ok, true);
  });

  it('writes exactly the documented line: body bytes hashed with sha256, then the hash field', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, clock: () => 0 });
    log.append({ principal: 'plugin:acme/demo@1.0.0', plugin: `sha256:${'a'.repeat(64)}`, action: 'forge.kv_get', resource: 'kv:x', decision: 'deny', reason: 'no grant' });
    await log.close();
    const text = await readFile(path, 'utf8');
    const body = `{"seq":1,"ts":"1970-01-01T00:00:00.000Z","prev":"${GENESIS_HASH}","type":"event","principal":"plugin:acme/demo@1.0.0","plugin":"sha256:${'a'.repeat(64)}","action":"forge.kv_get","resource":"kv:x","decision":"deny","reason":"no grant"`;
    const { createHash } = await import('node:crypto');
    assert.equal(text, `${body},"hash":"${createHash('sha256').update(body).digest('hex')}"}\n`);
  });

  it('makes a record durable within one batch delay without flush, and resolves durable() then', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    const seq = log.append(sampleEntry(1));
    assert.equal(log.durableSeq, 0);
    await log.durable(seq);
    assert.equal(log.durableSeq, 1);
    assert.match(await readFile(path, 'utf8'), /"seq":1,/);
    await log.close();
  });

  it('seals a batch at batchRecords records: 2,500 appends make at least 3 batches', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    for (let i = 0; i < 2500; i += 1) log.append(sampleEntry(i));
    await log.flush();
    const stats = log.stats();
    assert.ok(stats.batches >= 3, `batches: ${stats.batches}`);
    assert.ok(stats.syncs >= 1 && stats.syncs <= stats.batches);
    assert.equal(stats.durableSeq, 2500);
    await log.close();
  });

  it('appendDurable resolves with the seq once the record is on disk', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    const seq = await log.appendDurable(sampleEntry(1));
    assert.equal(seq, 1);
    assert.ok(log.durableSeq >= 1);
    await log.close();
  });

  it('refuses an invalid entry with FO_AUDIT_RECORD_INVALID and writes nothing', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    log.append(sampleEntry(1));
    const bad = [
      { ...sampleEntry(1), principal: '' },
      { ...sampleEntry(1), action: '' },
      { ...sampleEntry(1), decision: 'maybe' as 'allow' },
      { ...sampleEntry(1), plugin: 'sha256:nothex' },
      { ...sampleEntry(1), data: { 'Bad-Key': 1 } },
      { ...sampleEntry(1), data: { n: Number.NaN } },
      { ...sampleEntry(1), principal: 'x'.repeat(2000) },
    ];
    for (const entry of bad) assert.throws(() => log.append(entry), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_RECORD_INVALID'), JSON.stringify(entry).slice(0, 80));
    assert.equal(log.seq, 1);
    await log.close();
    assert.equal((await readLines(path)).lines.length, 1);
  });

  it('escapes hostile text so the file holds no control or bidi characters and parses back to the original', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    const hostile = 'a\nb\r\u0000\u001b[31m\u007f\u0085\u202e\u2066\u2028"\\\ud800end';
    log.append({ principal: 'plugin:p/q@1', action: 'forge.log', resource: hostile, decision: 'allow', reason: hostile });
    await log.close();
    const text = await readFile(path, 'utf8');
    assert.equal(text.split('\n').length, 2, 'one line and the final newline');
    assert.doesNotMatch(text.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
    const record = parseAuditRecord(text.slice(0, -1)) as AuditEventRecord;
    assert.equal(record.resource, hostile);
    assert.equal(record.reason, hostile);
  });

  it('cuts an overlong resource and says how much was cut', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    log.append({ principal: 'plugin:p/q@1', action: 'wasi_snapshot_preview1.path_open', resource: 'x'.repeat(5000), decision: 'deny' });
    await log.close();
    const [record] = await records(path);
    assert.equal((record as AuditEventRecord).resource, `${'x'.repeat(4096)}…[+904]`);
  });

  it('refuses appends past maxPendingBytes with FO_AUDIT_BACKLOG instead of growing without bound', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, maxPendingBytes: 64 * 1024 });
    let refused: unknown;
    for (let i = 0; i < 10_000 && refused === undefined; i += 1) {
      try {
        log.append(sampleEntry(i));
      } catch (error) {
        refused = error;
      }
    }
    assert.ok(ForgeError.is(refused, 'FO_AUDIT_BACKLOG'), String(refused));
    await log.flush();
    log.append(sampleEntry(0)); // accepted again once the disk caught up
    await log.close();
    assert.equal((await verifyAuditLog({ path, threads: 1 })).ok, true);
  });

  it('refuses impossible options before touching the disk', async () => {
    const path = join(await tempDir(), 'sub', 'audit.log');
    for (const bad of [{ batchRecords: 0 }, { rotateSize: 100 }, { checkpointEvery: 1.5 }, { maxPendingBytes: -1 }]) {
      await assert.rejects(AuditLog.open({ path, ...bad }), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_OPTIONS_INVALID'), JSON.stringify(bad));
    }
    await assert.rejects(readdir(join(path, '..')), /ENOENT/);
  });

  it('refuses appends after close with FO_AUDIT_CLOSED', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    await log.close();
    assert.throws(() => log.append(sampleEntry(1)), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_CLOSED'));
  });

  it('fails closed when the disk fails: pending durability rejects and later appends throw FO_AUDIT_WRITE_FAILED', async () => {
    const dir = await tempDir();
    const path = join(dir, 'audit.log');
    const log = await AuditLog.open({ path, rotateSize: 4096 });
    // Rotation renames the file inside its directory; with the directory gone it cannot.
    await rm(dir, { recursive: true });
    for (let i = 0; i < 100; i += 1) log.append(sampleEntry(i));
    await assert.rejects(log.flush(), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_WRITE_FAILED'));
    assert.throws(() => log.append(sampleEntry(1)), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_WRITE_FAILED'));
    await assert.rejects(log.close(), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_WRITE_FAILED'));
  });
});

describe('AuditLog: levels and the bridge port', () => {
  it('shouldRecord keeps denials at every level, allowed decisions from decisions up, cached calls only at all', async () => {
    const expected = {
      denials: [true, false, false],
      decisions: [true, true, false],
      all: [true, true, true],
    } as const;
    for (const level of ['denials', 'decisions', 'all'] as const) {
      const log = await AuditLog.open({ path: join(await tempDir(), 'audit.log'), level });
      assert.deepEqual(
        (['denial', 'decision', 'call'] as const).map((event) => log.shouldRecord(event)),
        expected[level],
        level,
      );
      await log.close();
    }
    const log = await AuditLog.open({ path: join(await tempDir(), 'audit.log') });
    assert.equal(log.level, 'decisions');
    await log.close();
  });

  it('records a bridge report: allowed becomes the decision, the identity the principal and plugin digest', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    const identity = new IdentityContext('host').forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });
    log.record({ identity, action: 'wasi_snapshot_preview1.path_open', resource: '/etc/passwd', allowed: false, reason: 'outside every preopen' });
    log.record({ identity, action: 'wasi_snapshot_preview1.fd_read', resource: undefined, allowed: true, reason: 'fd rights' });
    await log.close();
    const [denied, allowed] = (await records(path)) as AuditEventRecord[];
    assert.deepEqual(
      { principal: denied?.principal, plugin: denied?.plugin, action: denied?.action, resource: denied?.resource, decision: denied?.decision, reason: denied?.reason },
      { principal: 'plugin:acme/demo@1.0.0', plugin: `sha256:${'c'.repeat(64)}`, action: 'wasi_snapshot_preview1.path_open', resource: '/etc/passwd', decision: 'deny', reason: 'outside every preopen' },
    );
    assert.equal(allowed?.decision, 'allow');
    assert.equal(allowed?.resource, undefined);
  });

  it('records what the plugin literally asked for as data.requested, verified like any field', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    const identity = new IdentityContext('host').forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });
    log.record({ identity, action: 'wasi_snapshot_preview1.path_open', resource: '/data', allowed: false, reason: 'ENOTCAPABLE: the path climbs above /data', requested: '../secret\u202e.txt' });
    log.record({ identity, action: 'wasi_snapshot_preview1.path_open', resource: '/data/a', allowed: true, reason: 'allowed' });
    await log.close();
    const [refused, plain] = (await records(path)) as AuditEventRecord[];
    assert.deepEqual([refused?.resource, refused?.data], ['/data', { requested: '../secret\u202e.txt' }]);
    assert.equal(plain?.data, undefined);
    assert.ok(!(await readFile(path, 'utf8')).includes('\u202e'), 'a bidi character a plugin sent is escaped in the file');
  });
});

describe('AuditLog: signed checkpoints', () => {
  it('writes a checkpoint every checkpointEvery records that signs the seq and hash before it', async () => {
    const dir = await tempDir();
    const key = generateCheckpointKey();
    const { path } = await writeLog(dir, 25, { signingKey: key, checkpointEvery: 10 });
    const all = await records(path);
    const checkpoints = all.filter((record) => record.type === 'checkpoint');
    // After records 10 and 20 (+ the checkpoints themselves), and the final one on close.
    assert.deepEqual(
      checkpoints.map((record) => record.seq),
      [11, 22, 28],
    );
    for (const checkpoint of checkpoints) {
      assert.equal(checkpoint.type === 'checkpoint' && checkpoint.key, checkpointKeyId(key.publicKey));
      const before = all.find((record) => record.seq === checkpoint.seq - 1);
      assert.equal(checkpoint.prev, before?.hash);
      assert.ok(checkpoint.type === 'checkpoint' && verifyCheckpointSignature(key, checkpoint.seq - 1, checkpoint.prev, checkpoint.sig));
    }
  });

  it('keeps the last durable checkpoint in the state file and tells onCheckpoint', async () => {
    const dir = await tempDir();
    const notices: AuditCheckpointNotice[] = [];
    const { path } = await writeLog(dir, 5, { onCheckpoint: (notice) => notices.push(notice) });
    const state = await readCheckpointState(statePathFor(path));
    const all = await records(path);
    const last = all.at(-1);
    assert.equal(last?.type, 'checkpoint');
    assert.equal(state?.seq, last?.seq);
    assert.equal(state?.hash, last?.hash);
    assert.equal(notices.at(-1)?.seq, last?.seq);
    assert.deepEqual(notices.at(-1)?.covers, { seq: 5, hash: all[4]?.hash });
  });

  it('writes a checkpoint after checkpointInterval when records were appended', async () => {
    const path = join(await tempDir(), 'audit.log');
    let notify: (notice: AuditCheckpointNotice) => void = () => undefined;
    const seen = new Promise<AuditCheckpointNotice>((resolve) => (notify = resolve));
    const log = await AuditLog.open({ path, signingKey: generateCheckpointKey(), checkpointInterval: 20, onCheckpoint: (notice) => notify(notice) });
    log.append(sampleEntry(1));
    // The checkpoint timer does not keep a process alive on its own; this test's process has nothing else.
    const keepAlive = setInterval(() => undefined, 1000);
    const notice = await seen;
    clearInterval(keepAlive);
    assert.equal(notice.seq, 2);
    await log.close();
  });

  it('checkpoint() writes one now and resolves once it is durable and in the state file', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, signingKey: generateCheckpointKey() });
    assert.equal(await log.checkpoint(), undefined, 'nothing to attest yet');
    log.append(sampleEntry(1));
    const seq = await log.checkpoint();
    assert.equal(seq, 2);
    assert.equal((await readCheckpointState(statePathFor(path)))?.seq, 2);
    await log.close();
  });

  it('writes no checkpoints without a key', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, checkpointEvery: 1 });
    for (let i = 0; i < 5; i += 1) log.append(sampleEntry(i));
    await log.close();
    assert.equal((await records(path)).some((record) => record.type === 'checkpoint'), false);
    assert.equal(await readCheckpointState(statePathFor(path)), undefined);
  });
});

describe('AuditLog: rotation and reopening', () => {
  it('rotates by size into numbered segments whose first record continues the previous segment', async () => {
    const dir = await tempDir();
    const { path } = await writeLog(dir, 200, { rotateSize: 16 * 1024, checkpointEvery: 1000 });
    const names = (await readdir(dir)).filter((name) => /^audit\.log\.\d{6}$/.test(name)).sort();
    assert.ok(names.length >= 2, names.join());
    const { lines } = await readLines(path);
    const parsed = lines.map((line) => ({ file: line.file, record: parseAuditRecord(Buffer.from(line.text, 'latin1').toString('utf8')) }));
    for (let i = 1; i < parsed.length; i += 1) {
      const here = parsed[i];
      const before = parsed[i - 1];
      assert.equal(here?.record.prev, before?.record.hash);
      if (here?.file !== before?.file) {
        // A segment ends with a checkpoint and the next starts with a segment record.
        assert.equal(before?.record.type, 'checkpoint');
        assert.equal(here?.record.type, 'segment');
      }
    }
    assert.equal(parsed[0]?.file, segmentPath(path, 1));
    const result = await verifyAuditLog({ path, threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    assert.equal(result.segments.length, names.length + 1);
  });

  it('continues the chain after close and reopen', async () => {
    const dir = await tempDir();
    const key = generateCheckpointKey();
    const { path } = await writeLog(dir, 10, { signingKey: key });
    const log = await AuditLog.open({ path, signingKey: key });
    assert.equal(log.seq, 11);
    assert.equal(log.append(sampleEntry(1)), 12);
    await log.close();
    const result = await verifyAuditLog({ path, keys: [key], threads: 1 });
    assert.equal(result.ok, true, JSON.stringify(result.problem));
    assert.equal(result.last.seq, 13);
  });

  it('takes one writer at a time: a second open fails with FO_AUDIT_LOCKED, a stale lock is taken over', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path });
    await assert.rejects(AuditLog.open({ path }), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_LOCKED'));
    await log.close();
    await writeFile(`${path}.lock`, '2147483646\n'); // no such process
    const again = await AuditLog.open({ path });
    await again.close();
  });
});
