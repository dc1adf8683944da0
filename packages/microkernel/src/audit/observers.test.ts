import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IdentityContext, createLogger, type LogRecord } from '@forgeone/common';
import { generateCheckpointKey } from './keys.js';
import { AuditLog } from './log.js';
import type { AuditEventNotice } from './observers.js';
import { MAX_TEXT, parseAuditRecord, type AuditEventRecord } from './record.js';
import { readLines, tempDir } from './test-support/logs.js';

describe('AuditLog.observe', () => {
  it('tells observers of every event record as written (append and bridge reports), never of checkpoints', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open({ path, signingKey: generateCheckpointKey(), checkpointEvery: 2 });
    const seen: AuditEventNotice[] = [];
    log.observe((record) => seen.push(record));
    log.append({ principal: 'user:alice', action: 'api.plugins.start', resource: 'demo', decision: 'allow', reason: 'operator' });
    const identity = new IdentityContext('host').forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });
    log.record({ identity, action: 'wasi_snapshot_preview1.path_open', resource: 'x'.repeat(MAX_TEXT + 10), allowed: false, reason: 'outside every preopen' });
    log.append({ principal: 'user:alice', action: 'api.plugins.stop', decision: 'deny' });
    await log.close();
    const written = (await readLines(path)).lines
      .map((line) => parseAuditRecord(Buffer.from(line.text, 'latin1').toString('utf8')))
      .filter((record): record is AuditEventRecord => record.type === 'event');
    assert.equal(written.length, 3);
    assert.deepEqual(
      seen,
      written.map((record) => ({
        seq: record.seq,
        ts: record.ts,
        principal: record.principal,
        ...(record.plugin === undefined ? {} : { plugin: record.plugin }),
        action: record.action,
        ...(record.resource === undefined ? {} : { resource: record.resource }),
        decision: record.decision,
        ...(record.reason === undefined ? {} : { reason: record.reason }),
      })),
      'each notice is the record as written, an overlong resource cut the same way',
    );
    assert.deepEqual(
      seen.map((record) => record.seq),
      [1, 2, 4],
      'the checkpoint at seq 3 is not an event',
    );
  });

  it('keeps appending when an observer throws, still tells the others, and stops telling one that unsubscribed', async () => {
    const path = join(await tempDir(), 'audit.log');
    const logged: LogRecord[] = [];
    const log = await AuditLog.open({ path, logger: createLogger((record) => logged.push(record), 'debug') });
    const seen: number[] = [];
    const stopThrowing = log.observe(() => {
      throw new Error('observer bug');
    });
    const stop = log.observe((record) => seen.push(record.seq));
    assert.equal(log.append({ principal: 'user:a', action: 'x', decision: 'allow' }), 1);
    stopThrowing();
    log.append({ principal: 'user:a', action: 'x', decision: 'allow' });
    stop();
    log.append({ principal: 'user:a', action: 'x', decision: 'allow' });
    await log.close();
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(
      logged.filter((record) => record.message === 'an audit observer threw').map((record) => record.fields['seq']),
      [1],
    );
  });
});
