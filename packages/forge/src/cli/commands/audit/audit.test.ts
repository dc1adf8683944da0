import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '@forgeone/common';
import { AuditLog, loadOrCreateCheckpointKey, openConfiguredAuditLog, publicKeyFileFor } from '@forgeone/microkernel';
import { forge } from '../../../test-support/cli.js';
import { auditTail, parseSince } from './tail.js';
import { auditVerify } from './verify.js';

const commands = [auditVerify, auditTail];

/** A directory with plugin-manager.yaml pointing at audit/audit.log and keys/audit.pem, and a log of `count` records. */
async function setup(count = 20, now = () => Date.now()) {
  const dir = await mkdtemp(join(tmpdir(), 'forge-audit-cli-'));
  await writeFile(join(dir, 'plugin-manager.yaml'), 'plugin_manager:\n  audit:\n    path: audit/audit.log\n    checkpoint_key: keys/audit.pem\n');
  await mkdir(join(dir, 'keys'));
  const { key } = await loadOrCreateCheckpointKey(join(dir, 'keys/audit.pem'));
  const log = await AuditLog.open({ path: join(dir, 'audit/audit.log'), signingKey: key, checkpointEvery: 8, clock: now });
  for (let i = 0; i < count; i += 1) {
    log.append({
      principal: i % 2 === 0 ? 'plugin:acme/alpha@1.0.0' : 'plugin:acme/beta@1.0.0',
      plugin: `sha256:${(i % 2 === 0 ? 'a' : 'b').repeat(64)}`,
      action: 'wasi_snapshot_preview1.path_open',
      resource: i === 3 ? '/data/\u001b[2J\u202eevil' : `/data/${i}.txt`,
      decision: i % 3 === 0 ? 'deny' : 'allow',
      reason: i % 3 === 0 ? 'outside every preopen' : 'granted',
    });
  }
  await log.close();
  return { dir, log: join(dir, 'audit/audit.log'), pub: publicKeyFileFor(join(dir, 'keys/audit.pem')) };
}

describe('forge audit verify', () => {
  it('reports a good log and exits 0', async () => {
    const { dir, pub } = await setup();
    const run = await forge(['audit', 'verify', '--key', pub], { cwd: dir, commands });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /: OK\n/);
    assert.match(run.stdout, /records: +23 \(up to seq 23\) in 1 segment\n/);
    assert.match(run.stdout, /signatures verified/);
    const json = await forge(['audit', 'verify', '--log', 'audit/audit.log', '--key', pub, '--json'], { cwd: dir, commands });
    const result = JSON.parse(json.stdout) as { ok: boolean; records: number; state: string };
    assert.deepEqual([result.ok, result.records, result.state], [true, 23, 'matched']);
  });

  it('names the first bad record and exits 5 when a byte was changed', async () => {
    const { dir, log, pub } = await setup();
    const text = await readFile(log, 'utf8');
    await writeFile(log, text.replace('"resource":"/data/4.txt"', '"resource":"/data/5.txt"'));
    const run = await forge(['audit', 'verify', '--key', pub], { cwd: dir, commands });
    assert.equal(run.status, 5);
    assert.match(run.stdout, /FAILED/);
    assert.match(run.stdout, /first bad record: audit\/audit\.log line 5 \(byte \d+\), where seq 5 belongs/);
    assert.match(run.stderr, /FO_AUDIT_RECORD_CORRUPT/);
    const json = await forge(['audit', 'verify', '--key', pub, '--json'], { cwd: dir, commands });
    const result = JSON.parse(json.stdout) as { ok: boolean; problem: { code: string; record: { line: number; seq: number } } };
    assert.deepEqual([result.ok, result.problem.code, result.problem.record.line, result.problem.record.seq], [false, 'FO_AUDIT_RECORD_CORRUPT', 5, 5]);
  });

  it('detects a truncated log against its state file', async () => {
    const { dir, log, pub } = await setup();
    const lines = (await readFile(log, 'utf8')).split('\n');
    await writeFile(log, `${lines.slice(0, 20).join('\n')}\n`);
    const run = await forge(['audit', 'verify', '--key', pub, '--json'], { cwd: dir, commands });
    assert.equal(run.status, 5);
    assert.equal((JSON.parse(run.stdout) as { problem: { code: string } }).problem.code, 'FO_AUDIT_TRUNCATED');
  });

  it('uses the public key next to the configured checkpoint key by default', async () => {
    const { dir } = await setup();
    const run = await forge(['audit', 'verify'], { cwd: dir, commands });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /using public key .*keys\/audit\.pub\.pem/);
    assert.match(run.stdout, /signatures verified/);
  });

  it('warns that signatures were not checked when there is no key', async () => {
    const { dir, pub } = await setup();
    await rm(pub);
    const run = await forge(['audit', 'verify'], { cwd: dir, commands });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /signatures were not checked/);
    assert.match(run.stdout, /signatures NOT checked/);
  });

  it('refuses checkpoints signed by a key other than --key (exit 5, FO_AUDIT_KEY_UNKNOWN)', async () => {
    const { dir } = await setup();
    await loadOrCreateCheckpointKey(join(dir, 'other.pem'));
    const run = await forge(['audit', 'verify', '--key', 'other.pub.pem'], { cwd: dir, commands });
    assert.equal(run.status, 5);
    assert.match(run.stderr, /FO_AUDIT_KEY_UNKNOWN/);
    assert.match(run.stdout, /first bad record: audit\/audit\.log line 9 /);
  });

  it('with audit.witness configured, catches the log and its state file rolled back together (exit 5, FO_AUDIT_TRUNCATED)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-audit-witness-'));
    await mkdir(join(dir, 'mnt'));
    await writeFile(join(dir, 'plugin-manager.yaml'), 'plugin_manager:\n  audit:\n    path: audit/audit.log\n    checkpoint_key: keys/audit.pem\n    witness: mnt/audit.witness\n');
    const config = parseConfig(await readFile(join(dir, 'plugin-manager.yaml'), 'utf8'), { name: 'plugin-manager.yaml', baseDir: dir });
    const write = async (from: number): Promise<void> => {
      const log = await openConfiguredAuditLog(config.audit, dir);
      for (let i = from; i < from + 5; i += 1) log.append({ principal: 'plugin:acme/alpha@1.0.0', action: 'forge.kv_get', resource: `k${i}`, decision: 'allow', reason: 'granted' });
      await log.close();
    };
    await write(0);
    const old = { log: await readFile(join(dir, 'audit/audit.log')), state: await readFile(join(dir, 'audit/audit.log.checkpoint')) };
    await write(5);
    const good = await forge(['audit', 'verify'], { cwd: dir, commands });
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /witness: +\S*audit\.witness: 2 checkpoints, newest at seq 12; the log was checked against its newest\n/);
    await writeFile(join(dir, 'audit/audit.log'), old.log);
    await writeFile(join(dir, 'audit/audit.log.checkpoint'), old.state);
    await writeFile(join(dir, 'plain.yaml'), 'plugin_manager:\n  audit:\n    path: audit/audit.log\n    checkpoint_key: keys/audit.pem\n');
    assert.equal((await forge(['audit', 'verify', '--config', 'plain.yaml'], { cwd: dir, commands })).status, 0, 'without the witness the rollback passes');
    const lost = await forge(['audit', 'verify', '--witness', 'mnt/lost.witness'], { cwd: dir, commands });
    assert.match(lost.stderr, /FO_AUDIT_WITNESS_INVALID: the witness \S+lost\.witness holds no checkpoint while the log holds 1/);
    const caught = await forge(['audit', 'verify'], { cwd: dir, commands });
    assert.equal(caught.status, 5);
    assert.match(caught.stderr, /^forge: FO_AUDIT_TRUNCATED: the log ends at seq 6, before the checkpoint at seq 12 recorded in the witness \S+audit\.witness: records were cut\n/m);
  });

  it('exits 6 when there is no log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-audit-cli-'));
    const run = await forge(['audit', 'verify', '--log', 'none.log'], { cwd: dir, commands });
    assert.equal(run.status, 6);
    assert.match(run.stderr, /FO_AUDIT_LOG_NOT_FOUND/);
  });
});

