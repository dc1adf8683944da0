/**
 * The store and plugin data kept per publisher (data.ts): the key, installing over data
 * a plugin left, recovery, the move of data from the old layout, publisher changes.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rejectsWithCode, throwsCode } from '@forgeone/common/testing';
import { dataDirectory, prepareDataDirectory, publisherKey } from './data.js';
import { PluginStore } from './store.js';
import { makeSigned, openStore, otherPublisher } from './test-support/fixtures.js';

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('PluginStore and plugin data kept per publisher', () => {
  const key = publisherKey({ publisher: 'Store Publisher', attested: true });
  const otherKey = publisherKey({ publisher: 'Other Publisher', attested: true });

  it('keys data by publisher: attested or not, and the publisher, each change the key', () => {
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.notEqual(key, otherKey);
    assert.notEqual(publisherKey({ publisher: 'unsigned', attested: false }), publisherKey({ publisher: 'unsigned', attested: true }));
    assert.equal(dataDirectory('/srv/plugins', { name: 'hello', publisher: 'Store Publisher', attested: true }), join('/srv/plugins', 'hello', 'data', key));
    throwsCode(() => dataDirectory('/srv/plugins', { name: '../etc', publisher: 'x', attested: true }), 'FO_STORE_INVALID_NAME');
  });

  it('prepares a data directory once: again it is found as it is, and a publisher file missing (a crash after mkdir) is written', async () => {
    const store = await openStore();
    const owner = { name: 'hello', publisher: 'Store Publisher', attested: true };
    const data = await prepareDataDirectory(store.directory, owner);
    await writeFile(join(data, 'kv.sqlite'), 'kept');
    assert.equal(await prepareDataDirectory(store.directory, owner), data);
    assert.deepEqual(await entries(data), ['kv.sqlite', 'publisher.json']);
    await rm(join(data, 'publisher.json'));
    assert.equal(await prepareDataDirectory(store.directory, owner), data);
    assert.deepEqual(JSON.parse(await readFile(join(data, 'publisher.json'), 'utf8')), { publisher: 'Store Publisher', attested: true });
    assert.equal(await readFile(join(data, 'kv.sqlite'), 'utf8'), 'kept');
  });

  it('installs over a directory holding only data a plugin left before its install, keeping that data', async () => {
    const store = await openStore();
    const data = await prepareDataDirectory(store.directory, { name: 'hello', publisher: 'Store Publisher', attested: true });
    await writeFile(join(data, 'kv.sqlite'), 'left before install');
    assert.deepEqual(await store.list(), [], 'data alone is not an installed plugin');
    const { action, plugin } = await store.install(await makeSigned());
    assert.equal(action, 'installed');
    assert.deepEqual(await entries(plugin.paths.root), ['data', 'state.json', 'versions']);
    assert.equal(await readFile(join(plugin.paths.data, key, 'kv.sqlite'), 'utf8'), 'left before install');
    assert.deepEqual(JSON.parse(await readFile(join(plugin.paths.data, key, 'publisher.json'), 'utf8')), { publisher: 'Store Publisher', attested: true });
    await store.verify('hello');
  });

  it('refuses to install over a data/ it cannot attribute to a publisher (a database of the old layout), and leaves it alone', async () => {
    const store = await openStore();
    await mkdir(join(store.directory, 'hello', 'data'), { recursive: true });
    await writeFile(join(store.directory, 'hello', 'data', 'kv.sqlite'), 'whose?');
    await rejectsWithCode(store.install(await makeSigned()), 'FO_STORE_CORRUPT');
    assert.equal(await readFile(join(store.directory, 'hello', 'data', 'kv.sqlite'), 'utf8'), 'whose?');
    assert.deepEqual(await store.list(), []);
  });

  it('removes the versions of an install over left data that was killed before state.json, keeping the data', async () => {
    const store = await openStore();
    const data = await prepareDataDirectory(store.directory, { name: 'hello', publisher: 'Store Publisher', attested: true });
    await mkdir(join(store.directory, 'hello', 'versions', '1.0.0', 'files'), { recursive: true });
    const reopened = await PluginStore.open({ directory: store.directory });
    assert.deepEqual(reopened.recovered, [join(store.directory, 'hello', 'versions')]);
    assert.deepEqual(await entries(join(store.directory, 'hello')), ['data']);
    assert.deepEqual(await entries(data), ['publisher.json']);
  });

  it('moves a database of the old layout into the installed publisher\'s directory when opened, finishing a move that was cut short', async () => {
    const store = await openStore();
    await store.install(await makeSigned());
    const data = join(store.directory, 'hello', 'data');
    await writeFile(join(data, 'kv.sqlite'), 'db');
    await writeFile(join(data, 'kv.sqlite-wal'), 'wal');
    const reopened = await openStore({ directory: store.directory });
    assert.deepEqual(reopened.migrated, [join(data, key)]);
    assert.deepEqual(await entries(data), [key]);
    assert.deepEqual(await entries(join(data, key)), ['kv.sqlite', 'kv.sqlite-wal', 'publisher.json']);
    // Killed half-way: one file moved into the staging directory, one not yet.
    await rm(join(data, key), { recursive: true });
    await mkdir(join(data, `${key}.migrating`));
    await writeFile(join(data, `${key}.migrating`, 'kv.sqlite'), 'db');
    await writeFile(join(data, 'kv.sqlite-wal'), 'wal');
    await openStore({ directory: store.directory });
    assert.deepEqual(await entries(data), [key]);
    assert.equal(await readFile(join(data, key, 'kv.sqlite-wal'), 'utf8'), 'wal');
    // Nothing to move: nothing moved, nothing touched.
    assert.deepEqual((await openStore({ directory: store.directory })).migrated, []);
  });

  it('keeps data apart when a publisher change is allowed, and uninstall removes every publisher\'s data', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ version: '1.0.0' }));
    const first = await prepareDataDirectory(store.directory, { name: 'hello', publisher: 'Store Publisher', attested: true });
    await writeFile(join(first, 'kv.sqlite'), 'first');
    await store.install(await makeSigned({ version: '1.1.0', signer: otherPublisher }), { allowPublisherChange: true });
    const second = await prepareDataDirectory(store.directory, { name: 'hello', publisher: 'Other Publisher', attested: true });
    assert.notEqual(second, first);
    assert.deepEqual(await entries(second), ['publisher.json'], 'the new publisher starts empty');
    assert.equal(await readFile(join(first, 'kv.sqlite'), 'utf8'), 'first', 'the old publisher\'s data is kept for a rollback');
    await store.uninstall('hello');
    assert.deepEqual(await entries(store.directory), ['.store']);
  });
});
