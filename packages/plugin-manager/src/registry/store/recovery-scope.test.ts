/**
 * How much of the store a change reads before it runs: after changes that all
 * completed, only staging, trash, lock candidates and its own plugin (so an install
 * costs the same with 10 plugins installed as with 1,000); after an interrupted or
 * failed change, every plugin directory, as at open.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { StoreReader } from './reader.js';
import { makeSigned, openStore } from './test-support/fixtures.js';

/** Puts a version directory state.json does not name into `name`'s versions/, as an upgrade killed before its switch leaves. */
async function plantUnreferencedVersion(directory: string, name: string): Promise<string> {
  const path = join(directory, name, 'versions', '9.9.9');
  await mkdir(join(path, 'files'), { recursive: true });
  return path;
}

describe('PluginStore recovery before a change', () => {
  it('checks only the changed plugin after changes that completed, and every plugin once reopened', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ name: 'a' }));
    const other = await plantUnreferencedVersion(store.directory, 'a');
    await mkdir(join(store.directory, 'c', 'versions', '1.0.0'), { recursive: true });
    await mkdir(join(store.directory, '.store', 'staging', 'txn-1'), { recursive: true });
    await store.install(await makeSigned({ name: 'b' }));
    // b's install removed the staging leftover but did not read a's directory.
    assert.deepEqual(store.recovered, [join(store.directory, '.store', 'staging', 'txn-1')]);
    assert.deepEqual(await readdir(join(store.directory, 'a', 'versions')), ['1.0.0', '9.9.9']);
    // c's own directory is checked before c is installed: versions/ without state.json goes.
    assert.equal((await store.install(await makeSigned({ name: 'c' }))).action, 'installed');
    assert.deepEqual(store.recovered.slice(1), [join(store.directory, 'c', 'versions')]);
    const reopened = await openStore({ directory: store.directory });
    assert.ok(reopened.recovered.includes(other), `open checks every plugin: ${reopened.recovered.join(', ')}`);
    assert.deepEqual(await readdir(join(store.directory, 'a', 'versions')), ['1.0.0']);
  });

  it('checks every plugin in the change after one that failed', async () => {
    const store = await openStore({ maxPlugins: 2 });
    await store.install(await makeSigned({ name: 'a' }));
    await store.install(await makeSigned({ name: 'b' }));
    const leftover = await plantUnreferencedVersion(store.directory, 'a');
    await rejectsWithCode(store.install(await makeSigned({ name: 'c' })), 'FO_STORE_FULL');
    assert.deepEqual(await readdir(join(store.directory, '.store')), ['format.json', 'recover', 'staging', 'trash'], 'the failed change marked the store');
    assert.deepEqual(store.recovered, [], 'nothing removed so far');
    await store.uninstall('b');
    assert.deepEqual(store.recovered, [leftover], 'the next change checked every plugin');
    assert.deepEqual(await readdir(join(store.directory, '.store')), ['format.json', 'staging', 'trash'], 'and removed the mark');
  });

  it('checks every plugin in the change that breaks the lock of a holder that died', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ name: 'a' }));
    const leftover = await plantUnreferencedVersion(store.directory, 'a');
    // A lock file no live process wrote: its holder counts as dead (lock.ts).
    await writeFile(join(store.directory, '.store', 'lock'), 'not a holder');
    await store.install(await makeSigned({ name: 'b' }));
    assert.deepEqual(store.recovered, [leftover]);
    assert.deepEqual(await readdir(join(store.directory, '.store')), ['format.json', 'staging', 'trash']);
  });

  it('counts installed plugins for max_plugins by reading every state.json only near the limit', async (t: TestContext) => {
    const store = await openStore({ maxPlugins: 3 });
    await store.install(await makeSigned({ name: 'a' }));
    const names = t.mock.method(StoreReader.prototype, 'names');
    await store.install(await makeSigned({ name: 'b' }));
    assert.equal(names.mock.callCount(), 0, 'two directories, limit three: no state.json read to count');
    // A directory holding only data is not a plugin: three directories, two plugins.
    await mkdir(join(store.directory, 'd', 'data'), { recursive: true });
    assert.equal((await store.install(await makeSigned({ name: 'c' }))).action, 'installed');
    assert.equal(names.mock.callCount(), 1, 'at the limit the plugins are counted');
    const error = await rejectsWithCode(store.install(await makeSigned({ name: 'e' })), 'FO_STORE_FULL');
    assert.deepEqual([error.details['limit'], error.details['installed']], [3, 3]);
  });
});
