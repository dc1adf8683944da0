// WASI fd_fdstat_* and fd_filestat_*: what a descriptor says about itself and its file, and what may change it.
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERRNO, FDFLAGS, FILETYPE, FSTFLAGS } from './abi.js';
import { DIRECTORY_RIGHTS } from './rights.js';
import { Guest, runGuest } from './test-support/guest.js';
import { RIGHTS, open, preopened, rights } from './test-support/setup.js';

const WRITE = rights(RIGHTS.FD_WRITE);

describe('WASI fd_fdstat', () => {
  it('fd_fdstat_get describes a preopen as a directory with directory rights only', async () => {
    const { options } = await preopened();
    const g = new Guest();
    const out = g.buf(24);
    g.must(g.call('fd_fdstat_get', 3, out)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.memory.readUInt8(out), FILETYPE.DIRECTORY);
    assert.equal(run.memory.readUInt16LE(out + 2), 0);
    assert.equal(run.u64(out + 8), BigInt(DIRECTORY_RIGHTS));
    assert.equal(run.u64(out + 8) & WRITE, 0n);
    assert.notEqual(run.u64(out + 16) & WRITE, 0n);
  });

  it('fd_fdstat_get gives a file the rights asked for that apply to files', async () => {
    const { options } = await preopened({ 'a.txt': '' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_READ, RIGHTS.FD_SEEK, RIGHTS.FD_READDIR, RIGHTS.PATH_OPEN) });
    const out = g.buf(24);
    g.must(g.call('fd_fdstat_get', g.load(fd), out)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.memory.readUInt8(out), FILETYPE.REGULAR_FILE);
    assert.equal(run.u64(out + 8), rights(RIGHTS.FD_READ, RIGHTS.FD_SEEK));
  });

  it('fd_fdstat_get reports in-memory stdio as unknown (not a tty) and a terminal as a character device', async () => {
    const g = new Guest();
    const out = g.buf(48);
    g.must(g.call('fd_fdstat_get', 0, out)).must(g.call('fd_fdstat_get', 1, out + 24)).exit(0);
    const run = await runGuest(g, { stdout: { write: () => undefined, filetype: 'character_device' } });
    assert.equal(run.memory.readUInt8(out), FILETYPE.UNKNOWN);
    assert.equal(run.u64(out + 8) & rights(RIGHTS.FD_SEEK, RIGHTS.FD_TELL), 0n);
    assert.equal(run.memory.readUInt8(out + 24), FILETYPE.CHARACTER_DEVICE);
  });

  it('fd_fdstat_set_flags turns on APPEND so writes land at the end', async () => {
    const { s, options } = await preopened({ 'a.txt': 'abc' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_WRITE, RIGHTS.FD_FDSTAT_SET_FLAGS) });
    g.must(g.call('fd_fdstat_set_flags', g.load(fd), FDFLAGS.APPEND));
    g.must(g.call('fd_write', g.load(fd), g.iovec(g.bytes(Buffer.from('Z')), 1), 1, g.buf(4))).exit(0);
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(readFileSync(join(s.root, 'a.txt'), 'utf8'), 'abcZ');
  });

  it('fd_fdstat_set_flags cannot change SYNC after opening (ENOTSUP) and needs its right (ENOTCAPABLE)', async () => {
    const { options } = await preopened({ 'a.txt': '' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_FDSTAT_SET_FLAGS) });
    const bare = open(g, 'a.txt');
    g.must(`(i32.sub ${g.call('fd_fdstat_set_flags', g.load(fd), FDFLAGS.SYNC)} (i32.const ${ERRNO.ENOTSUP}))`);
    g.exit(g.call('fd_fdstat_set_flags', g.load(bare), FDFLAGS.APPEND));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });

  it('fd_fdstat_set_rights drops rights for good: reading fails after, and adding them back fails', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_READ, RIGHTS.FD_SEEK) });
    g.must(g.call('fd_fdstat_set_rights', g.load(fd), rights(RIGHTS.FD_SEEK), 0n));
    g.must(`(i32.sub ${g.call('fd_read', g.load(fd), g.iovec(g.buf(4), 1), 1, g.buf(4))} (i32.const ${ERRNO.ENOTCAPABLE}))`);
    g.exit(g.call('fd_fdstat_set_rights', g.load(fd), rights(RIGHTS.FD_SEEK, RIGHTS.FD_READ), 0n));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTCAPABLE);
  });
});

describe('WASI fd_filestat', () => {
  it('fd_filestat_get reports the file\'s type, size, inode and nanosecond times', async () => {
    const { s, options } = await preopened({ 'a.txt': 'hello' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_FILESTAT_GET) });
    const out = g.buf(64);
    g.must(g.call('fd_filestat_get', g.load(fd), out)).exit(0);
    const run = await runGuest(g, options);
    const host = lstatSync(join(s.root, 'a.txt'), { bigint: true });
    assert.equal(run.u64(out + 8), host.ino);
    assert.equal(run.memory.readUInt8(out + 16), FILETYPE.REGULAR_FILE);
    assert.equal(run.u64(out + 32), 5n);
    assert.equal(run.u64(out + 48), host.mtimeNs);
  });

  it('fd_filestat_get on stdio reports no host identity', async () => {
    const g = new Guest();
    const out = g.buf(64);
    g.must(g.call('fd_filestat_get', 1, out)).exit(0);
    const run = await runGuest(g);
    assert.deepEqual([run.u64(out), run.u64(out + 8), run.u64(out + 48)], [0n, 0n, 0n]);
  });

  it('fd_filestat_set_size truncates and extends the file', async () => {
    const { s, options } = await preopened({ 'a.txt': 'hello world' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_FILESTAT_SET_SIZE) });
    g.must(g.call('fd_filestat_set_size', g.load(fd), 5n)).exit(0);
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(readFileSync(join(s.root, 'a.txt'), 'utf8'), 'hello');
  });

  it('fd_filestat_set_times sets an exact nanosecond mtime that reads back unchanged, leaving atime alone', async () => {
    const { s, options } = await preopened({ 'a.txt': 'x' });
    const before = statSync(join(s.root, 'a.txt'), { bigint: true });
    const wanted = 1_700_000_000_123_456_789n;
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_FILESTAT_SET_TIMES, RIGHTS.FD_FILESTAT_GET) });
    const out = g.buf(64);
    g.must(g.call('fd_filestat_set_times', g.load(fd), 0n, wanted, FSTFLAGS.MTIM)).must(g.call('fd_filestat_get', g.load(fd), out)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.u64(out + 48), wanted);
    assert.equal(run.u64(out + 40), before.atimeNs);
    const after = statSync(join(s.root, 'a.txt'), { bigint: true });
    assert.ok(after.mtimeNs - wanted < 1000n && wanted - after.mtimeNs < 1000n, 'the host holds the time to within a microsecond');
  });

  it('fd_filestat_set_times refuses a time and NOW for the same field with EINVAL', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_FILESTAT_SET_TIMES) });
    g.exit(g.call('fd_filestat_set_times', g.load(fd), 5n, 0n, FSTFLAGS.ATIM | FSTFLAGS.ATIM_NOW));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EINVAL);
  });
});

