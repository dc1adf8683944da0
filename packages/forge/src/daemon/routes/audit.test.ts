import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { auditPathsFromConfig, type AuditRecord } from '@forgeone/microkernel';
import { loadConfigFile } from '@forgeone/common';
import { signedSample, testDaemon, type TestDaemon } from '../../test-support/daemon.js';
import { call, type DaemonTarget } from '../client.js';
import { AuditReader } from '../audit-reader.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

/** A daemon with the sample plugin installed and started (audited changes), and a viewer token. */
async function busyDaemon(): Promise<{ d: TestDaemon; viewer: DaemonTarget; digest: string }> {
  const d = await testDaemon();
  running.push(d);
  const installed = await call<{ plugin: { digest: string } }>(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
  await call(d.socket, { method: 'POST', path: '/v1/plugins/sample-plugin/stop' });
  return { d, viewer: d.tcp(d.daemon.services.tokens.create('auditor', 'viewer').token), digest: installed.plugin.digest };
}

type Tail = { records: AuditRecord[]; unreadable: number };
type Check = { ok: boolean; records: number; checkpoints: number; signatures: string; lastCheckpointAge?: number; firstBad?: { seq: number; reason: string }; problem?: { code: string } };

describe('GET /v1/audit', () => {
  it('answers the newest records of the log, oldest first, as the log holds them', async () => {
    const { d, viewer } = await busyDaemon();
    const tail = await call<Tail>(viewer, { method: 'GET', path: '/v1/audit?limit=3' });
    const onDisk = (await readFile(join(d.dir, 'audit', 'audit.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as AuditRecord);
    assert.deepEqual(tail, { records: onDisk.slice(-3), unreadable: 0 });
    const all = await call<Tail>(viewer, { method: 'GET', path: '/v1/audit' });
    assert.ok(all.records.some((record) => record.type === 'event' && record.action === 'api.plugins.install' && record.principal === 'user:tester'));
  });

  it('filters by plugin and by time, as forge audit tail does', async () => {
    const { viewer, digest } = await busyDaemon();
    const mine = await call<Tail>(viewer, { method: 'GET', path: `/v1/audit?plugin=${encodeURIComponent(digest)}` });
    assert.ok(mine.records.length > 0);
    assert.ok(mine.records.every((record) => record.type === 'event' && record.plugin === digest));
    assert.ok(mine.records.some((record) => record.type === 'event' && record.action === 'plugin.lifecycle.start'));
    assert.equal((await call<Tail>(viewer, { method: 'GET', path: '/v1/audit?since=2999-01-01T00:00:00Z' })).records.length, 0);
    const lastHour = await call<Tail>(viewer, { method: 'GET', path: '/v1/audit?since=1h&limit=10000' });
    const everything = await call<Tail>(viewer, { method: 'GET', path: '/v1/audit?limit=10000' });
    assert.deepEqual(lastHour.records.map((record) => record.seq), everything.records.map((record) => record.seq));
  });

  it('refuses a since that is neither a duration nor a time, and a limit out of range, with FO_DAEMON_BAD_REQUEST; no token is FO_DAEMON_UNAUTHENTICATED', async () => {
    const { d, viewer } = await busyDaemon();
    assert.equal(await codeOf(call(viewer, { method: 'GET', path: '/v1/audit?since=yesterday' })), 'FO_DAEMON_BAD_REQUEST');
    assert.equal(await codeOf(call(viewer, { method: 'GET', path: '/v1/audit?limit=0' })), 'FO_DAEMON_BAD_REQUEST');
    assert.equal(await codeOf(call(viewer, { method: 'GET', path: '/v1/audit?verbose=1' })), 'FO_DAEMON_BAD_REQUEST');
    assert.equal(await codeOf(call(d.tcp(), { method: 'GET', path: '/v1/audit' })), 'FO_DAEMON_UNAUTHENTICATED');
  });
});

describe('GET /v1/audit/verify', () => {
  it('verifies the live log with the checkpoint key\'s public half and says how old the last checkpoint is', async () => {
    const { d, viewer } = await busyDaemon();
    await d.daemon.services.audit?.checkpoint();
    const check = await call<Check>(viewer, { method: 'GET', path: '/v1/audit/verify' });
    assert.deepEqual([check.ok, check.signatures, check.firstBad, check.problem], [true, 'verified', undefined, undefined]);
    assert.equal(check.records, d.daemon.services.audit?.seq);
    assert.ok(check.checkpoints >= 1, `checkpoints: ${check.checkpoints}`);
    assert.ok(Number.isInteger(check.lastCheckpointAge), `lastCheckpointAge: ${String(check.lastCheckpointAge)}`);
  });

  it('reports a changed byte as ok: false with the first bad record, not as an error', async () => {
    const { d, viewer } = await busyDaemon();
    await d.daemon.services.audit?.flush();
    const file = join(d.dir, 'audit', 'audit.log');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const victim = lines.findIndex((line) => line.includes('"action":"api.plugins.stop"'));
    assert.ok(victim > 0);
    lines[victim] = (lines[victim] as string).replace('"resource":"sample-plugin"', '"resource":"sample-plugiN"');
    await writeFile(file, lines.join('\n'));
    const check = await call<Check>(viewer, { method: 'GET', path: '/v1/audit/verify' });
    assert.equal(check.ok, false);
    assert.equal(check.firstBad?.seq, victim + 1);
    assert.match(check.firstBad?.reason ?? '', /^FO_AUDIT_RECORD_CORRUPT: /);
    assert.equal(check.problem?.code, 'FO_AUDIT_RECORD_CORRUPT');
    assert.equal(check.records, victim, 'the records before it are good');
  });

  it('shares one verification between the requests that arrive while it runs', async () => {
    const { d } = await busyDaemon();
    const config = await loadConfigFile(join(d.dir, 'plugin-manager.yaml'));
    const reader = new AuditReader(auditPathsFromConfig(config.audit, d.dir), d.daemon.services.audit);
    const first = reader.verify();
    assert.equal(reader.verify(), first);
    assert.equal((await first).ok, true);
    assert.notEqual(reader.verify(), first, 'a request after it ended starts another');
  });
});
