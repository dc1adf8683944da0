import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ErrorCode, ForgeError } from '@forgeone/common';
import { throwsCode } from '@forgeone/common/testing';
import { ERRNO } from './abi.js';
import type { WasiOptions } from './options.js';
import { Guest, runGuest, scratch } from './test-support/guest.js';
import { OFLAGS, RIGHTS, open, openCall, preopened, rights } from './test-support/setup.js';
import { WasiPreview1 } from './wasi.js';

/** Asserts that a context with `options` is refused with `code`. */
const refusedWith = (code: ErrorCode, options: WasiOptions): ForgeError => throwsCode(() => new WasiPreview1(options), code);

describe('WASI open-file limit', () => {
  it('opens files until the limit, counting stdio and preopens, then answers EMFILE', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const count = g.buf(4);
    const attempt = openCall(g, 'a.txt', { base: rights(RIGHTS.FD_READ) });
    g.do(`(block $full (loop $again (br_if $full ${attempt}) (i32.store (i32.const ${count}) (i32.add (i32.load (i32.const ${count})) (i32.const 1))) (br $again)))`);
    g.exit(attempt);
    const run = await runGuest(g, { ...options, maxOpenFiles: 64 });
    assert.equal(run.exitCode, ERRNO.EMFILE);
    assert.equal(run.u32(count), 64 - 4);
  });

  it('creates nothing when a create is refused for the limit', async () => {
    const { s, options } = await preopened();
    const g = new Guest();
    open(g, '.', { base: rights(RIGHTS.PATH_OPEN) });
    g.exit(openCall(g, 'new.txt', { oflags: OFLAGS.CREAT }));
    assert.equal((await runGuest(g, { ...options, maxOpenFiles: 5 })).exitCode, ERRNO.EMFILE);
    assert.equal(existsSync(join(s.root, 'new.txt')), false);
  });

  it('frees a slot when a descriptor is closed', async () => {
    const { options } = await preopened({ 'a.txt': 'x' });
    const g = new Guest();
    const fd = open(g, 'a.txt');
    g.must(`(i32.sub ${openCall(g, 'a.txt')} (i32.const ${ERRNO.EMFILE}))`).must(g.call('fd_close', g.load(fd))).exit(openCall(g, 'a.txt'));
    assert.equal((await runGuest(g, { ...options, maxOpenFiles: 5 })).exitCode, 0);
  });

  it('refuses a context whose stdio and preopens alone exceed the limit with FO_WASI_TOO_MANY_FILES', async () => {
    const s = await scratch();
    refusedWith('FO_WASI_TOO_MANY_FILES', { maxOpenFiles: 4, preopens: [{ host: s.root, guest: '/a' }, { host: s.outside, guest: '/b' }] });
  });

  it('releases every host descriptor on close', async (t) => {
    if (!existsSync('/proc/self/fd')) {
      t.skip('counting open descriptors needs /proc/self/fd');
      return;
    }
    const { options } = await preopened({ 'a.txt': 'x' });
    const before = readdirSync('/proc/self/fd').length;
    const g = new Guest();
    open(g, 'a.txt');
    open(g, '.');
    g.exit(0);
    await runGuest(g, options);
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });
});

describe('WASI options', () => {
  it('refuse NUL in arguments, malformed variable names and NUL in values with FO_WASI_INVALID_OPTIONS', () => {
    refusedWith('FO_WASI_INVALID_OPTIONS', { args: ['a\0b'] });
    refusedWith('FO_WASI_INVALID_OPTIONS', { env: { 'A=B': 'x' } });
    refusedWith('FO_WASI_INVALID_OPTIONS', { env: { '': 'x' } });
    refusedWith('FO_WASI_INVALID_OPTIONS', { env: { A: 'x\0y' } });
  });

  it('refuse an open-file limit that is not an integer from 3 to 65536', () => {
    for (const maxOpenFiles of [2, 3.5, 65_537, Number.NaN]) refusedWith('FO_WASI_INVALID_OPTIONS', { maxOpenFiles });
  });

  it('refuse an empty preopen name', async () => {
    const s = await scratch();
    refusedWith('FO_WASI_INVALID_OPTIONS', { preopens: [{ host: s.root, guest: '' }] });
  });

  it('list every problem at once', () => {
    assert.equal((refusedWith('FO_WASI_INVALID_OPTIONS', { args: ['\0'], maxOpenFiles: 1 }).details['problems'] as unknown[]).length, 2);
  });

  it('refuse a missing preopen with FO_WASI_PREOPEN_NOT_FOUND and a file with FO_WASI_PREOPEN_NOT_DIRECTORY', async () => {
    const s = await scratch();
    writeFileSync(join(s.root, 'file'), 'x');
    refusedWith('FO_WASI_PREOPEN_NOT_FOUND', { preopens: [{ host: join(s.root, 'missing'), guest: '/' }] });
    refusedWith('FO_WASI_PREOPEN_NOT_DIRECTORY', { preopens: [{ host: join(s.root, 'file'), guest: '/' }] });
  });

  it('open nothing when a later preopen fails', async (t) => {
    if (!existsSync('/proc/self/fd')) {
      t.skip('counting open descriptors needs /proc/self/fd');
      return;
    }
    const s = await scratch();
    const before = readdirSync('/proc/self/fd').length;
    refusedWith('FO_WASI_PREOPEN_NOT_FOUND', { preopens: [{ host: s.root, guest: '/a' }, { host: join(s.root, 'missing'), guest: '/b' }] });
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });
});