describe('forge audit tail', () => {
  it('prints the newest records with plugin text escaped', async () => {
    const { dir } = await setup();
    const run = await forge(['audit', 'tail', '-n', '30'], { cwd: dir, commands });
    assert.equal(run.status, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /[\u001b\u202e]/u);
    assert.match(run.stdout, /#4 +DENY +plugin:acme\/beta@1\.0\.0 {2}wasi_snapshot_preview1\.path_open {2}\/data\/\\u\{1b\}\[2J\\u\{202e\}evil {2}\(outside every preopen\)/);
    assert.match(run.stdout, /checkpoint {2}signed by sha256:/);
  });

  it('filters by plugin and time and prints JSON', async () => {
    let now = Date.now() - 20 * 60_000; // one minute per record from 20 minutes ago
    const { dir } = await setup(20, () => (now += 60_000));
    const run = await forge(['audit', 'tail', '--plugin', 'acme/alpha', '--since', '10m', '--json'], { cwd: dir, commands });
    assert.equal(run.status, 0, run.stderr);
    const { records } = JSON.parse(run.stdout) as { records: { seq: number; plugin: string; ts: string }[] };
    assert.ok(records.length > 0 && records.length < 10, String(records.length));
    assert.ok(records.every((record) => record.plugin === `sha256:${'a'.repeat(64)}`));
    assert.ok(records.every((record) => Date.parse(record.ts) >= Date.now() - 11 * 60_000));
  });

  it('refuses a --since that is neither a duration nor a time, with a usage error', async () => {
    const { dir } = await setup(2);
    const run = await forge(['audit', 'tail', '--since', 'yesterday'], { cwd: dir, commands });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /FO_CLI_FLAG_VALUE: --since expects a duration/);
  });

  it('reads --since as a duration back from now or as an ISO time', () => {
    const now = Date.UTC(2025, 0, 2, 12);
    assert.equal(parseSince('10m', now), now - 600_000);
    assert.equal(parseSince('2025-01-02T03:04:05Z', now), Date.UTC(2025, 0, 2, 3, 4, 5));
  });

  it('renders help for both commands', async () => {
    for (const name of ['verify', 'tail']) {
      const run = await forge(['audit', name, '--help'], { commands });
      assert.equal(run.status, 0);
      assert.match(run.stdout, new RegExp(`forge audit ${name}`));
    }
  });
});
