import assert from 'node:assert/strict';
import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { addRevocation, addVersion } from './index-edit.js';
import { publishIndex, publishRawIndex } from './repository.js';
import { DAY, editJson, publication, testMarketplace, type TestMarketplace } from './test-support/repository.js';
import { REPOSITORY_LAYOUT } from './repository.js';
import { ROLES, generateRoleKey, roleKeyFromPem, roleKeyPem, rootSigned, signMetadata, type Role, type RoleKey } from './tuf-metadata.js';

/** The repository's role keys. */
async function repositoryKeys(m: TestMarketplace): Promise<Record<Role, RoleKey>> {
  const keys = {} as Record<Role, RoleKey>;
  for (const role of ROLES) {
    const file = join(m.repo, REPOSITORY_LAYOUT.keys, `${role}.pem`);
    keys[role] = roleKeyFromPem(await readFile(file, 'utf8'), file);
  }
  return keys;
}

const opened: TestMarketplace[] = [];
after(async () => {
  for (const market of opened) await market.close();
});

async function market(options: Parameters<typeof testMarketplace>[0] = {}): Promise<TestMarketplace> {
  const made = await testMarketplace(options);
  opened.push(made);
  return made;
}

/** Publishes hello 1.0.0 (then, with `times` > 1, re-publishes) and syncs the mirror. */
async function publishHello(m: TestMarketplace, times = 1): Promise<void> {
  await publishIndex(m.repo, (index) => addVersion(index, publication('hello', '1.0.0', { keywords: ['greeting'] })));
  for (let i = 1; i < times; i += 1) await publishIndex(m.repo, (index) => index);
  await m.sync();
}

async function indexTargetFile(m: TestMarketplace): Promise<string> {
  const names = (await readdir(join(m.mirror, 'targets'))).filter((name) => name.endsWith('.index.json'));
  const timestamp = JSON.parse(await readFile(m.metadata('timestamp.json'), 'utf8')) as { signed: { meta: Record<string, { version: number }> } };
  const snapshotVersion = timestamp.signed.meta['snapshot.json']?.version ?? 0;
  const snapshot = JSON.parse(await readFile(m.metadata(`${snapshotVersion}.snapshot.json`), 'utf8')) as { signed: { meta: Record<string, { version: number }> } };
  const targets = JSON.parse(await readFile(m.metadata(`${snapshot.signed.meta['targets.json']?.version ?? 0}.targets.json`), 'utf8')) as {
    signed: { targets: Record<string, { hashes: { sha256: string } }> };
  };
  const hash = targets.signed.targets['index.json']?.hashes.sha256 ?? '';
  assert.ok(names.includes(`${hash}.index.json`));
  return join(m.mirror, 'targets', `${hash}.index.json`);
}

