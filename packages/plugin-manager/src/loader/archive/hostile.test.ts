import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import { BOMB_BYTES, ESCAPE_NAME, HOSTILE_CASES, MANY_ENTRIES, bomb, entry, file, manyEntries, tgz } from '../test-support/hostile.js';
import { createSandbox } from '../test-support/sandbox.js';
import { DEFAULT_ARCHIVE_LIMITS, DirectorySink, MemorySink, readArchive, type EntrySink } from './index.js';

/** A MemorySink that counts what reaches it and whether it was aborted. */
class CountingSink extends MemorySink {
  begun = 0;
  bytes = 0;
  aborted = 0;
  override beginEntry(path: string): void {
    this.begun += 1;
    super.beginEntry(path);
  }
  override write(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    super.write(chunk);
  }
  override abort(): Promise<void> {
    this.aborted += 1;
    return super.abort();
  }
}

describe('readArchive refuses hostile packages', () => {
  for (const hostile of HOSTILE_CASES) {
    it(`refuses a package with ${hostile.name} as ${hostile.code}, aborting a MemorySink`, async () => {
      const sink = new CountingSink();
      await assert.rejects(readArchive(hostile.build(), sink, hostile.limits), hasCode(hostile.code));
      assert.equal(sink.aborted, 1);
      assert.equal(sink.files.size, 0);
    });

    it(`refuses a package file with ${hostile.name} as ${hostile.code}, leaving no trace of a DirectorySink`, async () => {
      const sandbox = await createSandbox();
      try {
        const packagePath = join(sandbox.sandbox, 'hostile.forgepkg');
        await writeFile(packagePath, hostile.build());
        await mkdir(sandbox.tempRoot, { mode: 0o700 });
        const before = await sandbox.snapshot();
        const sink = await DirectorySink.create(sandbox.tempRoot);
        assert.ok(existsSync(sink.dir));
        await assert.rejects(readArchive(packagePath, sink, hostile.limits), hasCode(hostile.code));
        assert.equal(existsSync(sink.dir), false, 'the unpack directory is removed');
        assert.deepEqual(await sandbox.snapshot(), before, 'nothing appeared or vanished in the sandbox or its parent');
        assert.equal(existsSync(join(dirname(sandbox.outer), ESCAPE_NAME)), false);
      } finally {
        await sandbox.remove();
      }
    });
  }
});

describe('readArchive stops hostile packages early', () => {
  it('aborts a 1:1000 gzip bomb before decompressing more than maxCompressionRatio allows', async (t) => {
    const packageBytes = bomb();
    const sink = new CountingSink();
    const started = performance.now();
    await assert.rejects(readArchive(packageBytes, sink), hasCode('FO_PACKAGE_COMPRESSION_RATIO'));
    const elapsed = performance.now() - started;
    const allowed = DEFAULT_ARCHIVE_LIMITS.maxCompressionRatio * packageBytes.length;
    t.diagnostic(`bomb: ${packageBytes.length} compressed bytes for ${BOMB_BYTES} of data; refused after ${sink.bytes} data bytes in ${elapsed.toFixed(0)} ms`);
    assert.ok(sink.bytes <= allowed, `the sink saw ${sink.bytes} bytes; the ratio allows ${allowed}`);
    assert.ok(sink.bytes < BOMB_BYTES / 5, 'far less than the bomb was decompressed');
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });

  it(`refuses entry ${DEFAULT_ARCHIVE_LIMITS.maxEntries + 1} of ${MANY_ENTRIES} as soon as it appears`, async (t) => {
    const packageBytes = manyEntries();
    const sink = new CountingSink();
    const started = performance.now();
    let refusal: ForgeError | undefined;
    await assert.rejects(readArchive(packageBytes, sink), (error) => {
      hasCode('FO_PACKAGE_TOO_MANY_ENTRIES')(error);
      refusal = error as ForgeError;
      return true;
    });
    const elapsed = performance.now() - started;
    t.diagnostic(`${MANY_ENTRIES} entries (${packageBytes.length} compressed bytes): refused at entry ${sink.begun + 1} in ${elapsed.toFixed(0)} ms`);
    assert.equal(sink.begun, DEFAULT_ARCHIVE_LIMITS.maxEntries);
    assert.equal(refusal?.details['actual'], DEFAULT_ARCHIVE_LIMITS.maxEntries + 1);
    assert.equal(refusal?.details['limit'], DEFAULT_ARCHIVE_LIMITS.maxEntries);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });

  it('refuses an oversize entry from its header, before any of its data reaches the sink', async () => {
    const sink = new CountingSink();
    const bytes = tgz(entry({ name: 'big' }, Buffer.alloc(2048, 1)));
    await assert.rejects(readArchive(bytes, sink, { maxFileSize: 1024 }), hasCode('FO_PACKAGE_ENTRY_TOO_LARGE'));
    assert.equal(sink.begun, 0);
    assert.equal(sink.bytes, 0);
  });
});

/** A sink whose beginEntry refuses one name, as the package layer does for layout rules. */
class RefusingSink extends CountingSink {
  override beginEntry(path: string): void {
    if (path === 'forbidden') throw new ForgeError('FO_PACKAGE_UNEXPECTED_ENTRY', 'not in the layout');
    super.beginEntry(path);
  }
}

describe('readArchive and sink refusals', () => {
  it('passes a ForgeError thrown by beginEntry through unchanged, after aborting the sink', async () => {
    const sink = new RefusingSink();
    await assert.rejects(readArchive(tgz(file('ok'), file('forbidden')), sink), hasCode('FO_PACKAGE_UNEXPECTED_ENTRY'));
    assert.equal(sink.aborted, 1);
    assert.equal(sink.files.size, 0);
  });

  it('reports any other error thrown by a sink as FO_INTERNAL_UNEXPECTED', async () => {
    const sink: EntrySink = {
      beginEntry: () => {
        throw new TypeError('boom');
      },
      write: () => undefined,
      endEntry: () => undefined,
      abort: () => Promise.resolve(),
    };
    await assert.rejects(readArchive(tgz(file('ok')), sink), hasCode('FO_INTERNAL_UNEXPECTED'));
  });
});
