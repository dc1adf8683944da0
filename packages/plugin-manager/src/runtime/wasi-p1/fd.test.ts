import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERRNO, FILETYPE, WHENCE } from './abi.js';
import { bytesInput } from './stdio.js';
import { Guest, runGuest } from './test-support/guest.js';
import { RIGHTS, open, preopened, rights } from './test-support/setup.js';

const READ = rights(RIGHTS.FD_READ);
const WRITE = rights(RIGHTS.FD_WRITE);

describe('WASI fd_read and fd_write', () => {
  it('fd_read reads a file sequentially from its offset', async () => {
    const { options } = await preopened({ 'a.txt': 'hello world' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: READ });
    const buf = g.buf(16);
    const n = g.buf(4);
    g.must(g.call('fd_read', g.load(fd), g.iovec(buf, 5), 1, n));
    g.must(g.call('fd_read', g.load(fd), g.iovec(buf + 8, 8), 1, n)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.exitCode, 0);
    assert.equal(run.memory.subarray(buf, buf + 5).toString(), 'hello');
    assert.equal(run.u32(n), 6);
    assert.equal(run.memory.subarray(buf + 8, buf + 14).toString(), ' world');
  });

  it('fd_read fills several iovecs in order', async () => {
    const { options } = await preopened({ 'a.txt': 'abcdef' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: READ });
    const one = g.buf(2);
    const two = g.buf(8);
    const list = Buffer.alloc(16);
    list.writeUInt32LE(one, 0);
    list.writeUInt32LE(2, 4);
    list.writeUInt32LE(two, 8);
    list.writeUInt32LE(8, 12);
    const n = g.buf(4);
    g.must(g.call('fd_read', g.load(fd), g.bytes(list), 2, n)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.u32(n), 6);
    assert.equal(`${run.memory.subarray(one, one + 2).toString()}${run.memory.subarray(two, two + 4).toString()}`, 'abcdef');
  });

  it('fd_read reads stdin from the supplied bytes, then reports the end with 0', async () => {
    const g = new Guest();
    const buf = g.buf(8);
    const n = g.buf(8);
    g.must(g.call('fd_read', 0, g.iovec(buf, 8), 1, n)).must(g.call('fd_read', 0, g.iovec(buf, 8), 1, n + 4)).exit(0);
    const run = await runGuest(g, { stdin: bytesInput('abc') });
    assert.deepEqual([run.u32(n), run.u32(n + 4)], [3, 0]);
    assert.equal(run.memory.subarray(buf, buf + 3).toString(), 'abc');
  });

  it('fd_read fails with EFAULT when an iovec points outside memory, reading nothing', async () => {
    const { options } = await preopened({ 'a.txt': 'abc' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: READ });
    const n = g.buf(4);
    g.must(`(i32.sub ${g.call('fd_read', g.load(fd), g.iovec(65_530, 100), 1, n)} (i32.const ${ERRNO.EFAULT}))`);
    g.must(g.call('fd_read', g.load(fd), g.iovec(g.buf(4), 3), 1, n)).exit(g.load(n));
    assert.equal((await runGuest(g, options)).exitCode, 3);
  });

  it('fd_read refuses more than 1024 iovecs with EINVAL, reading nothing', async () => {
    const { options } = await preopened({ 'a.txt': 'abc' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: READ });
    const list = g.buf(1025 * 8);
    const n = g.buf(4);
    g.must(`(i32.sub ${g.call('fd_read', g.load(fd), list, 1025, n)} (i32.const ${ERRNO.EINVAL}))`);
    g.must(g.call('fd_read', g.load(fd), g.iovec(g.buf(4), 3), 1, n)).exit(g.load(n));
    assert.equal((await runGuest(g, options)).exitCode, 3);
  });

  it('fd_read without the read right fails with ENOTCAPABLE', async () => {
    const { options } = await preopened({ 'a.txt': 'abc' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: WRITE });
    g.exit(g.call('fd_read', g.load(fd), g.iovec(g.buf(4), 4), 1, g.buf(4)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });

  it('fd_write sends stdout and stderr to their sinks', async () => {
    const g = new Guest();
    const [out, err] = [Buffer.from('to out\n'), Buffer.from('to err\n')];
    g.must(g.call('fd_write', 1, g.iovec(g.bytes(out), out.length), 1, g.buf(4)));
    g.must(g.call('fd_write', 2, g.iovec(g.bytes(err), err.length), 1, g.buf(4))).exit(0);
    const run = await runGuest(g);
    assert.deepEqual([run.stdout, run.stderr], ['to out\n', 'to err\n']);
  });

  it('fd_write writes a file at its offset and reports the count', async () => {
    const { s, options } = await preopened({ 'a.txt': '0123456789' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: WRITE });
    const n = g.buf(4);
    const text = Buffer.from('ab');
    g.must(g.call('fd_write', g.load(fd), g.iovec(g.bytes(text), 2), 1, n)).must(g.call('fd_write', g.load(fd), g.iovec(g.bytes(text), 2), 1, n)).exit(g.load(n));
    assert.equal((await runGuest(g, options)).exitCode, 2);
    assert.equal(readFileSync(join(s.root, 'a.txt'), 'utf8'), 'abab456789');
  });

  it('fd_write on a directory fails with ENOTCAPABLE', async () => {
    const { options } = await preopened();
    const g = new Guest();
    g.exit(g.call('fd_write', 3, g.iovec(g.buf(4), 4), 1, g.buf(4)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });
});

describe('WASI fd_pread, fd_pwrite, fd_seek and fd_tell', () => {
  it('fd_pread reads at an offset without moving the descriptor', async () => {
    const { options } = await preopened({ 'a.txt': 'hello world' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_READ, RIGHTS.FD_SEEK, RIGHTS.FD_TELL) });
    const buf = g.buf(8);
    const tell = g.buf(8);
    g.must(g.call('fd_pread', g.load(fd), g.iovec(buf, 5), 1, 6n, g.buf(4))).must(g.call('fd_tell', g.load(fd), tell)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.memory.subarray(buf, buf + 5).toString(), 'world');
    assert.equal(run.u64(tell), 0n);
  });

  it('fd_pwrite writes at an offset without moving the descriptor', async () => {
    const { s, options } = await preopened({ 'a.txt': '0123456789' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_WRITE, RIGHTS.FD_SEEK, RIGHTS.FD_TELL) });
    const tell = g.buf(8);
    g.must(g.call('fd_pwrite', g.load(fd), g.iovec(g.bytes(Buffer.from('XY')), 2), 1, 4n, g.buf(4))).must(g.call('fd_tell', g.load(fd), tell)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.u64(tell), 0n);
    assert.equal(readFileSync(join(s.root, 'a.txt'), 'utf8'), '0123XY6789');
  });

  it('fd_pread needs the seek right as well as read', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: READ });
    g.exit(g.call('fd_pread', g.load(fd), g.iovec(g.buf(4), 1), 1, 0n, g.buf(4)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });

  it('fd_seek moves from the start, the current offset and the end', async () => {
    const { options } = await preopened({ 'a.txt': '0123456789' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_READ, RIGHTS.FD_SEEK) });
    const out = g.buf(24);
    g.must(g.call('fd_seek', g.load(fd), 3n, WHENCE.SET, out));
    g.must(g.call('fd_seek', g.load(fd), 2n, WHENCE.CUR, out + 8));
    g.must(g.call('fd_seek', g.load(fd), -1n, WHENCE.END, out + 16)).exit(0);
    const run = await runGuest(g, options);
    assert.deepEqual([run.u64(out), run.u64(out + 8), run.u64(out + 16)], [3n, 5n, 9n]);
  });

  it('fd_seek before the start fails with EINVAL, an unknown whence too', async () => {
    const { options } = await preopened({ 'a.txt': 'abc' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_SEEK) });
    g.must(`(i32.sub ${g.call('fd_seek', g.load(fd), 5n, 3, g.buf(8))} (i32.const ${ERRNO.EINVAL}))`);
    g.exit(g.call('fd_seek', g.load(fd), -1n, WHENCE.SET, g.buf(8)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EINVAL);
  });

  it('fd_seek and fd_tell on a directory fail with ENOTCAPABLE', async () => {
    const { options } = await preopened();
    const g = new Guest();
    g.must(`(i32.sub ${g.call('fd_tell', 3, g.buf(8))} (i32.const ${ERRNO.ENOTCAPABLE}))`).exit(g.call('fd_seek', 3, 0n, WHENCE.SET, g.buf(8)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });

  it('fd_tell reports the offset after a write, with only the tell right', async () => {
    const { options } = await preopened({ 'a.txt': '' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_WRITE, RIGHTS.FD_TELL) });
    const tell = g.buf(8);
    g.must(g.call('fd_write', g.load(fd), g.iovec(g.bytes(Buffer.from('12345')), 5), 1, g.buf(4)));
    g.must(g.call('fd_tell', g.load(fd), tell)).must(g.call('fd_seek', g.load(fd), 0n, WHENCE.CUR, tell + 8)).exit(0);
    const run = await runGuest(g, options);
    assert.deepEqual([run.u64(tell), run.u64(tell + 8)], [5n, 5n]);
  });
});

describe('WASI fd_advise, fd_allocate, fd_sync, fd_datasync, fd_close, fd_renumber', () => {
  it('fd_advise accepts valid advice and refuses unknown advice with EINVAL', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_ADVISE) });
    g.must(g.call('fd_advise', g.load(fd), 0n, 10n, 2)).exit(g.call('fd_advise', g.load(fd), 0n, 10n, 6));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EINVAL);
  });

  it('fd_allocate extends a file to cover the range and never shrinks it', async () => {
    const { s, options } = await preopened({ 'a.txt': 'abc' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_ALLOCATE, RIGHTS.FD_WRITE) });
    g.must(g.call('fd_allocate', g.load(fd), 10n, 10n)).must(g.call('fd_allocate', g.load(fd), 0n, 1n)).exit(0);
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(statSync(join(s.root, 'a.txt')).size, 20);
  });

  it('fd_allocate on a directory fails with ENOTCAPABLE', async () => {
    const { options } = await preopened();
    const g = new Guest();
    g.exit(g.call('fd_allocate', 3, 0n, 1n));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });

  it('fd_sync and fd_datasync flush a file opened with their rights, and need them', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_SYNC, RIGHTS.FD_DATASYNC) });
    const bare = open(g, 'a.txt');
    g.must(g.call('fd_sync', g.load(fd))).must(g.call('fd_datasync', g.load(fd)));
    g.must(`(i32.sub ${g.call('fd_sync', g.load(bare))} (i32.const ${ERRNO.ENOTCAPABLE}))`).exit(g.call('fd_datasync', g.load(bare)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });

  it('fd_close closes once; closing again is EBADF', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt');
    g.must(g.call('fd_close', g.load(fd))).exit(g.call('fd_close', g.load(fd)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EBADF);
  });

  it('fd_close may close a preopen, which then has no prestat', async () => {
    const { options } = await preopened();
    const g = new Guest();
    g.must(g.call('fd_close', 3)).exit(g.call('fd_prestat_get', 3, g.buf(8)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EBADF);
  });

  it('fd_renumber moves a descriptor over an open one and closes the source number', async () => {
    const { options } = await preopened({ 'a.txt': 'A', 'b.txt': 'B' });
    const g = new Guest();
    const a = open(g, 'a.txt', { base: READ });
    const b = open(g, 'b.txt', { base: READ });
    const buf = g.buf(4);
    g.must(g.call('fd_renumber', g.load(a), g.load(b)));
    g.must(g.call('fd_read', g.load(b), g.iovec(buf, 1), 1, g.buf(4)));
    g.must(`(i32.sub ${g.call('fd_close', g.load(a))} (i32.const ${ERRNO.EBADF}))`).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.exitCode, 0);
    assert.equal(run.memory.subarray(buf, buf + 1).toString(), 'A');
  });

  it('fd_renumber onto a closed number is EBADF', async () => {
    const { options } = await preopened({ 'a.txt': 'A' });
    const g = new Guest();
    const a = open(g, 'a.txt');
    g.exit(g.call('fd_renumber', g.load(a), 50));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EBADF);
  });
});

