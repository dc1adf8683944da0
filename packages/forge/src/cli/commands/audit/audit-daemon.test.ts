import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliFor } from '../../../test-support/cli.js';
import { testDaemon, signedSample, type TestDaemon } from '../../../test-support/daemon.js';
import { COMMANDS } from '../index.js';
import { formatRecord } from './tail.js';

const { cli, ok } = cliFor(COMMANDS, {});

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

async function daemonWithRecords(): Promise<TestDaemon> {
  const d = await testDaemon();
  running.push(d);
  await ok(d.dir, 'install', await signedSample(d.dir));
  await ok(d.dir, 'start', 'sample-plugin');
  return d;
}

describe('forge audit tail and verify with a daemon running', () => {
  it('tail asks the daemon, which holds the log, and prints the records as a local tail does', async () => {
    const d = await daemonWithRecords();
    const json = JSON.parse(await ok(d.dir, 'audit', 'tail', '-n', '10', '--json')) as { records: { action: string; principal: string; resource?: string }[] };
    assert.deepEqual(Object.keys(json), ['records']);
    assert.ok(json.records.length <= 10);
    assert.deepEqual(
      json.records.filter((record) => record.action.startsWith('api.')).map((record) => [record.action, record.principal, record.resource]),
      [
        ['api.plugins.install', 'user:tester', undefined],
        ['api.plugins.start', 'user:tester', 'sample-plugin'],
      ],
    );
    const text = (await ok(d.dir, 'audit', 'tail', '-n', '10')).trimEnd().split('\n');
    assert.equal(text.length, json.records.length);
    assert.match(text.find((line) => line.includes('api.plugins.start')) ?? '', /^\d{4}-[\d-]+T[\d:.]+Z {2}#\d+ {2}allow {2}user:tester {2}api\.plugins\.start {2}sample-plugin {2}\(the admin role allows plugins\.start\)$/);
    const since = JSON.parse(await ok(d.dir, 'audit', 'tail', '--since', '1h', '--json')) as { records: unknown[] };
    assert.ok(since.records.length >= 2, `every record of the last hour, found ${since.records.length}`);
  });

  it('verify asks the daemon: OK and exit 0 for a good log, FAILED with the first bad record and exit 5 for an altered one', async () => {
    const d = await daemonWithRecords();
    const good = await cli(d.dir, 'audit', 'verify');
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, new RegExp(`^audit log of the daemon at ${join(d.dir, 'run', 'forge.sock')}: OK\\n {2}records: {6}\\d+\\n`));
    const json = JSON.parse(await ok(d.dir, 'audit', 'verify', '--json')) as { ok: boolean; records: number };
    assert.equal(json.ok, true);

    await d.daemon.services.audit?.flush();
    const log = join(d.dir, 'audit', 'audit.log');
    const text = await readFile(log, 'utf8');
    assert.ok(text.includes('"resource":"sample-plugin"'));
    await writeFile(log, text.replace('"resource":"sample-plugin"', '"resource":"sample-plugim"'));
    const bad = await cli(d.dir, 'audit', 'verify');
    assert.equal(bad.status, 5, bad.stdout);
    assert.match(bad.stdout, /: FAILED\n/);
    assert.match(bad.stdout, /first bad record: seq \d+: FO_AUDIT_RECORD_CORRUPT: /);
    assert.match(bad.stderr, /^forge: FO_AUDIT_RECORD_CORRUPT: /);
  });

  it('reads the files itself when --log names one, and without a daemon as before', async () => {
    const d = await daemonWithRecords();
    await d.daemon.services.audit?.flush();
    const local = await cli(d.dir, 'audit', 'tail', '--log', 'audit/audit.log', '-n', '1', '--json');
    assert.equal(local.status, 0, local.stderr);
    assert.equal((JSON.parse(local.stdout) as { log: string }).log, join(d.dir, 'audit', 'audit.log'), 'the local shape, with the log named');
    await d.close();
    const verified = await cli(d.dir, 'audit', 'verify');
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`^audit log ${join(d.dir, 'audit', 'audit.log')}: OK\\n`));
    assert.match(verified.stdout, /signatures verified with/);
  });
});

describe('forge audit tail: escaping', () => {
  it('escapes newlines in a record too, so a resource cannot print a line that looks like another record', () => {
    const line = formatRecord({ seq: 7, ts: '2025-01-02T03:04:05.000Z', prev: '', hash: '', type: 'event', principal: 'plugin:a', action: 'x', resource: '/a\n2025-01-02T03:04:06.000Z  #8  allow  forged', decision: 'allow' } as never);
    assert.equal(line.includes('\n'), false);
    assert.match(line, /\/a\\n2025/);
  });
});
