/**
 * Hostile tests: every install and rollback the store refuses leaves an audit denial
 * record naming the package (and its publisher once verified) and the refusal.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { rejectsWithCode } from '@forgeone/common/testing';
import { AuditLog, readAuditTail } from '@forgeone/microkernel';
import { createRevocationList } from '../../attestation/revocation.js';
import { TrustStore } from '../../attestation/trust-store.js';
import { readPackage } from '../../loader/index.js';
import { NOW, makeSigned, openStore, otherPublisher, root, tempDir } from './test-support/fixtures.js';

describe('PluginStore refusals in the audit log', () => {
  it('records every refused install and rollback with the package, the publisher once verified, and the code', async () => {
    const dir = await tempDir();
    const log = await AuditLog.open({ path: join(dir, 'audit.log') });
    const audit = { log, principal: 'user:alice' };
    const store = await openStore({ directory: join(dir, 'plugins'), audit, maxPlugins: 1 });
    const unsigned = await makeSigned({ signer: null });
    await rejectsWithCode(store.install(unsigned), 'FO_VERIFY_UNSIGNED');
    await store.install(await makeSigned({ version: '1.0.0' }));
    await rejectsWithCode(store.install(await makeSigned({ version: '1.1.0', signer: otherPublisher })), 'FO_STORE_PUBLISHER_CHANGED');
    await rejectsWithCode(store.install(await makeSigned({ version: '1.2.0', permissions: 'filesystem = ["read", "write"]' })), 'FO_STORE_APPROVAL_REQUIRED');
    await rejectsWithCode(store.install(await makeSigned({ name: 'second' })), 'FO_STORE_FULL');
    await store.install(await makeSigned({ version: '2.0.0' }));
    const previous = (await store.get('hello')).previous;
    const revoking = await openStore({
      directory: store.directory,
      audit,
      verification: {
        verifySignatures: true,
        trustStore: TrustStore.create({ roots: [root.certificate], revocations: { text: createRevocationList({ serials: [], key_ids: [], digests: [previous?.identity.digest ?? ''] }, root.key, NOW), source: 'test' } }),
        now: NOW,
      },
    });
    await rejectsWithCode(revoking.rollback('hello'), 'FO_REVOKED_PACKAGE');
    await log.close();
    const tail = await readAuditTail({ path: join(dir, 'audit.log'), limit: 100 });
    const records = tail.records.flatMap((record) => (record.type === 'event' ? [record] : []));
    assert.deepEqual(
      records.map((record) => [record.action, record.decision, record.principal, record.reason?.split(':')[0], record.data?.['name'], record.data?.['version'], record.data?.['publisher']]),
      [
        ['store.install', 'deny', 'user:alice', 'FO_VERIFY_UNSIGNED', 'hello', '1.0.0', undefined],
        ['store.install', 'deny', 'user:alice', 'FO_STORE_PUBLISHER_CHANGED', 'hello', '1.1.0', 'Other Publisher'],
        ['store.install', 'deny', 'user:alice', 'FO_STORE_APPROVAL_REQUIRED', 'hello', '1.2.0', 'Store Publisher'],
        ['store.install', 'deny', 'user:alice', 'FO_STORE_FULL', 'second', '1.0.0', 'Store Publisher'],
        ['store.rollback', 'deny', 'user:alice', 'FO_REVOKED_PACKAGE', 'hello', '1.0.0', 'Store Publisher'],
      ],
    );
    assert.equal(records[0]?.resource, `package:sha256:${createHash('sha256').update(unsigned).digest('hex')}`);
    assert.equal(records[0]?.plugin, (await readPackage(unsigned)).digest);
    assert.equal(records[4]?.resource, 'hello');
    assert.equal(records[4]?.plugin, previous?.identity.digest);
  });

  it('lets the caller refuse a verified package before anything is written (admit), audited like its own refusals', async () => {
    const dir = await tempDir();
    const log = await AuditLog.open({ path: join(dir, 'audit.log') });
    const store = await openStore({ directory: join(dir, 'plugins'), audit: { log, principal: 'user:alice' } });
    const seen: string[] = [];
    const admit = (identity: { readonly name: string; readonly publisher: string }): void => {
      seen.push(`${identity.name} ${identity.publisher}`);
      throw new ForgeError('FO_MARKET_PLUGIN_REVOKED', `plugin ${identity.name} is revoked`);
    };
    await rejectsWithCode(store.install(await makeSigned({ version: '1.0.0' }), { admit }), 'FO_MARKET_PLUGIN_REVOKED');
    assert.deepEqual(seen, ['hello Store Publisher'], 'asked once, with the verified identity');
    assert.deepEqual(await store.list(), [], 'nothing installed');
    await log.close();
    const records = (await readAuditTail({ path: join(dir, 'audit.log'), limit: 10 })).records.flatMap((record) => (record.type === 'event' ? [record] : []));
    assert.deepEqual(records.map((record) => [record.action, record.decision, record.reason?.split(':')[0], record.data?.['publisher']]), [['store.install', 'deny', 'FO_MARKET_PLUGIN_REVOKED', 'Store Publisher']]);
  });
});
