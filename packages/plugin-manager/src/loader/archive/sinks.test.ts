import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { createSandbox } from '../test-support/sandbox.js';
import { DirectorySink, MemorySink, readArchive, writeArchive, type ArchiveFile } from './index.js';

const FILES: readonly ArchiveFile[] = [
  { path: 'manifest.json', data: Buffer.from('{"name":"demo","version":"1.0.0"}') },
  { path: 'plugin.wasm', data: randomBytes(300_000) },
  { path: 'assets/a/b/c.bin', data: randomBytes(513) },
  { path: 'assets/a/d.txt', data: Buffer.alloc(0) },
  { path: 'assets/e', data: randomBytes(512) },
];

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('MemorySink and DirectorySink', () => {
  it('receive the same entries, with the digests computed independently', async () => {
    const sandbox = await createSandbox();
    try {
      const archive = writeArchive(FILES);
      const memory = new MemorySink();
      const fromMemory = await readArchive(archive, memory);
      const directory = await DirectorySink.create(sandbox.tempRoot);
      const packagePath = join(sandbox.sandbox, 'demo.forgepkg');
      await writeFile(packagePath, archive);
      const fromDirectory = await readArchive(packagePath, directory);
      assert.deepEqual(fromDirectory, fromMemory);
      for (const file of FILES) {
        const entry = fromMemory.find((candidate) => candidate.path === file.path);
        assert.deepEqual(entry, { path: file.path, size: file.data.length, sha256: sha256(file.data) });
        assert.deepEqual(memory.files.get(file.path), Buffer.from(file.data));
        const onDisk = join(directory.dir, file.path);
        assert.deepEqual(await readFile(onDisk), Buffer.from(file.data));
        assert.equal((await stat(onDisk)).mode & 0o777, 0o644);
      }
      await directory.dispose();
      assert.equal(existsSync(directory.dir), false);
    } finally {
      await sandbox.remove();
    }
  });
});

describe('DirectorySink', () => {
  it('creates its temp root with mode 0700 and a fresh directory in it', async () => {
    const sandbox = await createSandbox();
    try {
      const first = await DirectorySink.create(sandbox.tempRoot);
      const second = await DirectorySink.create(sandbox.tempRoot);
      assert.notEqual(first.dir, second.dir);
      assert.equal((await stat(sandbox.tempRoot)).mode & 0o777, 0o700);
      assert.equal((await stat(first.dir)).mode & 0o777, 0o700);
    } finally {
      await sandbox.remove();
    }
  });

  it('refuses to write through a symlink planted where an entry goes', async () => {
    const sandbox = await createSandbox();
    try {
      const sink = await DirectorySink.create(sandbox.tempRoot);
      const target = join(sandbox.outer, 'target');
      await symlink(target, join(sink.dir, 'plugin.wasm'));
      await assert.rejects(sink.beginEntry('plugin.wasm'), (error) => ForgeError.is(error, 'FO_IO_EXISTS'));
      assert.equal(existsSync(target), false);
    } finally {
      await sandbox.remove();
    }
  });

  it('refuses to enter a directory it did not create, even a symlink to one', async () => {
    const sandbox = await createSandbox();
    try {
      const sink = await DirectorySink.create(sandbox.tempRoot);
      const elsewhere = join(sandbox.outer, 'elsewhere');
      await mkdir(elsewhere);
      await symlink(elsewhere, join(sink.dir, 'assets'));
      await assert.rejects(sink.beginEntry('assets/x'), (error) => ForgeError.is(error, 'FO_IO_EXISTS'));
      assert.equal(existsSync(join(elsewhere, 'x')), false);
    } finally {
      await sandbox.remove();
    }
  });

  it('refuses a name the reader would refuse, whoever calls it', async () => {
    const sandbox = await createSandbox();
    try {
      const sink = await DirectorySink.create(sandbox.tempRoot);
      await assert.rejects(sink.beginEntry('../escape'), (error) => ForgeError.is(error, 'FO_INTERNAL_UNEXPECTED'));
      assert.equal(existsSync(join(sandbox.tempRoot, 'escape')), false);
    } finally {
      await sandbox.remove();
    }
  });

  it('removes everything, open file included, when aborted mid-entry', async () => {
    const sandbox = await createSandbox();
    try {
      const sink = await DirectorySink.create(sandbox.tempRoot);
      await sink.beginEntry('a/b/c');
      await sink.write(Buffer.from('partial'));
      await sink.abort();
      await sink.abort();
      assert.equal(existsSync(sink.dir), false);
      assert.deepEqual(await sandbox.snapshot(), ['d sandbox', 'd sandbox/tmp']);
    } finally {
      await sandbox.remove();
    }
  });
});
