/**
 * What the store remembers between listings: a plugin whose state.json did not change is
 * not read again (one lstat), and any change of state.json (an upgrade, an uninstall, a
 * hand edit) makes the next read go to the files, so a listing never shows a stale or
 * unchecked plugin after its state changed.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { StoreReader } from './reader.js';
import { makeSigned, openStore } from './test-support/fixtures.js';

describe('PluginStore listing twice', () => {
  it('reads each unchanged plugin once, and again after its state.json changes', async (t) => {
    const store = await openStore();
    await store.install(await makeSigned({ name: 'a' }));
    await store.install(await makeSigned({ name: 'b' }));
    const records = mock.method(StoreReader.prototype, 'record');
    t.after(() => records.mock.restore());

    const first = await store.list();
    const readFirst = records.mock.callCount();
    assert.deepEqual(first.map((plugin) => `${plugin.name} ${plugin.version}`), ['a 1.0.0', 'b 1.0.0']);
    const second = await store.list();
    assert.deepEqual(second, first);
    assert.equal(records.mock.callCount(), readFirst, 'nothing is read again while state.json stays the same');

    const before = records.mock.callCount();
    await store.install(await makeSigned({ name: 'a', version: '1.1.0' }));
    const third = await store.list();
    assert.deepEqual(third.map((plugin) => `${plugin.name} ${plugin.version}`), ['a 1.1.0', 'b 1.0.0'], 'the upgrade shows at once');
    assert.ok(records.mock.callCount() > before, 'the upgraded plugin is read again (by the install or the listing)');

    await store.uninstall('b');
    assert.deepEqual((await store.list()).map((plugin) => plugin.name), ['a']);
  });

  it('checks a state.json edited in place again: a corrupt one is reported, not the remembered plugin', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ name: 'a' }));
    await store.list();
    await writeFile(join(store.directory, 'a', 'state.json'), '{"not": "a state"}\n');
    await rejectsWithCode(store.list(), 'FO_STORE_CORRUPT');
  });
});

/**
 * Found by the h14 attack review: a cache keyed on state.json alone kept answering with a
 * plugin whose manifest was edited, or whose version directory was removed, after a
 * listing. Every file a read checks is part of the key now.
 */
describe('listing after an installed version changed under the store', () => {
  it('reports a manifest changed after a listing as FO_STORE_CORRUPT, as the first listing would', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ name: 'a' }));
    const installed = await store.get('a');
    await store.list();
    await writeFile(join(installed.current.paths.files, 'manifest.json'), '{"tampered": true}\n');
    await rejectsWithCode(store.list(), 'FO_STORE_CORRUPT');
  });

  it('reports a current version directory removed after a listing as FO_STORE_CORRUPT', async () => {
    const store = await openStore();
    await store.install(await makeSigned({ name: 'a' }));
    const installed = await store.get('a');
    await store.list();
    await rm(installed.current.paths.dir, { recursive: true, force: true });
    await rejectsWithCode(store.list(), 'FO_STORE_CORRUPT');
  });
});