describe('WASI preopens and fd_readdir', () => {
  it('fd_prestat_get and fd_prestat_dir_name describe a preopen by its guest name', async () => {
    const { s } = await preopened();
    const g = new Guest();
    const prestat = g.buf(8);
    const name = g.buf(16);
    g.must(g.call('fd_prestat_get', 3, prestat)).must(g.call('fd_prestat_dir_name', 3, name, 5)).exit(0);
    const run = await runGuest(g, { preopens: [{ host: s.root, guest: '/data' }] });
    assert.deepEqual([run.memory.readUInt8(prestat), run.u32(prestat + 4)], [0, 5]);
    assert.equal(run.memory.subarray(name, name + 5).toString(), '/data');
  });

  it('fd_prestat_dir_name with a short buffer fails with ENAMETOOLONG; stdio has no prestat', async () => {
    const { s } = await preopened();
    const g = new Guest();
    g.must(`(i32.sub ${g.call('fd_prestat_get', 1, g.buf(8))} (i32.const ${ERRNO.EBADF}))`).exit(g.call('fd_prestat_dir_name', 3, g.buf(8), 2));
    assert.equal((await runGuest(g, { preopens: [{ host: s.root, guest: '/data' }] })).exitCode, ERRNO.ENAMETOOLONG);
  });

  it('fd_readdir lists ., .. and every entry with its inode and type', async () => {
    const { s, options } = await preopened({ 'file.txt': 'x', 'sub/inner': 'y' });
    const g = new Guest();
    const buf = g.buf(512);
    const used = g.buf(4);
    g.must(g.call('fd_readdir', 3, buf, 512, 0n, used)).exit(0);
    const run = await runGuest(g, options);
    const entries: { name: string; ino: bigint; type: number; next: bigint }[] = [];
    for (let at = buf; at < buf + run.u32(used); ) {
      const length = run.u32(at + 16);
      entries.push({ next: run.u64(at), ino: run.u64(at + 8), type: run.memory.readUInt8(at + 20), name: run.memory.subarray(at + 24, at + 24 + length).toString() });
      at += 24 + length;
    }
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    assert.deepEqual([...byName.keys()].sort(), ['.', '..', 'file.txt', 'sub']);
    assert.equal(byName.get('.')?.ino, statSync(s.root, { bigint: true }).ino);
    assert.equal(byName.get('file.txt')?.ino, statSync(join(s.root, 'file.txt'), { bigint: true }).ino);
    assert.equal(byName.get('file.txt')?.type, FILETYPE.REGULAR_FILE);
    assert.equal(byName.get('sub')?.type, FILETYPE.DIRECTORY);
    assert.deepEqual(entries.map((entry) => entry.next), [1n, 2n, 3n, 4n]);
  });

  it('fd_readdir fills a short buffer completely, cutting the last entry, and continues from a cookie', async () => {
    const { options } = await preopened({ 'only-entry': 'x' });
    const g = new Guest();
    const buf = g.buf(64);
    const used = g.buf(8);
    g.must(g.call('fd_readdir', 3, buf, 30, 0n, used)).must(g.call('fd_readdir', 3, buf + 32, 32, 2n, used + 4)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.u32(used), 30);
    assert.equal(run.u32(used + 4), 32, 'the 34-byte entry is cut to the 32-byte buffer');
    assert.equal(run.u64(buf + 32), 3n);
  });

  it('fd_readdir on a file fails with ENOTCAPABLE (no readdir right applies to files)', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_READDIR, RIGHTS.FD_READ) });
    g.exit(g.call('fd_readdir', g.load(fd), g.buf(64), 64, 0n, g.buf(4)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });

  it('gives every opened file its own descriptor with a separate offset', async () => {
    const { options } = await preopened({ 'a.txt': 'abcdef' });
    const g = new Guest();
    const one = open(g, 'a.txt', { base: READ });
    const two = open(g, 'a.txt', { base: READ });
    const buf = g.buf(8);
    g.must(g.call('fd_read', g.load(one), g.iovec(buf, 3), 1, g.buf(4)));
    g.must(g.call('fd_read', g.load(two), g.iovec(buf + 4, 3), 1, g.buf(4))).exit(0);
    const run = await runGuest(g, options);
    assert.deepEqual([run.memory.subarray(buf, buf + 3).toString(), run.memory.subarray(buf + 4, buf + 7).toString()], ['abc', 'abc']);
  });
});
