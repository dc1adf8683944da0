import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERRNO, FDFLAGS, FILETYPE, FSTFLAGS, LOOKUPFLAGS } from './abi.js';
import { Guest, runGuest } from './test-support/guest.js';
import { OFLAGS, RIGHTS, open, openCall, preopened, rights } from './test-support/setup.js';

const FOLLOW = LOOKUPFLAGS.SYMLINK_FOLLOW;

describe('WASI path_open', () => {
  it('creates a file with CREAT and writes it', async () => {
    const { s, options } = await preopened();
    const g = new Guest();
    const fd = open(g, 'new.txt', { oflags: OFLAGS.CREAT, base: rights(RIGHTS.FD_WRITE) });
    g.must(g.call('fd_write', g.load(fd), g.iovec(g.bytes(Buffer.from('hi')), 2), 1, g.buf(4))).exit(0);
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(readFileSync(join(s.root, 'new.txt'), 'utf8'), 'hi');
  });

  it('refuses CREAT|EXCL on an existing file with EEXIST', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    g.exit(openCall(g, 'a.txt', { oflags: OFLAGS.CREAT | OFLAGS.EXCL }));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EEXIST);
  });

  it('truncates with TRUNC', async () => {
    const { s, options } = await preopened({ 'a.txt': 'content' });
    const g = new Guest();
    open(g, 'a.txt', { oflags: OFLAGS.TRUNC, base: rights(RIGHTS.FD_WRITE) });
    g.exit(0);
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(readFileSync(join(s.root, 'a.txt'), 'utf8'), '');
  });

  it('fails with ENOENT for a missing file and ENOTDIR for DIRECTORY on a file', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    g.must(`(i32.sub ${openCall(g, 'missing')} (i32.const ${ERRNO.ENOENT}))`).exit(openCall(g, 'a.txt', { oflags: OFLAGS.DIRECTORY }));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTDIR);
  });

  it('opens a directory, drops rights that do not apply to it, and refuses writing it with EISDIR', async () => {
    const { options } = await preopened({ 'sub/x': 'x' });
    const g = new Guest();
    const fd = open(g, 'sub', { base: rights(RIGHTS.FD_SEEK, RIGHTS.FD_READDIR, RIGHTS.PATH_OPEN) });
    const stat = g.buf(24);
    g.must(g.call('fd_fdstat_get', g.load(fd), stat));
    g.exit(openCall(g, 'sub', { base: rights(RIGHTS.FD_WRITE) }));
    const run = await runGuest(g, options);
    assert.equal(run.exitCode, ERRNO.EISDIR);
    assert.equal(run.memory.readUInt8(stat), FILETYPE.DIRECTORY);
    assert.equal(run.u64(stat + 8), rights(RIGHTS.FD_READDIR, RIGHTS.PATH_OPEN));
  });

  it('opens through a subdirectory descriptor relative to it', async () => {
    const { options } = await preopened({ 'sub/inner.txt': 'inner' });
    const g = new Guest();
    const sub = open(g, 'sub', { base: rights(RIGHTS.PATH_OPEN), inheriting: rights(RIGHTS.FD_READ) });
    const file = open(g, 'inner.txt', { dir: g.load(sub), base: rights(RIGHTS.FD_READ) });
    const buf = g.buf(8);
    g.must(g.call('fd_read', g.load(file), g.iovec(buf, 5), 1, g.buf(4))).exit(0);
    assert.equal((await runGuest(g, options)).memory.subarray(buf, buf + 5).toString(), 'inner');
  });

  it('records APPEND and SYNC from path_open in fd_fdstat_get', async () => {
    const { options } = await preopened({ 'a.txt': '' });
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: rights(RIGHTS.FD_WRITE), fdflags: FDFLAGS.APPEND | FDFLAGS.SYNC });
    const stat = g.buf(24);
    g.must(g.call('fd_fdstat_get', g.load(fd), stat)).exit(0);
    assert.equal((await runGuest(g, options)).memory.readUInt16LE(stat + 2), FDFLAGS.APPEND | FDFLAGS.SYNC);
  });

  it('refuses a descriptor that is not a directory with ENOTDIR', async () => {
    const { options } = await preopened({ 'a.txt': '' });
    const g = new Guest();
    const fd = open(g, 'a.txt');
    g.exit(openCall(g, 'x', { dir: g.load(fd) }));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTDIR);
  });
});

