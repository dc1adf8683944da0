import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import { TAR_END, file, validPackage, withHeaderFields } from '../test-support/hostile.js';
import { createSandbox } from '../test-support/sandbox.js';
import { DEFAULT_ARCHIVE_LIMITS, MemorySink, readArchive } from './index.js';
import { gzipSync } from 'node:zlib';


describe('readArchive', () => {
  it('has the documented default limits', () => {
    assert.deepEqual(DEFAULT_ARCHIVE_LIMITS, {
      maxPackageSize: 64 * 1024 * 1024,
      maxUnpackedSize: 256 * 1024 * 1024,
      maxEntries: 10_000,
      maxFileSize: 128 * 1024 * 1024,
      maxCompressionRatio: 100,
    });
  });

  it('reads a package whose gzip header carries optional fields', async () => {
    const sink = new MemorySink();
    const entries = await readArchive(withHeaderFields(validPackage()), sink);
    assert.deepEqual(entries.map((entry) => entry.path), ['manifest.json', 'plugin.wasm']);
  });

  it('reads a package with no entries', async () => {
    assert.deepEqual(await readArchive(gzipSync(TAR_END), new MemorySink()), []);
  });

  it('accepts limits exactly at the package size', async () => {
    const bytes = gzipSync(Buffer.concat([file('a', Buffer.alloc(100)), TAR_END]));
    const limits = { maxPackageSize: bytes.length, maxUnpackedSize: 100, maxFileSize: 100, maxEntries: 1 };
    assert.equal((await readArchive(bytes, new MemorySink(), limits)).length, 1);
  });

  for (const [limit, value] of [
    ['maxEntries', -1],
    ['maxFileSize', 1.5],
    ['maxCompressionRatio', 0],
    ['maxCompressionRatio', Number.NaN],
  ] as const) {
    it(`refuses a malformed ${limit} of ${value} with FO_LIMIT_INVALID`, async () => {
      await assert.rejects(readArchive(validPackage(), new MemorySink(), { [limit]: value }), hasCode('FO_LIMIT_INVALID'));
    });
  }

  it('hands the sink whole entries it may keep from bytes in memory, and pieces to copy from a file', async () => {
    const big = randomBytes(200_000);
    const bytes = gzipSync(Buffer.concat([file('a', big), file('b', 'small'), TAR_END]));
    const sandbox = await createSandbox();
    try {
      const path = join(sandbox.sandbox, 'p.forgepkg');
      await writeFile(path, bytes);
      for (const [source, stable] of [[bytes, true], [path, false]] as const) {
        const writes: { size: number; stable: boolean | undefined }[] = [];
        const sink = new (class extends MemorySink {
          override write(chunk: Uint8Array, kept?: boolean): void {
            writes.push({ size: chunk.length, stable: kept });
            super.write(chunk, kept);
          }
        })();
        await readArchive(source, sink);
        assert.ok(writes.every((write) => write.stable === stable), JSON.stringify(writes));
        if (stable) assert.deepEqual(writes.map((write) => write.size), [big.length, 5]);
        else assert.ok(writes.length > 2, 'a file streams in pieces');
        assert.ok(sink.files.get('a')?.equals(big));
        // Kept views share the decompressed stream; copies do not.
        assert.equal(sink.files.get('a')?.buffer === sink.files.get('b')?.buffer, stable);
      }
    } finally {
      await sandbox.remove();
    }
  });

  it('reports a missing package file as FO_IO_NOT_FOUND', async () => {
    const sandbox = await createSandbox();
    try {
      await assert.rejects(readArchive(join(sandbox.sandbox, 'missing.forgepkg'), new MemorySink()), hasCode('FO_IO_NOT_FOUND'));
    } finally {
      await sandbox.remove();
    }
  });

  it('refuses a directory given as the package', async () => {
    const sandbox = await createSandbox();
    try {
      const dir = join(sandbox.sandbox, 'dir.forgepkg');
      await mkdir(dir);
      await assert.rejects(readArchive(dir, new MemorySink()), hasCode('FO_IO_FAILED'));
    } finally {
      await sandbox.remove();
    }
  });

  it('says what was expected and found, and names the entry safely', async () => {
    const hostile = gzipSync(Buffer.concat([file('\u001b[2J/../x'), TAR_END]));
    await assert.rejects(readArchive(hostile, new MemorySink()), (error) => {
      assert.ok(ForgeError.is(error, 'FO_PACKAGE_PATH_TRAVERSAL'));
      assert.match(error.message, /expected no `\.\.` component, found a `\.\.` component/);
      assert.ok(!error.message.includes('\u001b'), 'no raw escape character reaches a terminal');
      assert.deepEqual(error.details, { entry: '\u001b[2J/../x', offset: 0 });
      return true;
    });
  });
});
