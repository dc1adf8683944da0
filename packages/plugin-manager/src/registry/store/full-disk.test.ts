/**
 * The store on a full disk and on a read-only file system (docs/security.md, "Crash
 * consistency"), on a small tmpfs: root ignores file modes, so only a full or read-only
 * mount makes writes fail for real. A change that cannot write fails with
 * FO_IO_NO_SPACE or FO_IO_READ_ONLY, leaves the installed plugin as it was (verifying)
 * and nothing of itself behind, reading keeps working, and once space is freed or the
 * mount is writable again the same change succeeds.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { mountTmpfs, rejectsWithCode } from '@forgeone/common/testing';
import { makeSigned, openStore } from './test-support/fixtures.js';

/** Incompressible assets, so that the package and its unpacked files both take room. */
function bulky(kib: number): Record<string, Buffer> {
  return { 'bulk.bin': randomBytes(kib * 1024) };
}

describe('the store on a full disk', () => {
  it('refuses an install that does not fit with FO_IO_NO_SPACE, removes its staging at once, keeps the installed version, and installs once space is freed', async (t: TestContext) => {
    const fs = mountTmpfs(t, 1024 * 1024);
    if (fs === undefined) return;
    try {
      const directory = join(fs.dir, 'plugins');
      const store = await openStore({ directory });
      await store.install(await makeSigned({ version: '1.0.0' }));
      // Leave about 200 KiB: less than the 2 x 160 KiB an install of 2.0.0 writes.
      await writeFile(join(fs.dir, 'filler'), Buffer.alloc(1024 * 1024 - 200 * 1024 - (await used(fs.dir))));
      const upgrade = await makeSigned({ version: '2.0.0', assets: bulky(160) });
      const error = await rejectsWithCode(store.install(upgrade), 'FO_IO_NO_SPACE');
      assert.match(error.message, /no space left on the file system holding/);
      // Nothing of the failed install is left to hold the space it could not get.
      assert.deepEqual(await readdir(join(directory, '.store', 'staging')), [], 'staging is empty right after the failure');
      assert.deepEqual(await readdir(join(directory, '.store', 'trash')), [], 'trash is empty');
      assert.deepEqual(await readdir(join(directory, 'hello', 'versions')), ['1.0.0'], 'no half-installed version');
      assert.equal((await store.verify('hello')).version, '1.0.0', 'the installed version is intact');
      assert.deepEqual((await store.list()).map((plugin) => plugin.version), ['1.0.0']);
      await rm(join(fs.dir, 'filler'));
      assert.equal((await store.install(upgrade)).plugin.version, '2.0.0', 'the install goes through once space is freed');
      await store.verify('hello');
    } finally {
      fs.unmount();
    }
  });
});

describe('the store on a read-only file system', () => {
  it('refuses install and uninstall with FO_IO_READ_ONLY, changing nothing, while opening, listing and verifying work', async (t: TestContext) => {
    const fs = mountTmpfs(t, 4 * 1024 * 1024);
    if (fs === undefined) return;
    try {
      const directory = join(fs.dir, 'plugins');
      await (await openStore({ directory })).install(await makeSigned({ version: '1.0.0' }));
      fs.remount('ro');
      const store = await openStore({ directory });
      assert.equal((await store.verify('hello')).version, '1.0.0', 'a read-only store opens and verifies');
      assert.deepEqual((await store.list()).map((plugin) => plugin.name), ['hello']);
      const upgrade = await makeSigned({ version: '2.0.0' });
      const install = await rejectsWithCode(store.install(upgrade), 'FO_IO_READ_ONLY');
      assert.match(install.message, /read-only file system/);
      await rejectsWithCode(store.uninstall('hello'), 'FO_IO_READ_ONLY');
      assert.equal((await store.verify('hello')).version, '1.0.0', 'still installed and intact');
      fs.remount('rw');
      assert.equal((await store.install(upgrade)).plugin.version, '2.0.0', 'writable again, the install goes through');
      await store.uninstall('hello');
      assert.equal(await store.find('hello'), undefined);
    } finally {
      fs.unmount();
    }
  });
});

/** Bytes in use on the file system at `dir`, rounded up to pages as tmpfs counts them. */
async function used(dir: string): Promise<number> {
  const { statfs } = await import('node:fs/promises');
  const stats = await statfs(dir);
  return (stats.blocks - stats.bfree) * stats.bsize;
}
