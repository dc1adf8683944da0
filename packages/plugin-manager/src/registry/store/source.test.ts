/**
 * Reading a package file whole (source.ts): small regular files synchronously, anything
 * else asynchronously, with the same refusals either way; a FIFO never blocks the thread.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { SYNC_READ_LIMIT, readPackageSource } from './source.js';

describe('readPackageSource', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-source-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const bytesOf = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));

  it('returns bytes given as they are, and reads a small file whole, into memory of its own', async () => {
    const given = new Uint8Array([1, 2, 3]);
    assert.equal(await readPackageSource(given, 10), given);
    const expected = bytesOf(100, 7);
    await writeFile(join(dir, 'small.forgepkg'), expected);
    const read = await readPackageSource(join(dir, 'small.forgepkg'), 1024);
    assert.deepEqual(Buffer.from(read), expected);
    // Not a view of Node's shared pool: the caller may keep or hand on its buffer.
    assert.equal(read.byteOffset, 0);
    assert.equal(read.buffer.byteLength, 100);
  });

  it('reads a file above the synchronous limit whole (the asynchronous path) and reads an empty file as empty', async () => {
    const expected = bytesOf(SYNC_READ_LIMIT + 4097, 3);
    await writeFile(join(dir, 'large.forgepkg'), expected);
    assert.deepEqual(Buffer.from(await readPackageSource(join(dir, 'large.forgepkg'), SYNC_READ_LIMIT * 2)), expected);
    await writeFile(join(dir, 'empty.forgepkg'), new Uint8Array(0));
    assert.equal((await readPackageSource(join(dir, 'empty.forgepkg'), 10)).length, 0);
  });

  it('refuses a file over the size limit on either path, naming the limit and the size', async () => {
    await writeFile(join(dir, 'over.forgepkg'), bytesOf(101, 1));
    const small = await rejectsWithCode(() => readPackageSource(join(dir, 'over.forgepkg'), 100), 'FO_PACKAGE_TOO_LARGE');
    assert.deepEqual({ limit: small.details?.['limit'], actual: small.details?.['actual'] }, { limit: 100, actual: 101 });
    await writeFile(join(dir, 'over-large.forgepkg'), bytesOf(SYNC_READ_LIMIT + 2, 1));
    const large = await rejectsWithCode(() => readPackageSource(join(dir, 'over-large.forgepkg'), SYNC_READ_LIMIT + 1), 'FO_PACKAGE_TOO_LARGE');
    assert.equal(large.details?.['actual'], SYNC_READ_LIMIT + 2);
  });

  it('refuses a missing file with FO_IO_NOT_FOUND and a directory with FO_IO_FAILED', async () => {
    await rejectsWithCode(() => readPackageSource(join(dir, 'absent.forgepkg'), 100), 'FO_IO_NOT_FOUND');
    await mkdir(join(dir, 'a-directory'));
    const refused = await rejectsWithCode(() => readPackageSource(join(dir, 'a-directory'), 1024 * 1024), 'FO_IO_FAILED');
    assert.equal(refused.details?.['errno'], 'EISDIR');
  });

  it('reads a FIFO a writer opens later, and never blocks the thread while no writer has opened it', { timeout: 30_000 }, async () => {
    // No writer at all: the read waits (on the thread pool) while this thread goes on. A
    // blocking open on this thread would hang the child until its time limit kills it.
    const lonely = join(dir, 'lonely.forgepkg');
    execFileSync('mkfifo', [lonely]);
    // Once it answered, the child opens the FIFO for writing itself, so that the pool thread's
    // open returns and the process can exit.
    const script = `import { closeSync, openSync } from 'node:fs';
import { readPackageSource } from ${JSON.stringify(new URL('./source.js', import.meta.url).href)};
const reading = readPackageSource(${JSON.stringify(lonely)}, 1024);
setTimeout(async () => { console.log('responsive'); closeSync(openSync(${JSON.stringify(lonely)}, 'w')); console.log((await reading).length); }, 50);`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000, encoding: 'utf8' });
    assert.equal(output.trim(), 'responsive\n0');
    const fifo = join(dir, 'fifo.forgepkg');
    execFileSync('mkfifo', [fifo]);
    // With a writer that comes later, in this process (after the check above: a blocking
    // open would hang this file rather than fail it).
    const reading = readPackageSource(fifo, 1024);
    const writer = await open(fifo, 'w');
    await writer.write(Buffer.from('piped package'));
    await writer.close();
    assert.equal(Buffer.from(await reading).toString(), 'piped package');
  });

  it('holds the size limit on a file with no size to check first: a FIFO fed past it, a symlink to /dev/zero', { timeout: 30_000 }, async () => {
    const fifo = join(dir, 'flood.forgepkg');
    execFileSync('mkfifo', [fifo]);
    const reading = readPackageSource(fifo, 4096);
    const writer = await open(fifo, 'w');
    // The reader stops past the limit and closes its end: the rest of the flood is never read.
    const flooding = writer.write(Buffer.alloc(256 * 1024, 7)).then(({ bytesWritten }) => bytesWritten, () => 0);
    const refused = await rejectsWithCode(() => reading, 'FO_PACKAGE_TOO_LARGE');
    assert.equal(refused.details?.['limit'], 4096);
    assert.match(refused.message, /found at least 4097 bytes/);
    assert.ok((await flooding) < 256 * 1024, 'the writer could not write it all');
    await writer.close();
    const zero = join(dir, 'zero.forgepkg');
    await symlink('/dev/zero', zero);
    const endless = await rejectsWithCode(() => readPackageSource(zero, SYNC_READ_LIMIT), 'FO_PACKAGE_TOO_LARGE');
    assert.equal(endless.details?.['limit'], SYNC_READ_LIMIT);
  });
});