describe('MarketplaceClient over a served TUF repository', () => {
  it('refreshes, verifies and reads the index a publish signed, with its revocations', async () => {
    const m = await market();
    await publishIndex(m.repo, (index) => addRevocation(addVersion(index, publication('hello', '1.0.0')), { plugin: 'hello', version: '1.0.0', reason: 'key leaked', date: '2026-02-01T00:00:00Z' }));
    await m.sync();
    const client = m.client();
    const verified = await client.refresh();
    assert.deepEqual(verified.index.plugins.map((entry) => [entry.name, entry.publisher, entry.versions.map((item) => item.version)]), [['hello', 'ACME Plugins', ['1.0.0']]]);
    assert.deepEqual(await client.revocations(), [{ plugin: 'hello', version: '1.0.0', reason: 'key leaked', date: '2026-02-01T00:00:00Z' }]);
  });

  it('refuses a tampered index.json: same length, other bytes, and longer than signed (FO_MARKET_TARGET_MISMATCH), keeping the last verified index', async () => {
    const m = await market();
    await publishHello(m);
    const client = m.client();
    const before = await client.refresh();
    await publishIndex(m.repo, (index) => addVersion(index, publication('evil', '6.6.6')));
    await m.sync();
    const file = await indexTargetFile(m);
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('evil', 'live'));
    const error = await rejectsWithCode(client.refresh(), 'FO_MARKET_TARGET_MISMATCH');
    assert.match(error.message, /Expected hash/);
    await writeFile(file, `${original} `);
    await rejectsWithCode(client.refresh(), 'FO_MARKET_TARGET_MISMATCH');
    // The cache still holds the index that verified; the tampered one never landed.
    const cached = await readFile(join(m.dir, 'cache', 'targets', 'index.json'), 'utf8');
    assert.equal(cached.includes('"live"') || cached.includes('"evil"'), false);
    assert.deepEqual(before.index.plugins.map((entry) => entry.name), ['hello']);
  });

  it('refuses a rolled-back timestamp after seeing a newer one (FO_MARKET_ROLLBACK)', async () => {
    const m = await market();
    await publishHello(m);
    const old = await readFile(m.metadata('timestamp.json'));
    await publishIndex(m.repo, (index) => addRevocation(index, { plugin: 'hello', reason: 'malware', date: '2026-03-01T00:00:00Z' }));
    await m.sync();
    const client = m.client();
    assert.equal((await client.refresh()).index.revocations.length, 1);
    // The attacker serves the publish before the revocation, validly signed.
    await writeFile(m.metadata('timestamp.json'), old);
    const error = await rejectsWithCode(client.refresh(), 'FO_MARKET_ROLLBACK');
    assert.match(error.message, /timestamp version 2 is less than current version 3/);
    // A client without that memory accepts it: the protection is the cache of what was seen.
    assert.equal((await m.client({ cache: 'fresh' }).refresh()).index.revocations.length, 0);
  });

  it('refuses an index whose targets metadata expired (FO_MARKET_EXPIRED)', async () => {
    const m = await market({ now: Date.now() - 2 * DAY, expiry: { targets: DAY } });
    const error = await rejectsWithCode(m.client().refresh(), 'FO_MARKET_EXPIRED');
    assert.equal(error.details['role'], 'targets');
    assert.match(error.message, /targets\.json is expired/);
  });

  it('refuses a validly signed timestamp past its expiry: a freeze (FO_MARKET_FROZEN)', async () => {
    const m = await market({ now: Date.now() - 8 * DAY });
    const error = await rejectsWithCode(m.client().refresh(), 'FO_MARKET_FROZEN');
    assert.match(error.message, /timestamp\.json is expired/);
  });

  it('refuses a snapshot or targets file of another publish (FO_MARKET_MIX_AND_MATCH)', async () => {
    const m = await market();
    await publishHello(m, 2);
    // Versions: the init published 1, publishHello 2 and 3.
    await copyFile(m.metadata('2.snapshot.json'), m.metadata('3.snapshot.json'));
    const snapshot = await rejectsWithCode(m.client().refresh(), 'FO_MARKET_MIX_AND_MATCH');
    assert.equal(snapshot.details['role'], 'snapshot');
    await m.sync();
    await copyFile(m.metadata('2.targets.json'), m.metadata('3.targets.json'));
    const targets = await rejectsWithCode(m.client({ cache: 'other' }).refresh(), 'FO_MARKET_MIX_AND_MATCH');
    assert.equal(targets.details['role'], 'targets');
  });

  it('refuses metadata signed by a key the root does not name, and metadata changed after signing (FO_MARKET_BAD_SIGNATURE)', async () => {
    const m = await market();
    await publishHello(m);
    const forged = JSON.parse(await readFile(m.metadata('timestamp.json'), 'utf8')) as { signed: Record<string, unknown> };
    await writeFile(m.metadata('timestamp.json'), signMetadata('timestamp', { ...forged.signed, version: 99 }, [generateRoleKey()]));
    const error = await rejectsWithCode(m.client().refresh(), 'FO_MARKET_BAD_SIGNATURE');
    assert.match(error.message, /timestamp was signed by 0\/1 keys/);
    await m.sync();
    await editJson(m.metadata('timestamp.json'), (value) => ({ ...value, signed: { ...value.signed, version: 99 } }));
    await rejectsWithCode(m.client({ cache: 'other' }).refresh(), 'FO_MARKET_BAD_SIGNATURE');
  });

  it('refuses a repository other than the pinned one (FO_MARKET_BAD_SIGNATURE)', async () => {
    const pinned = await market();
    const other = await market();
    const client = other.client({ trustedRoot: pinned.rootFile });
    await rejectsWithCode(client.refresh(), 'FO_MARKET_BAD_SIGNATURE');
  });

  it('refuses an oversized timestamp before parsing it (FO_MARKET_METADATA_TOO_LARGE) and an index over max_index_size (FO_MARKET_INDEX_TOO_LARGE)', async () => {
    const m = await market();
    await publishHello(m);
    const timestamp = await readFile(m.metadata('timestamp.json'), 'utf8');
    await writeFile(m.metadata('timestamp.json'), `${timestamp}${' '.repeat(20_000)}`);
    await rejectsWithCode(m.client().refresh(), 'FO_MARKET_METADATA_TOO_LARGE');
    await m.sync();
    const error = await rejectsWithCode(m.client({ cache: 'small', maxIndexSize: 64 }).refresh(), 'FO_MARKET_INDEX_TOO_LARGE');
    assert.equal(error.details['limit'], 64);
  });

  it('refuses a correctly signed index that breaks the format, listing every problem (FO_MARKET_INDEX_INVALID)', async () => {
    const m = await market();
    const hostile = {
      schema: 'forgeone.marketplace.index/v1',
      plugins: [
        { name: '../etc', publisher: 'x', keywords: ['\u001b[31m'], versions: [] },
        { name: 'ok', publisher: 'ACME', keywords: [], versions: [{ version: '1', digest: 'sha256:00', oci: 'not a ref', permissions: { syscalls: ['env.exec'] }, published: 'now' }] },
      ],
      revocations: [{ reason: 'nobody named' }],
      extra: true,
    };
    await publishRawIndex(m.repo, Buffer.from(JSON.stringify(hostile)));
    await m.sync();
    const error = await rejectsWithCode(m.client().refresh(), 'FO_MARKET_INDEX_INVALID');
    const paths = (error.details['issues'] as { path: string }[]).map((issue) => issue.path).sort();
    for (const path of ['extra', 'plugins[0].name', 'plugins[0].keywords[0]', 'plugins[1].versions[0].version', 'plugins[1].versions[0].digest', 'plugins[1].versions[0].oci', 'plugins[1].versions[0].permissions.syscalls[0]', 'plugins[1].versions[0].published', 'revocations[0].date']) {
      assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
    }
    await publishRawIndex(m.repo, Buffer.from('{"schema": '));
    await m.sync();
    await rejectsWithCode(m.client({ cache: 'other' }).refresh(), 'FO_MARKET_INDEX_INVALID');
  });

  it('says the marketplace is unreachable when nothing answers (FO_MARKET_UNREACHABLE)', async () => {
    const m = await market();
    await m.served.close();
    await rejectsWithCode(m.client().refresh(), 'FO_MARKET_UNREACHABLE');
  });

  it('uses the cached index within max age, verified again offline, and asks the marketplace after it', async () => {
    const m = await market();
    await publishHello(m);
    const client = m.client();
    await client.refresh();
    await publishIndex(m.repo, (index) => addVersion(index, publication('newer', '1.0.0')));
    await m.sync();
    assert.deepEqual((await client.load({ maxAge: DAY })).index.plugins.map((entry) => entry.name), ['hello']);
    assert.deepEqual((await client.load({ maxAge: 0 })).index.plugins.map((entry) => entry.name).sort(), ['hello', 'newer']);
  });

  it('follows a root rotation the pinned root signed, and refuses one it did not (FO_MARKET_BAD_SIGNATURE)', async () => {
    const m = await market();
    await publishHello(m);
    const client = m.client();
    await client.refresh();
    const keys = await repositoryKeys(m);
    // The attacker's root 2 names their own keys and is signed by them only.
    const attacker = { root: generateRoleKey(), targets: generateRoleKey(), snapshot: generateRoleKey(), timestamp: generateRoleKey() };
    await writeFile(m.metadata('2.root.json'), signMetadata('root', rootSigned({ version: 2, expires: Date.now() + DAY, keys: attacker }), [attacker.root]));
    const error = await rejectsWithCode(client.refresh(), 'FO_MARKET_BAD_SIGNATURE');
    assert.match(error.message, /root was signed by 0\/1 keys/);
    // The operator's root 2 replaces the timestamp key, signed by the old root key.
    const timestamp = generateRoleKey();
    const rotated = { ...keys, timestamp };
    await writeFile(join(m.repo, REPOSITORY_LAYOUT.metadata, '2.root.json'), signMetadata('root', rootSigned({ version: 2, expires: Date.now() + DAY, keys: rotated }), [keys.root]));
    await writeFile(join(m.repo, REPOSITORY_LAYOUT.keys, 'timestamp.pem'), roleKeyPem(timestamp));
    await publishIndex(m.repo, (index) => addVersion(index, publication('after-rotation', '1.0.0')));
    await m.sync();
    assert.deepEqual((await client.refresh()).index.plugins.map((entry) => entry.name).sort(), ['after-rotation', 'hello']);
    // The old timestamp key no longer counts.
    const old = JSON.parse(await readFile(m.metadata('timestamp.json'), 'utf8')) as { signed: Record<string, unknown> };
    await writeFile(m.metadata('timestamp.json'), signMetadata('timestamp', { ...old.signed, version: 50 }, [keys.timestamp]));
    await rejectsWithCode(client.refresh(), 'FO_MARKET_BAD_SIGNATURE');
  });

  it('refuses a pinned root that does not verify (FO_MARKET_TRUSTED_ROOT_INVALID)', async () => {
    const m = await market();
    const forged = join(m.dir, 'forged-root.json');
    await copyFile(m.rootFile, forged);
    await editJson(forged, (value) => ({ ...value, signed: { ...value.signed, expires: '2099-01-01T00:00:00Z' } }));
    await rejectsWithCode(m.client({ trustedRoot: forged }).refresh(), 'FO_MARKET_TRUSTED_ROOT_INVALID');
  });

  it('starts its cache afresh when the pinned root changes, rather than keep trusting the root it cached', async () => {
    const m = await market();
    const other = await market();
    await m.client({ cache: 'shared' }).refresh();
    // Pinned to another marketplace's root, the same cache no longer trusts m's root.
    await rejectsWithCode(m.client({ cache: 'shared', trustedRoot: other.rootFile }).refresh(), 'FO_MARKET_BAD_SIGNATURE');
    assert.equal((await m.client({ cache: 'shared' }).refresh()).index.schema, 'forgeone.marketplace.index/v1');
  });
});
