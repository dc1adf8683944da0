import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError, defaultConfig } from '@forgeone/common';
import { ChainChecker } from './chain.js';
import { auditPathsFromConfig, openConfiguredAuditLog } from './config.js';
import { formatTimestamp, jsonString } from './format.js';
import { checkpointKeyId, loadCheckpointVerifyKey, loadOrCreateCheckpointKey, publicKeyFileFor } from './keys.js';
import { auditLevelAdmits, isAuditLevel } from './level.js';
import { STATE_FORMAT, readCheckpointState } from './state.js';
import { tempDir, writeLog } from './test-support/logs.js';
import { statePathFor } from './files.js';

describe('record encoding', () => {
  it('writes JSON strings that parse back to the original, escaping everything a terminal would act on', () => {
    const samples = ['plain', '', 'quote " backslash \\', 'nl\ncr\rtab\t', '\u0000\u001f\u007f\u0080\u009f', '\u202e\u2066\u200f\u061c', '\u2028\u2029', '\ud83d\ude00', '\ud800', 'ünïcødé'];
    for (const sample of samples) {
      const encoded = jsonString(sample);
      assert.equal(JSON.parse(encoded), sample, JSON.stringify(sample));
      assert.doesNotMatch(encoded, /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u, JSON.stringify(sample));
    }
    assert.equal(jsonString('path/to/x'), '"path/to/x"');
  });

  it('formats timestamps with exactly 24 characters, clamping times a 4-digit year cannot show', () => {
    assert.equal(formatTimestamp(Date.UTC(2025, 0, 2, 3, 4, 5, 678)), '2025-01-02T03:04:05.678Z');
    assert.equal(formatTimestamp(-5), '1970-01-01T00:00:00.000Z');
    assert.equal(formatTimestamp(1e16), '9999-12-31T23:59:59.999Z');
    assert.equal(formatTimestamp(Number.NaN), '1970-01-01T00:00:00.000Z');
  });

  it('refuses lines that are not records, whatever their hash, before reading fields at fixed offsets', () => {
    const checker = new ChainChecker();
    for (const line of ['', '{}', '{"seq":01,"ts":"x"}', 'x'.repeat(300), `{"seq":1,"ts":"2025-01-02T03:04:05.678Z","prev":"${'0'.repeat(63)}","type":"event"${'x'.repeat(200)}`]) {
      assert.equal(checker.check(Buffer.from(line), 0, Buffer.byteLength(line)), 0, line.slice(0, 40));
      assert.equal(checker.fault?.code, 'FO_AUDIT_RECORD_CORRUPT');
    }
  });
});

describe('audit levels', () => {
  it('orders denials < decisions < all', () => {
    assert.equal(auditLevelAdmits('denials', 'denial'), true);
    assert.equal(auditLevelAdmits('denials', 'decision'), false);
    assert.equal(auditLevelAdmits('decisions', 'decision'), true);
    assert.equal(auditLevelAdmits('decisions', 'call'), false);
    assert.equal(auditLevelAdmits('all', 'call'), true);
    assert.equal(isAuditLevel('decisions'), true);
    assert.equal(isAuditLevel('everything'), false);
  });

  it('admits exactly the event classes at or below each level, for every pair', () => {
    const admitted = (['denials', 'decisions', 'all'] as const).map((level) => (['denial', 'decision', 'call'] as const).map((event) => auditLevelAdmits(level, event)));
    assert.deepEqual(admitted, [
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
  });
});

describe('checkpoint keys and the state file', () => {
  it('creates the key once with mode 0600 and its public half next to it, then reuses it', async () => {
    const file = join(await tempDir(), 'checkpoint-key.pem');
    const first = await loadOrCreateCheckpointKey(file);
    assert.equal(first.created, true);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = await loadOrCreateCheckpointKey(file);
    assert.equal(again.created, false);
    assert.equal(again.key.id, first.key.id);
    const pub = await loadCheckpointVerifyKey(publicKeyFileFor(file));
    assert.equal(pub.id, checkpointKeyId(first.key.publicKey));
    assert.equal(publicKeyFileFor(file).endsWith('checkpoint-key.pub.pem'), true);
  });

  it('refuses a key that is not Ed25519 with FO_AUDIT_KEY_INVALID', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const file = join(await tempDir(), 'p256.pem');
    await writeFile(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(loadCheckpointVerifyKey(file), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_KEY_INVALID'));
    await writeFile(file, 'not a key');
    await assert.rejects(loadCheckpointVerifyKey(file), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_KEY_INVALID'));
  });

  it('refuses a state file whose record does not hash to its hash', async () => {
    const { path } = await writeLog(await tempDir(), 3);
    const file = statePathFor(path);
    const state = JSON.parse(await readFile(file, 'utf8')) as { format: string; record: string };
    assert.equal(state.format, STATE_FORMAT);
    await writeFile(file, JSON.stringify({ ...state, record: state.record.replace('"type":"checkpoint"', '"type":"checkpoinT"') }));
    await assert.rejects(readCheckpointState(file), (error: unknown) => ForgeError.is(error, 'FO_AUDIT_STATE_INVALID'));
  });
});

describe('audit configuration', () => {
  it('resolves relative paths from the configuration directory and opens a signed log', async () => {
    const dir = await tempDir();
    const config = { ...defaultConfig().audit, path: 'audit/audit.log', checkpoint_key: 'keys/audit.pem', checkpoint_every: 2 };
    const paths = auditPathsFromConfig(config, dir);
    assert.deepEqual(paths, { log: join(dir, 'audit/audit.log'), checkpointKey: join(dir, 'keys/audit.pem'), publicKey: join(dir, 'keys/audit.pub.pem') });
    const log = await openConfiguredAuditLog(config, dir);
    assert.equal(log.level, 'decisions');
    log.append({ principal: 'host:test', action: 'plugin.lifecycle.start', decision: 'allow' });
    log.append({ principal: 'host:test', action: 'plugin.lifecycle.stop', decision: 'allow' });
    await log.close();
    assert.match(await readFile(paths.log, 'utf8'), /"seq":3,[^\n]*"type":"checkpoint"/);
  });
});
