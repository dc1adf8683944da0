import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERRNO, FSTFLAGS, LOOKUPFLAGS } from './abi.js';
import { WRITE_RIGHTS } from './rights.js';
import { Guest, runGuest, type Scratch } from './test-support/guest.js';
import { OFLAGS, RIGHTS, open, openCall, preopened, rights } from './test-support/setup.js';

const FOLLOW = LOOKUPFLAGS.SYMLINK_FOLLOW;
const READ = rights(RIGHTS.FD_READ);

/**
 * Runs a hostile guest against a scratch tree holding `files` (root) and
 * `outside/secret`, after `arrange` adds links; asserts the exact errno, that nothing
 * anywhere under the scratch base changed, and that the secret never reached guest
 * memory.
 */
async function refused(
  expected: number,
  build: (g: Guest) => string,
  arrange: (s: Scratch) => void = () => undefined,
  files: Record<string, string> = { 'a.txt': 'inside' },
  readOnly = false,
): Promise<void> {
  const { s, options } = await preopened(files, readOnly);
  arrange(s);
  const before = await s.snapshot();
  const g = new Guest();
  g.exit(build(g));
  const run = await runGuest(g, options);
  assert.equal(run.exitCode, expected, `expected errno ${expected}, got ${run.exitCode}`);
  assert.deepEqual(await s.snapshot(), before, 'nothing may change on the host');
  assert.ok(!run.memory.includes('top secret'), 'the secret must not reach the guest');
  assert.equal(readFileSync(join(s.outside, 'secret'), 'utf8'), 'top secret');
}

describe('WASI paths never leave a preopen', () => {
  it('refuses .. above the preopen with ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => openCall(g, '../outside/secret', { base: READ })));

  it('refuses .. that climbs out after going down, with ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => openCall(g, 'sub/../../outside/secret', { base: READ }), undefined, { 'sub/f': 'x' }));

  it('treats every directory descriptor as its own root: .. above a subdirectory fd is ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => openCall(g, '../a.txt', { dir: g.load(open(g, 'sub', { base: rights(RIGHTS.PATH_OPEN), inheriting: READ })), base: READ }), undefined, {
      'a.txt': 'x',
      'sub/f': 'y',
    }));

  it('refuses absolute paths with ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => openCall(g, '/etc/passwd', { base: READ })));

  it('refuses a symlink to an absolute path with ENOTCAPABLE when followed', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => openCall(g, 'abs', { base: READ, lookup: FOLLOW }), (s) => symlinkSync(join(s.outside, 'secret'), join(s.root, 'abs'))));

  it('refuses to open a symlink as the final component without FOLLOW, with ELOOP', () =>
    refused(ERRNO.ELOOP, (g) => openCall(g, 'abs', { base: READ }), (s) => symlinkSync(join(s.outside, 'secret'), join(s.root, 'abs'))));

  it('refuses a relative symlink climbing out with ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => openCall(g, 'up', { base: READ, lookup: FOLLOW }), (s) => symlinkSync('../outside/secret', join(s.root, 'up'))));

  it('refuses a symlink in an intermediate component that leads out, even without FOLLOW', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => openCall(g, 'door/secret', { base: READ }), (s) => symlinkSync('../outside', join(s.root, 'door'))));

  it('refuses a nested symlink whose target climbs two levels, with ENOTCAPABLE', () =>
    refused(
      ERRNO.ENOTCAPABLE,
      (g) => openCall(g, 'sub/door/secret', { base: READ }),
      (s) => {
        mkdirSync(join(s.root, 'sub'));
        symlinkSync('../../outside', join(s.root, 'sub', 'door'));
      },
    ));

  it('refuses a chain of symlinks whose last hop leaves, with ENOTCAPABLE', () =>
    refused(
      ERRNO.ENOTCAPABLE,
      (g) => openCall(g, 'one', { base: READ, lookup: FOLLOW }),
      (s) => {
        symlinkSync('two', join(s.root, 'one'));
        symlinkSync('../outside/secret', join(s.root, 'two'));
      },
    ));

  it('stops a symlink loop with ELOOP', () => refused(ERRNO.ELOOP, (g) => openCall(g, 'loop', { base: READ, lookup: FOLLOW }), (s) => symlinkSync('loop', join(s.root, 'loop'))));

  it('stops a two-link cycle in an intermediate component with ELOOP', () =>
    refused(
      ERRNO.ELOOP,
      (g) => openCall(g, 'a/x', { base: READ }),
      (s) => {
        symlinkSync('b', join(s.root, 'a'));
        symlinkSync('a', join(s.root, 'b'));
      },
    ));

  it('follows a chain of 32 symlinks but not 33', async () => {
    const { s, options } = await preopened({ target: 'end' });
    symlinkSync('target', join(s.root, 'l0'));
    for (let index = 1; index <= 32; index += 1) symlinkSync(`l${index - 1}`, join(s.root, `l${index}`));
    const g = new Guest();
    g.must(g.call('fd_close', g.load(open(g, 'l31', { base: READ, lookup: FOLLOW }))));
    g.exit(openCall(g, 'l32', { base: READ, lookup: FOLLOW }));
    assert.equal((await runGuest(g, options)).exitCode, ERRNO.ELOOP);
  });

  it('refuses a path with an embedded NUL with EINVAL', () => refused(ERRNO.EINVAL, (g) => openCall(g, 'a.txt\0../../outside/secret', { base: READ })));

  it('refuses a path with a trailing NUL with EINVAL', () => refused(ERRNO.EINVAL, (g) => openCall(g, 'a.txt\0', { base: READ })));

  it('refuses a path that is not UTF-8 with EILSEQ', () =>
    refused(ERRNO.EILSEQ, (g) => g.call('path_open', 3, 0, g.str(Buffer.from([0x61, 0xff, 0x62])), 0, READ, 0n, 0, g.buf(4))));

  it('refuses a path over 4096 bytes with ENAMETOOLONG', () => refused(ERRNO.ENAMETOOLONG, (g) => openCall(g, 'a/'.repeat(2100), { base: READ })));

  it('refuses a path whose bytes lie outside guest memory with EFAULT', () => refused(ERRNO.EFAULT, (g) => g.call('path_open', 3, 0, 65_530, 100, 0, READ, 0n, 0, g.buf(4))));
});

