import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Metadata, MetadataKind } from '@tufjs/models';
import { rejectsWithCode } from '@forgeone/common/testing';
import { addVersion } from './index-edit.js';
import { initRepository, publishIndex, REPOSITORY_LAYOUT } from './repository.js';
import { publication } from './test-support/repository.js';

describe('marketplace repository', () => {
  it('creates four Ed25519 role keys (0600 in a 0700 directory) and a self-signed root tuf-js verifies', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-repo-')), 'repo');
    const init = await initRepository(dir);
    assert.equal((await stat(join(dir, REPOSITORY_LAYOUT.keys))).mode & 0o777, 0o700);
    for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
      assert.equal((await stat(join(dir, REPOSITORY_LAYOUT.keys, `${role}.pem`))).mode & 0o777, 0o600, role);
    }
    const root = Metadata.fromJSON(MetadataKind.Root, JSON.parse(await readFile(init.rootFile, 'utf8')) as Parameters<typeof Metadata.fromJSON>[1]);
    root.verifyDelegate('root', root);
    assert.equal(root.signed.consistentSnapshot, true);
    assert.deepEqual(Object.keys(root.signed.keys).sort(), Object.values(init.keyids).sort());
    await rejectsWithCode(initRepository(dir), 'FO_MARKET_REPOSITORY_EXISTS');
  });

  it('bumps targets, snapshot and timestamp at each publish and writes consistent-snapshot files', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-repo-')), 'repo');
    await initRepository(dir);
    const result = await publishIndex(dir, (index) => addVersion(index, publication('hello', '1.0.0')));
    assert.deepEqual(result.versions, { targets: 2, snapshot: 2, timestamp: 2 });
    await stat(join(dir, REPOSITORY_LAYOUT.metadata, '2.targets.json'));
    await stat(join(dir, REPOSITORY_LAYOUT.metadata, '2.snapshot.json'));
    await stat(join(dir, REPOSITORY_LAYOUT.targets, `${result.indexSha256}.index.json`));
    assert.deepEqual((await publishIndex(dir, (index) => index)).versions, { targets: 3, snapshot: 3, timestamp: 3 });
  });

  it('publishes without the root key, refuses a repository that is not one, and one whose key is not Ed25519', async () => {
    const base = await mkdtemp(join(tmpdir(), 'forge-repo-'));
    const dir = join(base, 'repo');
    await initRepository(dir);
    await writeFile(join(dir, REPOSITORY_LAYOUT.keys, 'root.pem'), '');
    await publishIndex(dir, (index) => index);
    await rejectsWithCode(publishIndex(join(base, 'nothing'), (index) => index), 'FO_MARKET_REPOSITORY_INVALID');
    await writeFile(join(dir, REPOSITORY_LAYOUT.keys, 'targets.pem'), 'not a key');
    await rejectsWithCode(publishIndex(dir, (index) => index), 'FO_MARKET_REPOSITORY_INVALID');
  });
});
