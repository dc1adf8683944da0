import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { AuditLog } from './log.js';
import type { AuditEventRecord } from './record.js';
import { readAuditTail } from './tail.js';
import { tempDir } from './test-support/logs.js';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

async function twoPluginLog(rotateSize?: number) {
  const path = join(await tempDir(), 'audit.log');
  let now = Date.UTC(2025, 0, 1);
  const log = await AuditLog.open({ path, clock: () => now, ...(rotateSize === undefined ? {} : { rotateSize }) });
  for (let i = 0; i < 100; i += 1) {
    now += 60_000; // one record a minute
    const a = i % 2 === 0;
    log.append({
      principal: a ? 'plugin:acme/alpha@1.0.0' : 'plugin:other/beta@2.0.0',
      plugin: a ? DIGEST_A : DIGEST_B,
      action: 'forge.kv_get',
      resource: a ? `kv:${i}` : `kv:mentions alpha ${i}`,
      decision: 'allow',
    });
  }
  await log.close();
  return path;
}

describe('readAuditTail', () => {
  it('returns the newest records, oldest first', async () => {
    const path = await twoPluginLog();
    const { records } = await readAuditTail({ path, limit: 3 });
    assert.deepEqual(
      records.map((record) => record.seq),
      [98, 99, 100],
    );
  });

  it('filters by plugin name, publisher/name, name@version or digest, not by text that mentions it', async () => {
    const path = await twoPluginLog();
    for (const plugin of ['alpha', 'acme/alpha', 'acme/alpha@1.0.0', DIGEST_A]) {
      const { records } = await readAuditTail({ path, plugin });
      assert.equal(records.length, 50, plugin);
      assert.ok(records.every((record) => (record as AuditEventRecord).plugin === DIGEST_A), plugin);
    }
    assert.equal((await readAuditTail({ path, plugin: 'gamma' })).records.length, 0);
  });

  it('returns the records since a time, across rotated segments', async () => {
    const path = await twoPluginLog(8 * 1024);
    const since = Date.UTC(2025, 0, 1) + 90 * 60_000;
    const { records } = await readAuditTail({ path, since });
    const events = records.filter((record) => record.type === 'event');
    assert.deepEqual(
      events.map((record) => record.ts),
      Array.from({ length: 11 }, (_, i) => new Date(since + i * 60_000).toISOString()),
    );
  });

  it('counts lines it cannot read instead of failing', async () => {
    const path = await twoPluginLog();
    await appendFile(path, '{"seq":101,"ts":"2025-01-01T02:00:00.000Z","pr\n');
    const tail = await readAuditTail({ path, limit: 5 });
    assert.equal(tail.unreadable, 1);
    assert.equal(tail.records.at(-1)?.seq, 100);
  });

  it('throws FO_AUDIT_LOG_NOT_FOUND for a missing log', async () => {
    await assert.rejects(readAuditTail({ path: join(await tempDir(), 'none.log') }), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_LOG_NOT_FOUND'));
  });
});