describe('WASI path calls other than path_open stay inside too', () => {
  const arrangeDoor = (s: Scratch): void => symlinkSync('../outside', join(s.root, 'door'));

  it('path_filestat_get through a link out is ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_filestat_get', 3, FOLLOW, g.str('door/secret'), g.buf(64)), arrangeDoor));

  it('path_filestat_set_times through a link out is ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_filestat_set_times', 3, 0, g.str('door/secret'), 0n, 0n, FSTFLAGS.MTIM_NOW), arrangeDoor));

  it('path_readlink through a link out is ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_readlink', 3, g.str('door/x'), g.buf(16), 16, g.buf(4)), (s) => {
      arrangeDoor(s);
      symlinkSync('anything', join(s.outside, 'x'));
    }));

  it('path_unlink_file through a link out is ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_unlink_file', 3, g.str('door/secret')), arrangeDoor));

  it('path_remove_directory above the root is ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_remove_directory', 3, g.str('../outside'))));

  it('path_create_directory through a link out is ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_create_directory', 3, g.str('door/new')), arrangeDoor));

  it('path_rename of an outside file in is ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_rename', 3, g.str('../outside/secret'), 3, g.str('stolen'))));

  it('path_rename of an inside file out is ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_rename', 3, g.str('a.txt'), 3, g.str('door/planted')), arrangeDoor));

  it('path_link with an outside source is ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_link', 3, 0, g.str('../outside/secret'), 3, g.str('stolen'))));

  it('path_link following a symlink that leads out is ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_link', 3, FOLLOW, g.str('abs'), 3, g.str('stolen')), (s) => symlinkSync(join(s.outside, 'secret'), join(s.root, 'abs'))));

  it('path_link with the new name outside is ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_link', 3, 0, g.str('a.txt'), 3, g.str('door/planted')), arrangeDoor));

  it('path_symlink with absolute contents is ENOTCAPABLE', () => refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_symlink', g.str('/etc/passwd'), 3, g.str('link'))));

  it('path_symlink with contents climbing above the directory is ENOTCAPABLE', () =>
    refused(ERRNO.ENOTCAPABLE, (g) => g.call('path_symlink', g.str('sub/../../outside/secret'), 3, g.str('link'))));

  it('path_symlink with contents that stay inside is allowed', async () => {
    const { s, options } = await preopened({ 'sub/f': 'x' });
    const g = new Guest();
    g.exit(g.call('path_symlink', g.str('../a.txt'), 3, g.str('sub/link')));
    assert.equal((await runGuest(g, options)).exitCode, 0);
    assert.ok(existsSync(join(s.root, 'sub')));
  });

  it('serves a hard link the host placed in a preopen like the file it is (docs/wasi.md), and only for reading when read-only', async () => {
    const { s, options } = await preopened({}, true);
    linkSync(join(s.outside, 'secret'), join(s.root, 'hard'));
    const g = new Guest();
    const fd = open(g, 'hard', { base: READ });
    const buf = g.buf(16);
    g.must(g.call('fd_read', g.load(fd), g.iovec(buf, 10), 1, g.buf(4)));
    g.exit(openCall(g, 'hard', { base: rights(RIGHTS.FD_WRITE) }));
    const run = await runGuest(g, options);
    assert.equal(run.exitCode, ERRNO.ENOTCAPABLE);
    assert.equal(run.memory.subarray(buf, buf + 10).toString(), 'top secret');
    assert.equal(readFileSync(join(s.outside, 'secret'), 'utf8'), 'top secret');
  });
});

