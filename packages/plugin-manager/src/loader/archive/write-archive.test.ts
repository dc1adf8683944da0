import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import { ForgeError } from '@forgeone/common';
import { requireTool } from '@forgeone/common/testing';
import { createSandbox } from '../test-support/sandbox.js';
import { gzipDeterministic } from './gzip-framing.js';
import { MemorySink, readArchive, writeArchive, type ArchiveFile } from './index.js';

const FILES: readonly ArchiveFile[] = [
  { path: 'manifest.json', data: Buffer.from('{"name":"demo"}') },
  { path: 'plugin.wasm', data: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) },
  { path: 'assets/Zebra.txt', data: Buffer.alloc(700, 0x7a) },
  { path: 'assets/\u00e9t\u00e9.txt', data: Buffer.from('summer') },
  { path: `assets/${'deep/'.repeat(30)}leaf.bin`, data: Buffer.alloc(1024, 1) },
  { path: 'attestations/empty.sigstore.json', data: Buffer.alloc(0) },
];

/** The tar stream inside a package, and its headers' fields. */
function headers(archive: Buffer): { tar: Buffer; entries: { name: string; field: (offset: number, length: number) => Buffer }[] } {
  const tar = gunzipSync(archive);
  const entries = [];
  for (let offset = 0; offset < tar.length; ) {
    const block = tar.subarray(offset, offset + 512);
    if (block.every((byte) => byte === 0)) break;
    const field = (start: number, length: number): Buffer => block.subarray(start, start + length);
    const text = (start: number, length: number): string => field(start, length).toString('utf8').replace(/\0.*$/s, '');
    const prefix = text(345, 155);
    entries.push({ name: prefix === '' ? text(0, 100) : `${prefix}/${text(0, 100)}`, field });
    const size = Number.parseInt(text(124, 12), 8);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return { tar, entries };
}

/** Probes for GNU tar (skip locally when absent; fail under CI, which installs it). */
function tarAvailable(t: TestContext): boolean {
  return requireTool(t, 'tar', ['--version'], (output) => (output.includes('GNU tar') ? undefined : 'tar is not GNU tar'));
}

describe('writeArchive', () => {
  it('writes byte-identical packages for the same files in any order', () => {
    const reference = writeArchive(FILES);
    const shuffled = [FILES[3], FILES[0], FILES[5], FILES[2], FILES[1], FILES[4]].map((file) => file!);
    assert.deepEqual(writeArchive(shuffled), reference);
    assert.deepEqual(writeArchive([...FILES].reverse()), reference);
  });

  it('writes at levels 1-9 the deflate data deflateRawSync writes, whatever its output buffer; at level 0 stored blocks it inflates back', () => {
    const tar = gunzipSync(writeArchive(FILES));
    for (const level of [1, 6, 9]) assert.ok(gzipDeterministic(tar, level).subarray(10, -8).equals(deflateRawSync(tar, { level })), `level ${level}`);
    const big = Buffer.concat([randomBytes(200_000), Buffer.alloc(200_000)]);
    for (const level of [0, 1, 9]) {
      const member = gzipDeterministic(big, level);
      assert.deepEqual([...member.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
      assert.ok(gunzipSync(member).equals(big), `level ${level}`);
      assert.ok(member.buffer.byteLength < 2 * member.length, `level ${level}: ${member.length} bytes hold ${member.buffer.byteLength}`);
    }
  });

  it('frames one gzip member: fixed header, level-9 deflate, CRC-32 and ISIZE trailer', () => {
    const archive = writeArchive(FILES);
    assert.deepEqual([...archive.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    const tar = gunzipSync(archive);
    assert.equal(archive.readUInt32LE(archive.length - 8), crc32(tar));
    assert.equal(archive.readUInt32LE(archive.length - 4), tar.length);
  });

  it('sorts entries by the UTF-8 bytes of their names, not by UTF-16 code units', () => {
    const names = ['c', 'B', 'a', '\u{1F600}', '\uFFFD', '\u00e9'];
    const archive = writeArchive(names.map((path) => ({ path, data: Buffer.alloc(1) })));
    // UTF-16 order would put U+1F600 (a surrogate pair, D83D...) before U+FFFD.
    assert.deepEqual(headers(archive).entries.map((entry) => entry.name), ['B', 'a', 'c', '\u00e9', '\uFFFD', '\u{1F600}']);
  });

  it('writes fixed metadata in every header and ends with exactly two zero blocks', () => {
    const { tar, entries } = headers(writeArchive(FILES));
    assert.equal(entries.length, FILES.length);
    for (const { field } of entries) {
      assert.equal(field(100, 8).toString('latin1'), '0000644\0');
      assert.equal(field(108, 8).toString('latin1'), '0000000\0');
      assert.equal(field(116, 8).toString('latin1'), '0000000\0');
      assert.equal(field(136, 12).toString('latin1'), '00000000000\0');
      assert.equal(field(156, 1).toString('latin1'), '0');
      assert.equal(field(257, 8).toString('latin1'), 'ustar\x0000');
      assert.ok(field(265, 64).every((byte) => byte === 0), 'uname and gname are empty');
    }
    assert.equal(tar.length % 512, 0);
    assert.ok(tar.subarray(-1024).every((byte) => byte === 0));
    assert.ok(!tar.subarray(-1536, -1024).every((byte) => byte === 0), 'no padding beyond the two zero blocks');
  });

  it('puts a name longer than 100 bytes in the prefix and name fields', () => {
    const path = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const [entry] = headers(writeArchive([{ path, data: Buffer.from('x') }])).entries;
    assert.equal(entry?.name, path);
    assert.equal(entry?.field(345, 155).toString('latin1').replace(/\0+$/, ''), 'd'.repeat(120));
  });

  it('reads back what it wrote, with the same digests', async () => {
    const sink = new MemorySink();
    const entries = await readArchive(writeArchive(FILES), sink);
    assert.deepEqual(entries.map((entry) => entry.path), [...FILES.map((file) => file.path)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const file of FILES) assert.deepEqual(sink.files.get(file.path), Buffer.from(file.data));
  });

  for (const [why, path] of [
    ['a `..` component', '../evil'],
    ['an absolute path', '/etc/passwd'],
    ['an empty component', 'a//b'],
    ['a backslash', 'a\\b'],
    ['a control character', 'a\nb'],
    ['a lone surrogate', 'a\uD800b'],
    ['more than 255 bytes', `${'a/'.repeat(128)}b`],
    ['no slash that splits it over the ustar fields', 'x'.repeat(101)],
    ['a 101-byte last component', `dir/${'x'.repeat(101)}`],
  ] as const) {
    it(`refuses a name with ${why} as FO_PACK_SOURCE_INVALID`, () => {
      assert.throws(() => writeArchive([{ path, data: Buffer.alloc(0) }]), (error) => ForgeError.is(error, 'FO_PACK_SOURCE_INVALID'));
    });
  }

  it('refuses two names that collide on a case-insensitive file system', () => {
    const files = [{ path: 'A.txt', data: Buffer.alloc(0) }, { path: 'a.TXT', data: Buffer.alloc(0) }];
    assert.throws(() => writeArchive(files), (error) => ForgeError.is(error, 'FO_PACK_SOURCE_INVALID') && /collision/.test(error.message));
  });

  it('is listed by GNU tar with mode 0644, owner 0/0 and mtime 0', async (t) => {
    if (!tarAvailable(t)) return;
    const sandbox = await createSandbox();
    try {
      const archive = join(sandbox.sandbox, 'demo.forgepkg');
      await writeFile(archive, writeArchive(FILES));
      const listing = spawnSync('tar', ['-tzvf', archive, '--numeric-owner'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
      assert.equal(listing.status, 0, listing.stderr);
      assert.equal(listing.stderr, '');
      const lines = listing.stdout.trim().split('\n');
      assert.equal(lines.length, FILES.length);
      for (const line of lines) assert.match(line, /^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 \S/);
      const listed = lines.map((line) => line.replace(/^.* 1970-01-01 00:00 /, ''));
      assert.ok(listed.includes(FILES[4]!.path));
    } finally {
      await sandbox.remove();
    }
  });

  it('reads a package made by tar --format=ustar -czf from regular files', async (t) => {
    if (!tarAvailable(t)) return;
    const sandbox = await createSandbox();
    try {
      const source = join(sandbox.sandbox, 'src');
      const files = FILES;
      for (const file of files) {
        const path = join(source, file.path);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, file.data);
      }
      const archive = join(sandbox.sandbox, 'gnu.tgz');
      const made = spawnSync('tar', ['--format=ustar', '-czf', archive, '-C', source, ...files.map((file) => file.path)], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const sink = new MemorySink();
      const entries = await readArchive(archive, sink);
      assert.deepEqual(entries.map((entry) => entry.path).sort(), files.map((file) => file.path).sort());
      for (const file of files) assert.deepEqual(sink.files.get(file.path), Buffer.from(file.data));
    } finally {
      await sandbox.remove();
    }
  });
});