describe('WASI path operations', () => {
  it('path_create_directory makes a directory, and EEXIST when it exists', async () => {
    const { s, options } = await preopened();
    const g = new Guest();
    g.must(g.call('path_create_directory', 3, g.str('made'))).exit(g.call('path_create_directory', 3, g.str('made/')));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EEXIST);
    assert.ok(statSync(join(s.root, 'made')).isDirectory());
  });

  it('path_filestat_get stats a symlink itself, or its target when following', async () => {
    const { s, options } = await preopened({ 'target.txt': 'hello' });
    symlinkSync('target.txt', join(s.root, 'link'));
    const g = new Guest();
    const out = g.buf(128);
    g.must(g.call('path_filestat_get', 3, 0, g.str('link'), out)).must(g.call('path_filestat_get', 3, FOLLOW, g.str('link'), out + 64)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.memory.readUInt8(out + 16), FILETYPE.SYMBOLIC_LINK);
    assert.equal(run.u64(out + 8), lstatSync(join(s.root, 'link'), { bigint: true }).ino);
    assert.equal(run.memory.readUInt8(out + 64 + 16), FILETYPE.REGULAR_FILE);
    assert.equal(run.u64(out + 64 + 32), 5n);
  });

  it('path_filestat_set_times sets a symlink\'s own times without following, exactly', async () => {
    const { s, options } = await preopened({ 'target.txt': 'x' });
    symlinkSync('target.txt', join(s.root, 'link'));
    const targetBefore = statSync(join(s.root, 'target.txt'), { bigint: true }).mtimeNs;
    const wanted = 1_600_000_000_987_654_321n;
    const g = new Guest();
    const out = g.buf(64);
    g.must(g.call('path_filestat_set_times', 3, 0, g.str('link'), 0n, wanted, FSTFLAGS.MTIM)).must(g.call('path_filestat_get', 3, 0, g.str('link'), out)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.u64(out + 48), wanted);
    assert.equal(statSync(join(s.root, 'target.txt'), { bigint: true }).mtimeNs, targetBefore);
  });

  it('path_filestat_set_times with MTIM_NOW moves mtime to about now', async () => {
    const { s, options } = await preopened({ 'a.txt': 'x' });
    const old = new Date('2001-01-01');
    utimesSync(join(s.root, 'a.txt'), old, old);
    const g = new Guest();
    g.exit(g.call('path_filestat_set_times', 3, 0, g.str('a.txt'), 0n, 0n, FSTFLAGS.MTIM_NOW));
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.ok(statSync(join(s.root, 'a.txt')).mtimeMs > Date.parse('2020-01-01'));
  });

  it('path_link hard-links a file in the same preopen', async () => {
    const { s, options } = await preopened({ 'a.txt': 'linked' });
    const g = new Guest();
    g.exit(g.call('path_link', 3, 0, g.str('a.txt'), 3, g.str('b.txt')));
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(statSync(join(s.root, 'b.txt')).ino, statSync(join(s.root, 'a.txt')).ino);
  });

  it('path_link refuses directories with EPERM and existing targets with EEXIST', async () => {
    const { options } = await preopened({ 'a.txt': 'x', 'b.txt': 'y', 'dir/f': 'z' });
    const g = new Guest();
    g.must(`(i32.sub ${g.call('path_link', 3, 0, g.str('dir'), 3, g.str('dir2'))} (i32.const ${ERRNO.EPERM}))`);
    g.exit(g.call('path_link', 3, 0, g.str('a.txt'), 3, g.str('b.txt')));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EEXIST);
  });

  it('path_readlink returns the contents, cut to a short buffer', async () => {
    const { s, options } = await preopened();
    symlinkSync('target-name', join(s.root, 'link'));
    const g = new Guest();
    const buf = g.buf(32);
    const used = g.buf(8);
    g.must(g.call('path_readlink', 3, g.str('link'), buf, 32, used)).must(g.call('path_readlink', 3, g.str('link'), buf + 16, 4, used + 4)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.memory.subarray(buf, buf + run.u32(used)).toString(), 'target-name');
    assert.equal(run.memory.subarray(buf + 16, buf + 16 + run.u32(used + 4)).toString(), 'targ');
  });

  it('path_readlink on a file fails with EINVAL', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    g.exit(g.call('path_readlink', 3, g.str('a.txt'), g.buf(8), 8, g.buf(4)));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EINVAL);
  });

  it('path_remove_directory removes an empty directory and refuses a full one with ENOTEMPTY', async () => {
    const { s, options } = await preopened({ 'full/f': 'x' });
    mkdirSync(join(s.root, 'empty'));
    const g = new Guest();
    g.must(g.call('path_remove_directory', 3, g.str('empty'))).exit(g.call('path_remove_directory', 3, g.str('full')));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTEMPTY);
    assert.equal(existsSync(join(s.root, 'empty')), false);
  });

  it('path_remove_directory on a file is ENOTDIR', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    g.exit(g.call('path_remove_directory', 3, g.str('a.txt')));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTDIR);
  });

  it('path_rename moves a file, replacing the target', async () => {
    const { s, options } = await preopened({ 'a.txt': 'A', 'b.txt': 'B' });
    const g = new Guest();
    g.exit(g.call('path_rename', 3, g.str('a.txt'), 3, g.str('b.txt')));
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(readFileSync(join(s.root, 'b.txt'), 'utf8'), 'A');
    assert.equal(existsSync(join(s.root, 'a.txt')), false);
  });

  it('path_rename of a directory onto a non-empty one is ENOTEMPTY', async () => {
    const { options } = await preopened({ 'a/x': '1', 'b/y': '2' });
    const g = new Guest();
    g.exit(g.call('path_rename', 3, g.str('a'), 3, g.str('b')));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ENOTEMPTY);
  });

  it('path_symlink creates a relative link the guest can follow', async () => {
    const { s, options } = await preopened({ 'dir/target.txt': 'via link' });
    const g = new Guest();
    g.must(g.call('path_symlink', g.str('dir/target.txt'), 3, g.str('link')));
    const fd = open(g, 'link', { lookup: FOLLOW, base: rights(RIGHTS.FD_READ) });
    const buf = g.buf(8);
    g.must(g.call('fd_read', g.load(fd), g.iovec(buf, 8), 1, g.buf(4))).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.memory.subarray(buf, buf + 8).toString(), 'via link');
    assert.equal(readlinkSync(join(s.root, 'link')), 'dir/target.txt');
  });

  it('path_symlink onto an existing name is EEXIST', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    g.exit(g.call('path_symlink', g.str('x'), 3, g.str('a.txt')));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EEXIST);
  });

  it('path_unlink_file removes a file and refuses a directory with EISDIR', async () => {
    const { s, options } = await preopened({ 'a.txt': 'x', 'dir/f': 'y' });
    const g = new Guest();
    g.must(g.call('path_unlink_file', 3, g.str('a.txt'))).exit(g.call('path_unlink_file', 3, g.str('dir')));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.EISDIR);
    assert.equal(existsSync(join(s.root, 'a.txt')), false);
  });

  it('path_unlink_file removes a symlink, not its target', async () => {
    const { s, options } = await preopened({ 'a.txt': 'x' });
    symlinkSync('a.txt', join(s.root, 'link'));
    const g = new Guest();
    g.exit(g.call('path_unlink_file', 3, g.str('link')));
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.equal(existsSync(join(s.root, 'link')), false);
    assert.equal(readFileSync(join(s.root, 'a.txt'), 'utf8'), 'x');
  });

  it('a trailing slash on a file is ENOTDIR for every path call', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    for (const call of [g.call('path_unlink_file', 3, g.str('a.txt/')), g.call('path_remove_directory', 3, g.str('a.txt/')), openCall(g, 'a.txt/')]) {
      g.must(`(i32.sub ${call} (i32.const ${ERRNO.ENOTDIR}))`);
    }
    g.exit(0);
    assert.equal((await runGuest(g, options)).exitCode, 0);
  });
});