describe('WASI read-only preopens', () => {
  const ro = (build: (g: Guest) => string): Promise<void> => refused(ERRNO.ENOTCAPABLE, build, (s) => mkdirSync(join(s.root, 'empty')), { 'a.txt': 'inside' }, true);

  it('hold no right that changes anything, base or inheriting', async () => {
    const { options } = await preopened({}, true);
    const g = new Guest();
    const stat = g.buf(24);
    g.must(g.call('fd_fdstat_get', 3, stat)).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.u64(stat + 8) & BigInt(WRITE_RIGHTS), 0n);
    assert.equal(run.u64(stat + 16) & BigInt(WRITE_RIGHTS), 0n);
  });

  it('still allow reading', async () => {
    const { options } = await preopened({ 'a.txt': 'readable' }, true);
    const g = new Guest();
    const fd = open(g, 'a.txt', { base: READ });
    const buf = g.buf(8);
    g.must(g.call('fd_read', g.load(fd), g.iovec(buf, 8), 1, g.buf(4))).exit(0);
    assert.equal((await runGuest(g, options)).memory.subarray(buf, buf + 8).toString(), 'readable');
  });

  it('refuse creating a file with ENOTCAPABLE', () => ro((g) => openCall(g, 'new.txt', { oflags: OFLAGS.CREAT })));
  it('refuse opening for writing with ENOTCAPABLE', () => ro((g) => openCall(g, 'a.txt', { base: rights(RIGHTS.FD_WRITE) })));
  it('refuse truncating with ENOTCAPABLE', () => ro((g) => openCall(g, 'a.txt', { oflags: OFLAGS.TRUNC })));
  it('refuse fd_write on a file opened for reading with ENOTCAPABLE', () => ro((g) => g.call('fd_write', g.load(open(g, 'a.txt', { base: READ })), g.iovec(g.bytes(Buffer.from('x')), 1), 1, g.buf(4))));
  it('refuse fd_filestat_set_size with ENOTCAPABLE', () => ro((g) => g.call('fd_filestat_set_size', g.load(open(g, 'a.txt', { base: READ })), 0n)));
  it('refuse fd_filestat_set_times with ENOTCAPABLE', () => ro((g) => g.call('fd_filestat_set_times', g.load(open(g, 'a.txt', { base: READ })), 0n, 0n, FSTFLAGS.MTIM_NOW)));
  it('refuse fd_allocate with ENOTCAPABLE', () => ro((g) => g.call('fd_allocate', g.load(open(g, 'a.txt', { base: READ })), 0n, 100n)));
  it('refuse path_create_directory with ENOTCAPABLE', () => ro((g) => g.call('path_create_directory', 3, g.str('d'))));
  it('refuse path_unlink_file with ENOTCAPABLE', () => ro((g) => g.call('path_unlink_file', 3, g.str('a.txt'))));
  it('refuse path_remove_directory with ENOTCAPABLE', () => ro((g) => g.call('path_remove_directory', 3, g.str('empty'))));
  it('refuse path_rename with ENOTCAPABLE', () => ro((g) => g.call('path_rename', 3, g.str('a.txt'), 3, g.str('b.txt'))));
  it('refuse path_symlink with ENOTCAPABLE', () => ro((g) => g.call('path_symlink', g.str('a.txt'), 3, g.str('link'))));
  it('refuse path_link with ENOTCAPABLE', () => ro((g) => g.call('path_link', 3, 0, g.str('a.txt'), 3, g.str('b.txt'))));
  it('refuse path_filestat_set_times with ENOTCAPABLE', () => ro((g) => g.call('path_filestat_set_times', 3, 0, g.str('a.txt'), 0n, 0n, FSTFLAGS.MTIM_NOW)));
  it('refuse a subdirectory opened through them any write right', () =>
    ro((g) => g.call('path_create_directory', g.load(open(g, 'empty', { base: rights(RIGHTS.PATH_OPEN, RIGHTS.PATH_CREATE_DIRECTORY), inheriting: BigInt(WRITE_RIGHTS) })), g.str('d'))));

  it('cannot be escaped by linking or moving a file into a writable preopen', async () => {
    const { s, options } = await preopened({ 'a.txt': 'protected' }, true);
    const writable = join(s.base, 'writable');
    mkdirSync(writable);
    const g = new Guest();
    g.must(`(i32.sub ${g.call('path_link', 3, 0, g.str('a.txt'), 4, g.str('copy'))} (i32.const ${ERRNO.ENOTCAPABLE}))`);
    g.exit(g.call('path_rename', 3, g.str('a.txt'), 4, g.str('moved')));
    const run = await runGuest(g, { preopens: [...(options.preopens ?? []), { host: writable, guest: '/w' }] });
    assert.equal(run.exitCode, ERRNO.ENOTCAPABLE);
    assert.equal(existsSync(join(writable, 'copy')), false);
    assert.equal(readFileSync(join(s.root, 'a.txt'), 'utf8'), 'protected');
  });
});

describe('WASI directory descriptors', () => {
  it('keep naming the same directory after it is renamed (Linux: /proc/self/fd)', async (t) => {
    if (!existsSync('/proc/self/fd')) {
      t.skip('needs /proc/self/fd; elsewhere a directory descriptor follows its path, not the directory (docs/wasi.md)');
      return;
    }
    const { options } = await preopened({ 'sub/inner.txt': 'still here' });
    const g = new Guest();
    const sub = open(g, 'sub', { base: rights(RIGHTS.PATH_OPEN), inheriting: READ });
    g.must(g.call('path_rename', 3, g.str('sub'), 3, g.str('moved')));
    const fd = open(g, 'inner.txt', { dir: g.load(sub), base: READ });
    const buf = g.buf(16);
    g.must(g.call('fd_read', g.load(fd), g.iovec(buf, 10), 1, g.buf(4))).exit(0);
    const run = await runGuest(g, options);
    assert.equal(run.exitCode, 0);
    assert.equal(run.memory.subarray(buf, buf + 10).toString(), 'still here');
  });
});
