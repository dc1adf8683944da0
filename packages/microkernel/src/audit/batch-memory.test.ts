import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IdentityContext } from '@forgeone/common';
import { RecordBatch } from './batch.js';
import { BatchMemory } from './batch-memory.js';
import { AuditLog } from './log.js';
import { parseAuditRecord } from './record.js';
import { tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const TS = '2025-01-02T03:04:05.678Z';

describe('BatchMemory: the memory of written batches, reused', () => {
  it('gives a released batch memory to the next batch, and the released batch reads as empty', () => {
    const memory = new BatchMemory();
    const first = new RecordBatch(1, 4096, 4, memory);
    first.push(1, TS, 'event","principal":"host:x","action":"a","decision":"allow"', -1);
    const bytes = first.buffer;
    first.release();
    assert.equal(first.bytes().length, 0, 'a released batch has no bytes left to write or hash');
    const second = new RecordBatch(1, 4096, 4, memory);
    assert.equal(second.buffer, bytes);
    assert.equal(second.used, 0);
  });

  it('does not reuse the memory of a batch something may still write into (a chain worker given up on)', () => {
    const memory = new BatchMemory();
    const batch = new RecordBatch(1, 4096, 4, memory);
    const bytes = batch.buffer;
    batch.reusable = false;
    batch.release();
    assert.notEqual(new RecordBatch(1, 4096, 4, memory).buffer, bytes);
  });

  it('does not hand out a spare space smaller than asked for', () => {
    const memory = new BatchMemory();
    const small = new RecordBatch(1, 1024, 4, memory);
    small.release();
    const large = new RecordBatch(1, 8192, 4, memory);
    assert.ok(large.buffer.length >= 8192);
    assert.ok(large.layout.length >= 16);
  });
});

describe('AuditLog: batches encoded into reused memory', () => {
  it('writes records after long ones into the same memory with none of the old bytes: every line parses, the log verifies', async () => {
    const dir = await tempDir();
    const path = join(dir, 'audit.log');
    const log = await AuditLog.open({ path, level: 'all', batchRecords: 50, chainWorker: false });
    const host = new IdentityContext('host');
    const plugin = host.forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });
    // Long records first (each batch fills most of its memory), then short ones into the same memory.
    for (let round = 0; round < 4; round += 1) {
      for (let i = 0; i < 200; i += 1) log.append({ principal: 'host:x', action: 'forge.long', resource: `${'L'.repeat(3000)}${i}`, decision: 'allow' });
      await log.flush();
      for (let i = 0; i < 200; i += 1) log.record({ identity: plugin, action: 'wasi_snapshot_preview1.fd_read', resource: 'fd:3', allowed: true, reason: 'fd rights' });
      await log.flush();
    }
    const batches = log.stats().batches;
    await log.close();
    assert.ok(batches >= 32, `the log wrote ${batches} batches`);
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 1600);
    for (const line of lines) {
      const record = parseAuditRecord(line);
      assert.ok(record.type === 'event');
      assert.ok(record.action === 'forge.long' ? record.resource?.startsWith('LLL') : record.resource === 'fd:3' && !line.includes('LLL'), `record ${record.seq} holds only its own bytes`);
    }
    const verified = await verifyAuditLog({ path, threads: 1 });
    assert.equal(verified.ok, true, verified.problem?.message);
    assert.equal(verified.records, 1600);
  });
});
