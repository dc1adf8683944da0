/**
 * A corpus of hostile .forgepkg packages, built by hand so that the reader is tested
 * against an oracle that shares no code with it: tar headers are laid out here byte by
 * byte (with correct checksums unless the case is about checksums) and compressed with
 * Node's own gzip, not our framing.
 */
import type { ErrorCode } from '@forgeone/common';
import { crc32, gzipSync } from 'node:zlib';
import type { ArchiveLimits } from '../archive/index.js';

/** Every file name a traversal case tries to create outside the unpack directory. */
export const ESCAPE_NAME = 'forge-hostile-escape';

/** Fields of a hand-made header; everything not named is what a plain regular file has. */
export interface HeaderFields {
  readonly name: string | Uint8Array;
  readonly prefix?: string | Uint8Array;
  readonly size?: number;
  /** Raw 12-byte size field, to test parsing; overrides `size`. */
  readonly sizeField?: Uint8Array;
  readonly typeflag?: string;
  readonly linkname?: string;
  readonly magic?: 'ustar' | 'gnu' | 'none';
  /** Add this to the correct checksum. */
  readonly checksumDelta?: number;
}

/** A 512-byte tar header block. */
export function header(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(512);
  const bytes = (value: string | Uint8Array): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value));
  const octal = (offset: number, width: number, value: number): void => {
    block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
  };
  bytes(fields.name).copy(block, 0, 0, 100);
  octal(100, 8, 0o644);
  octal(108, 8, 1000);
  octal(116, 8, 1000);
  if (fields.sizeField === undefined) octal(124, 12, fields.size ?? 0);
  else Buffer.from(fields.sizeField).copy(block, 124, 0, 12);
  octal(136, 12, 1_700_000_000);
  block.write(fields.typeflag ?? '0', 156, 1, 'latin1');
  if (fields.linkname !== undefined) block.write(fields.linkname, 157, 100, 'utf8');
  const magic = fields.magic ?? 'ustar';
  if (magic === 'ustar') block.write('ustar\x0000', 257, 8, 'latin1');
  if (magic === 'gnu') block.write('ustar  \x00', 257, 8, 'latin1');
  block.write('hostile', 265, 32, 'latin1');
  block.write('hostile', 297, 32, 'latin1');
  if (fields.prefix !== undefined) bytes(fields.prefix).copy(block, 345, 0, 155);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${(sum + (fields.checksumDelta ?? 0)).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/** A header, the data and zero padding to a whole block. */
export function entry(fields: HeaderFields, data: Uint8Array = new Uint8Array(0)): Buffer {
  const padding = (512 - (data.length % 512)) % 512;
  return Buffer.concat([header({ size: data.length, ...fields }), data, Buffer.alloc(padding)]);
}

/** A regular file entry. */
export function file(name: string | Uint8Array, content: string | Uint8Array = 'x'): Buffer {
  return entry({ name }, typeof content === 'string' ? Buffer.from(content) : content);
}

/** The end-of-archive marker: two zero blocks. */
export const TAR_END = Buffer.alloc(1024);

/** A gzip'd tar of the given pieces followed by the end marker. */
export function tgz(...pieces: Uint8Array[]): Buffer {
  return gzipSync(Buffer.concat([...pieces, TAR_END]));
}

/** A small valid package, the base of the framing cases (bytes 0-9 are the gzip header). */
export function validPackage(): Buffer {
  return tgz(file('manifest.json', '{"name":"ok"}'), file('plugin.wasm', Buffer.alloc(3000, 0x61)));
}

/** One hostile package and the error code the reader must refuse it with. */
export interface HostileCase {
  /** What the package holds, completing "refuses a package with ...". */
  readonly name: string;
  readonly code: ErrorCode;
  readonly limits?: Partial<ArchiveLimits>;
  readonly build: () => Buffer;
}

function memo(build: () => Buffer): () => Buffer {
  let cached: Buffer | undefined;
  return () => (cached ??= build());
}

/** Size of the gzip bomb's single entry: 100 MB of zeros, ratio about 1:1000. */
export const BOMB_BYTES = 100_000_000;

/** The gzip bomb: one entry of {@link BOMB_BYTES} zeros. Built once, ~100 KB. */
export const bomb = memo(() => {
  const tar = Buffer.alloc(512 + BOMB_BYTES + 1024);
  header({ name: 'plugin.wasm', size: BOMB_BYTES }).copy(tar, 0);
  return gzipSync(tar, { level: 9 });
});

/** Number of entries in the many-entries case. */
export const MANY_ENTRIES = 100_000;

/** A package of {@link MANY_ENTRIES} empty files. Built once. */
export const manyEntries = memo(() => {
  const blocks: Buffer[] = [];
  for (let i = 0; i < MANY_ENTRIES; i++) blocks.push(header({ name: `assets/f${i.toString().padStart(6, '0')}` }));
  return tgz(...blocks);
});

const withByte = (buffer: Buffer, offset: number, change: (byte: number) => number): Buffer => {
  const copy = Buffer.from(buffer);
  const at = offset < 0 ? copy.length + offset : offset;
  copy[at] = change(copy[at] ?? 0);
  return copy;
};

/** Every hostile case; the reader must refuse each with exactly its code. */
export const HOSTILE_CASES: readonly HostileCase[] = [
  // Where entries point.
  { name: 'a tar-slip entry ../NAME', code: 'FO_PACKAGE_PATH_TRAVERSAL', build: () => tgz(file(`../${ESCAPE_NAME}`)) },
  { name: 'a tar-slip entry a/../../NAME', code: 'FO_PACKAGE_PATH_TRAVERSAL', build: () => tgz(file(`a/../../${ESCAPE_NAME}`)) },
  { name: 'a deep tar-slip entry after a valid one', code: 'FO_PACKAGE_PATH_TRAVERSAL', build: () => tgz(file('ok'), file(`${'../'.repeat(8)}${ESCAPE_NAME}`)) },
  { name: 'a tar-slip hidden in the prefix field', code: 'FO_PACKAGE_PATH_TRAVERSAL', build: () => tgz(entry({ prefix: '..', name: ESCAPE_NAME }, Buffer.from('x'))) },
  { name: 'an absolute path', code: 'FO_PACKAGE_ABSOLUTE_PATH', build: () => tgz(file(`/tmp/${ESCAPE_NAME}`)) },
  { name: 'a symlink entry', code: 'FO_PACKAGE_SYMLINK', build: () => tgz(entry({ name: 'link', typeflag: '2', linkname: `../../${ESCAPE_NAME}` }), file(`link/${ESCAPE_NAME}`)) },
  { name: 'a hardlink entry', code: 'FO_PACKAGE_HARDLINK', build: () => tgz(entry({ name: 'hard', typeflag: '1', linkname: '/etc/passwd' })) },
  { name: 'a character device', code: 'FO_PACKAGE_DEVICE', build: () => tgz(entry({ name: 'null', typeflag: '3' })) },
  { name: 'a block device', code: 'FO_PACKAGE_DEVICE', build: () => tgz(entry({ name: 'sda', typeflag: '4' })) },
  { name: 'a FIFO', code: 'FO_PACKAGE_DEVICE', build: () => tgz(entry({ name: 'pipe', typeflag: '6' })) },
  { name: 'a directory entry', code: 'FO_PACKAGE_ENTRY_TYPE', build: () => tgz(entry({ name: 'assets/', typeflag: '5' }), file('assets/a')) },
  { name: 'a pax extended header', code: 'FO_PACKAGE_ENTRY_TYPE', build: () => tgz(entry({ name: 'PaxHeaders/x', typeflag: 'x' }, Buffer.from(`24 path=../${ESCAPE_NAME}\n`)), file('x')) },
  { name: 'a pax global header', code: 'FO_PACKAGE_ENTRY_TYPE', build: () => tgz(entry({ name: 'pax_global_header', typeflag: 'g' }, Buffer.from('20 comment=hello\n'))) },
  { name: 'a GNU long name', code: 'FO_PACKAGE_ENTRY_TYPE', build: () => tgz(entry({ name: '././@LongLink', typeflag: 'L', magic: 'gnu' }, Buffer.from(`${'d/'.repeat(80)}x\0`)), file('short')) },
  { name: 'an unknown entry type', code: 'FO_PACKAGE_ENTRY_TYPE', build: () => tgz(entry({ name: 'volume', typeflag: 'V' })) },
  // Names.
  { name: 'the same name twice', code: 'FO_PACKAGE_DUPLICATE_ENTRY', build: () => tgz(file('plugin.wasm', 'a'), file('plugin.wasm', 'b')) },
  { name: 'names equal but for case', code: 'FO_PACKAGE_DUPLICATE_ENTRY', build: () => tgz(file('assets/Logo.png'), file('assets/logo.PNG')) },
  { name: 'names equal after NFC normalisation', code: 'FO_PACKAGE_DUPLICATE_ENTRY', build: () => tgz(file('caf\u00e9'), file('cafe\u0301')) },
  { name: 'a file where another entry needs a directory', code: 'FO_PACKAGE_DUPLICATE_ENTRY', build: () => tgz(file('assets'), file('assets/a')) },
  { name: 'a name that is not UTF-8', code: 'FO_PACKAGE_NAME_ENCODING', build: () => tgz(file(Buffer.from([0x61, 0xff, 0xfe, 0x62]))) },
  { name: 'an overlong UTF-8 slash', code: 'FO_PACKAGE_NAME_ENCODING', build: () => tgz(file(Buffer.from([0x61, 0xc0, 0xaf, 0x62]))) },
  { name: 'an empty name', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(file('')) },
  { name: 'an empty component', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(file('assets//a')) },
  { name: 'a dot component', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(file('./plugin.wasm')) },
  { name: 'a trailing slash on a regular file', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(file('assets/')) },
  { name: 'a backslash', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(file('..\\evil')) },
  { name: 'a control character', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(file('a\x1b[31mb')) },
  { name: 'bytes after a NUL in the name field', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(file(Buffer.from('ok\0../evil'))) },
  { name: 'a 256-byte name', code: 'FO_PACKAGE_BAD_PATH', build: () => tgz(entry({ prefix: 'p'.repeat(155), name: 'n'.repeat(100) }, Buffer.from('x'))) },
  // Sizes and counts.
  { name: 'a gzip bomb (100 MB of zeros, ratio 1:1000)', code: 'FO_PACKAGE_COMPRESSION_RATIO', build: bomb },
  { name: `${MANY_ENTRIES} entries`, code: 'FO_PACKAGE_TOO_MANY_ENTRIES', build: manyEntries },
  { name: 'a 200 MiB file', code: 'FO_PACKAGE_ENTRY_TOO_LARGE', build: () => tgz(header({ name: 'plugin.wasm', size: 200 * 1024 * 1024 })) },
  { name: 'a base-256 size of 2^72 bytes', code: 'FO_PACKAGE_ENTRY_TOO_LARGE', build: () => tgz(header({ name: 'x', sizeField: Buffer.from([0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]) })) },
  { name: 'files summing past maxUnpackedSize', code: 'FO_PACKAGE_UNPACKED_TOO_LARGE', limits: { maxUnpackedSize: 5000 }, build: () => tgz(file('a', Buffer.alloc(3000)), file('b', Buffer.alloc(3000))) },
  { name: 'more compressed bytes than maxPackageSize', code: 'FO_PACKAGE_TOO_LARGE', limits: { maxPackageSize: 100 }, build: validPackage },
  // Tar structure.
  { name: 'a corrupted header checksum', code: 'FO_PACKAGE_CORRUPT', build: () => tgz(entry({ name: 'plugin.wasm', checksumDelta: 1 }, Buffer.from('x'))) },
  { name: 'an unparsable size field', code: 'FO_PACKAGE_CORRUPT', build: () => tgz(header({ name: 'x', sizeField: Buffer.from('12x4\0\0\0\0\0\0\0\0') })) },
  { name: 'a GNU-format header', code: 'FO_PACKAGE_CORRUPT', build: () => tgz(entry({ name: 'x', magic: 'gnu' }, Buffer.from('x'))) },
  { name: 'a header after a lone zero block', code: 'FO_PACKAGE_CORRUPT', build: () => tgz(file('a'), Buffer.alloc(512), file('b')) },
  { name: 'no tar end marker', code: 'FO_PACKAGE_TRUNCATED', build: () => gzipSync(file('a')) },
  { name: 'only one zero block at the end', code: 'FO_PACKAGE_TRUNCATED', build: () => gzipSync(Buffer.concat([file('a'), Buffer.alloc(512)])) },
  { name: 'entry data cut short', code: 'FO_PACKAGE_TRUNCATED', build: () => gzipSync(Buffer.concat([header({ name: 'a', size: 5000 }), Buffer.alloc(1000, 1)])) },
  { name: 'non-zero data after the tar end marker', code: 'FO_PACKAGE_TRAILING_DATA', build: () => gzipSync(Buffer.concat([file('a'), TAR_END, file('hidden')])) },
  // Gzip framing.
  { name: 'no gzip magic (a plain tar)', code: 'FO_PACKAGE_NOT_GZIP', build: () => Buffer.concat([file('a'), TAR_END]) },
  { name: 'no bytes at all', code: 'FO_PACKAGE_NOT_GZIP', build: () => Buffer.alloc(0) },
  { name: 'a cut after the first gzip byte', code: 'FO_PACKAGE_TRUNCATED', build: () => validPackage().subarray(0, 1) },
  { name: 'a cut inside the gzip header', code: 'FO_PACKAGE_TRUNCATED', build: () => validPackage().subarray(0, 6) },
  { name: 'a cut right after the gzip header', code: 'FO_PACKAGE_TRUNCATED', build: () => validPackage().subarray(0, 10) },
  { name: 'a cut inside the deflate data', code: 'FO_PACKAGE_TRUNCATED', build: () => validPackage().subarray(0, 10 + Math.floor((validPackage().length - 18) / 2)) },
  { name: 'a cut right before the trailer', code: 'FO_PACKAGE_TRUNCATED', build: () => validPackage().subarray(0, -8) },
  { name: 'a cut inside the trailer', code: 'FO_PACKAGE_TRUNCATED', build: () => validPackage().subarray(0, -3) },
  { name: 'a corrupted deflate byte (reserved block type)', code: 'FO_PACKAGE_CORRUPT', build: () => withByte(validPackage(), 10, (byte) => byte | 0x06) },
  { name: 'a CRC-32 mismatch', code: 'FO_PACKAGE_CORRUPT', build: () => withByte(validPackage(), -8, (byte) => byte ^ 0xff) },
  { name: 'an ISIZE mismatch', code: 'FO_PACKAGE_CORRUPT', build: () => withByte(validPackage(), -1, (byte) => byte ^ 0x01) },
  { name: 'another compression method', code: 'FO_PACKAGE_CORRUPT', build: () => withByte(validPackage(), 2, () => 7) },
  { name: 'reserved gzip flags', code: 'FO_PACKAGE_CORRUPT', build: () => withByte(validPackage(), 3, () => 0x20) },
  { name: 'a wrong gzip header CRC', code: 'FO_PACKAGE_CORRUPT', build: () => withHeaderFields(validPackage(), { headerCrcDelta: 1 }) },
  { name: 'garbage after the gzip member', code: 'FO_PACKAGE_TRAILING_DATA', build: () => Buffer.concat([validPackage(), Buffer.from('garbage')]) },
  { name: 'zero bytes after the gzip member', code: 'FO_PACKAGE_TRAILING_DATA', build: () => Buffer.concat([validPackage(), Buffer.alloc(16)]) },
  { name: 'a second gzip member', code: 'FO_PACKAGE_TRAILING_DATA', build: () => Buffer.concat([validPackage(), tgz(file('extra'))]) },
];

/**
 * Rewrites a member's plain 10-byte header (as gzipSync makes) to carry FEXTRA, FNAME,
 * FCOMMENT and FHCRC, optionally with a wrong header CRC.
 */
export function withHeaderFields(gz: Buffer, options: { readonly headerCrcDelta?: number } = {}): Buffer {
  const fixed = Buffer.from(gz.subarray(0, 10));
  fixed[3] = 0x04 | 0x08 | 0x10 | 0x02;
  const extra = Buffer.from([4, 0, 0x41, 0x42, 0, 0]);
  const head = Buffer.concat([fixed, extra, Buffer.from('package.tar\0comment\0', 'latin1')]);
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE((crc32(head) + (options.headerCrcDelta ?? 0)) & 0xffff);
  return Buffer.concat([head, crc, gz.subarray(10)]);
}
