/**
 * The POSIX ustar header block (POSIX.1-1988, `pax` "ustar" interchange format): field
 * offsets, encoding for the writer and strict decoding primitives for the reader.
 * Policy (which types and names are allowed) lives in entry-checks.ts.
 */

/** Size of a tar block, in bytes: headers are one block, data is padded to whole blocks. */
export const BLOCK_SIZE = 512;
/** Largest name field, in bytes. */
export const NAME_FIELD_BYTES = 100;
/** Largest prefix field, in bytes. */
export const PREFIX_FIELD_BYTES = 155;
/** Largest size an 11-digit octal size field holds: 8 GiB - 1. */
export const MAX_OCTAL_SIZE = 0o77777777777;

const NAME = 0;
const MODE = 100;
const UID = 108;
const GID = 116;
const SIZE = 124;
const MTIME = 136;
const CHECKSUM = 148;
const TYPEFLAG = 156;
const MAGIC = 257;
const DEVMAJOR = 329;
const DEVMINOR = 337;
const PREFIX = 345;
const USTAR_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \x00', 'latin1');

/** Where a name goes in a header: `prefix` + `/` + `name`, or `name` alone when prefix is empty. */
export interface UstarName {
  readonly prefix: Uint8Array;
  readonly name: Uint8Array;
}

/**
 * Splits a UTF-8 name over the name and prefix fields as GNU tar does: whole in the name
 * field when it fits, otherwise at the last `/` that leaves a prefix of at most 155
 * bytes (which leaves the shortest possible name). Undefined when no split fits.
 */
export function splitUstarName(bytes: Uint8Array): UstarName | undefined {
  if (bytes.length <= NAME_FIELD_BYTES) return { prefix: bytes.subarray(0, 0), name: bytes };
  const slash = bytes.lastIndexOf(0x2f, PREFIX_FIELD_BYTES);
  if (slash <= 0) return undefined;
  const name = bytes.subarray(slash + 1);
  if (name.length === 0 || name.length > NAME_FIELD_BYTES) return undefined;
  return { prefix: bytes.subarray(0, slash), name };
}

/**
 * Encodes the header of a regular file with the fixed metadata of a .forgepkg: mode
 * 0644, uid and gid 0, empty user and group names, mtime 0, typeflag '0', ustar magic.
 * `size` must be at most {@link MAX_OCTAL_SIZE}; the caller checks.
 */
export function encodeUstarHeader(name: UstarName, size: number): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  block.set(name.name, NAME);
  writeOctal(block, MODE, 8, 0o644);
  writeOctal(block, UID, 8, 0);
  writeOctal(block, GID, 8, 0);
  writeOctal(block, SIZE, 12, size);
  writeOctal(block, MTIME, 12, 0);
  block[TYPEFLAG] = 0x30; // '0'
  block.set(USTAR_MAGIC, MAGIC);
  writeOctal(block, DEVMAJOR, 8, 0);
  writeOctal(block, DEVMINOR, 8, 0);
  block.set(name.prefix, PREFIX);
  // The checksum field is 6 octal digits, NUL, space, summed as if it were 8 spaces.
  block.fill(0x20, CHECKSUM, CHECKSUM + 8);
  writeOctal(block, CHECKSUM, 7, checksums(block).unsigned);
  return block;
}

/** Writes `value` as width-1 zero-padded octal digits and a NUL. */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
}

/** True when every byte is zero (an end-of-archive block, unused field space). */
export function isAllZero(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/** Sums a header as the checksum is defined, its checksum field counted as spaces. */
function checksums(block: Uint8Array): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= CHECKSUM && i < CHECKSUM + 8 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte >= 0x80 ? byte - 0x100 : byte;
  }
  return { unsigned, signed };
}

/**
 * The stored and computed checksums of a header block. The stored value is undefined
 * when its field is not octal. Historic tars summed signed bytes; both sums are given
 * and either one matching means the header is intact, as in GNU tar.
 */
export function headerChecksum(block: Uint8Array): { stored: number | undefined; unsigned: number; signed: number } {
  return { stored: parseOctal(block.subarray(CHECKSUM, CHECKSUM + 8)), ...checksums(block) };
}

/** The typeflag byte as a one-character string ('\0' for old regular files). */
export function typeflagOf(block: Uint8Array): string {
  return String.fromCharCode(block[TYPEFLAG] ?? 0);
}

/**
 * Undefined when the block carries the POSIX ustar magic and version (`ustar\0`, `00`);
 * otherwise a description of what it carries instead.
 */
export function magicProblem(block: Uint8Array): string | undefined {
  const magic = block.subarray(MAGIC, MAGIC + 8);
  if (Buffer.compare(magic, USTAR_MAGIC) === 0) return undefined;
  if (Buffer.compare(magic, GNU_MAGIC) === 0) return 'the GNU header format (magic "ustar  ")';
  if (isAllZero(magic)) return 'a pre-POSIX header without magic';
  return `magic bytes ${Buffer.from(magic).toString('hex')}`;
}

/**
 * The entry size in bytes: octal digits (optionally space-led, space- or NUL-ended), or
 * the GNU base-256 form (first byte 0x80) for sizes of 8 GiB and more, reported as
 * Infinity past Number.MAX_SAFE_INTEGER. Undefined when the field is neither.
 */
export function sizeOf(block: Uint8Array): number | undefined {
  const field = block.subarray(SIZE, SIZE + 12);
  if (field[0] !== 0x80) return parseOctal(field);
  let value = 0;
  for (const byte of field.subarray(1)) value = value * 256 + byte;
  return Number.isSafeInteger(value) ? value : Number.POSITIVE_INFINITY;
}

const OCTAL_FIELD = /^ *([0-7]+)[ \0]*$/;

/** Parses a NUL- or space-terminated octal field; undefined when it is not one. */
function parseOctal(field: Uint8Array): number | undefined {
  const match = OCTAL_FIELD.exec(Buffer.from(field).toString('latin1'));
  return match?.[1] === undefined ? undefined : Number.parseInt(match[1], 8);
}

/**
 * The raw bytes of the entry name: `prefix/name`, or `name` when the prefix is empty,
 * each field cut at its first NUL. `strayBytes` is true when a non-NUL byte follows
 * that NUL in either field (tar readers disagree on such names, so they are refused).
 */
export function nameBytesOf(block: Uint8Array): { bytes: Uint8Array; strayBytes: boolean } {
  const name = cString(block.subarray(NAME, NAME + NAME_FIELD_BYTES));
  const prefix = cString(block.subarray(PREFIX, PREFIX + PREFIX_FIELD_BYTES));
  const strayBytes = name.stray || prefix.stray;
  if (prefix.bytes.length === 0) return { bytes: name.bytes, strayBytes };
  return { bytes: Buffer.concat([prefix.bytes, Buffer.of(0x2f), name.bytes]), strayBytes };
}

function cString(field: Uint8Array): { bytes: Uint8Array; stray: boolean } {
  const end = field.indexOf(0);
  if (end === -1) return { bytes: field, stray: false };
  return { bytes: field.subarray(0, end), stray: !isAllZero(field.subarray(end)) };
}
