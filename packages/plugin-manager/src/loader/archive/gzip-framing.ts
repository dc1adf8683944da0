import { ForgeError } from '@forgeone/common';
import { crc32, gzipSync } from 'node:zlib';

/**
 * The gzip member format (RFC 1952) around raw deflate data: a header we write with
 * fixed fields and parse with every optional field, and the CRC-32 + ISIZE trailer.
 * Node's Gunzip is not used because it silently accepts concatenated members and
 * trailing zero bytes; framing the member ourselves makes "one member, nothing after
 * it" checkable.
 */

const ID1 = 0x1f;
const ID2 = 0x8b;
const CM_DEFLATE = 8;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;
const FIXED_HEADER_BYTES = 10;
/** zlib's smallest output chunk, in bytes. */
export const MIN_CHUNK = 64;
/** Length of the member trailer: CRC-32 and ISIZE, little-endian, in bytes. */
export const TRAILER_BYTES = 8;

/** 1f 8b, deflate, no flags, mtime 0, XFL 2 (maximum compression), OS 255 (unknown). */
const FIXED_HEADER = Buffer.from([ID1, ID2, CM_DEFLATE, 0, 0, 0, 0, 0, 2, 255]);

/** The bytes zlib writes where {@link FIXED_HEADER} has XFL and OS. */
const XFL_OFFSET = 8;

/**
 * Wraps `data` in one gzip member compressed at `level` (default 9). The header carries
 * no name and mtime 0, so the output depends only on `data`, `level` and the zlib build.
 *
 * zlib writes the member itself (its header is ours but for XFL and OS, set here; it
 * computes the same CRC-32 and ISIZE trailer), into one output buffer sized by zlib's
 * deflateBound: no 16 KiB output chunks joined, no second copy to add the framing. At
 * levels 1-9 the deflate data does not depend on the output buffer's size; stored
 * blocks (level 0) do, and are here up to 64 KiB long.
 */
export function gzipDeterministic(data: Uint8Array, level = 9): Buffer {
  const n = data.length;
  // deflateBound (zlib's deflate.c) + the gzip framing, + 1 so that output that fills it
  // exactly does not make zlib allocate another chunk to find out.
  const bound = n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13 + FIXED_HEADER_BYTES + TRAILER_BYTES + 1;
  const member = gzipSync(data, { level, chunkSize: Math.max(MIN_CHUNK, bound) });
  FIXED_HEADER.copy(member, XFL_OFFSET, XFL_OFFSET);
  // Data that compressed well would keep the whole bound-sized buffer alive.
  return member.length < member.buffer.byteLength / 2 ? Buffer.from(member) : member;
}

type HeaderStep = 'fixed' | 'extra-length' | 'extra' | 'name' | 'comment' | 'header-crc' | 'done';

/**
 * Parses a gzip member header incrementally, holding at most 10 bytes of it. Optional
 * fields (FEXTRA, FNAME, FCOMMENT) are skipped without being kept; FHCRC is verified.
 */
export class GzipHeaderParser {
  /** The fixed header, then reused for the 2-byte XLEN and CRC16 fields. */
  readonly #field = Buffer.alloc(FIXED_HEADER_BYTES);
  #fill = 0;
  #step: HeaderStep = 'fixed';
  /** Steps still to come, decided by the flags byte. */
  #queue: HeaderStep[] = [];
  /** Bytes left in the current fixed-size step. */
  #need = FIXED_HEADER_BYTES;
  /** Running CRC-32 of the header bytes before FHCRC. */
  #crc = 0;
  /** Header bytes consumed so far. */
  #length = 0;

  /** True once the whole header has been consumed. */
  get done(): boolean {
    return this.#step === 'done';
  }

  /** Header bytes consumed so far: the whole header's length once {@link done}. */
  get length(): number {
    return this.#length;
  }

  /**
   * Consumes header bytes from the start of `chunk` and returns how many it took.
   * @throws ForgeError FO_PACKAGE_NOT_GZIP when the first two bytes are not 1f 8b;
   *   FO_PACKAGE_CORRUPT for another compression method, reserved flags or a bad FHCRC.
   */
  push(chunk: Uint8Array): number {
    let pos = 0;
    while (pos < chunk.length && this.#step !== 'done') {
      const start = pos;
      const step = this.#step;
      if (step === 'name' || step === 'comment') {
        const nul = chunk.indexOf(0, pos);
        pos = nul === -1 ? chunk.length : nul + 1;
        if (nul !== -1) this.#next();
      } else {
        const take = Math.min(this.#need, chunk.length - pos);
        if (step !== 'extra') this.#field.set(chunk.subarray(pos, pos + take), this.#fill);
        this.#fill += take;
        this.#need -= take;
        pos += take;
        if (step === 'fixed') this.#checkMagic();
        if (this.#need === 0) this.#complete(step);
      }
      if (step !== 'header-crc') this.#crc = crc32(chunk.subarray(start, pos), this.#crc);
      this.#length += pos - start;
    }
    return pos;
  }

  /**
   * Declares that the input ended.
   * @throws ForgeError FO_PACKAGE_NOT_GZIP for empty input, FO_PACKAGE_TRUNCATED when
   *   the header is incomplete.
   */
  finish(): void {
    if (this.#step === 'done') return;
    if (this.#length === 0) throw new ForgeError('FO_PACKAGE_NOT_GZIP', 'package: expected a gzip stream (bytes 1f 8b), found an empty file');
    throw new ForgeError('FO_PACKAGE_TRUNCATED', `gzip stream: expected a complete member header, found the input ends after ${this.#length} header bytes`, {
      details: { offset: this.#length },
    });
  }

  #checkMagic(): void {
    const magic = this.#field.subarray(0, Math.min(this.#fill, 2));
    if (magic[0] === ID1 && (magic.length < 2 || magic[1] === ID2)) return;
    const found = Buffer.from(magic).toString('hex');
    throw new ForgeError('FO_PACKAGE_NOT_GZIP', `package: expected a gzip stream (bytes 1f 8b), found bytes ${found}`, {
      details: { offset: 0, actual: found },
    });
  }

  #complete(step: HeaderStep): void {
    if (step === 'fixed') {
      const method = this.#field[2];
      if (method !== CM_DEFLATE) throw corrupt('compression method 8 (deflate)', `method ${method}`, 2);
      const flags = this.#field[3] ?? 0;
      if ((flags & FRESERVED) !== 0) throw corrupt('no reserved header flags', `flags 0x${flags.toString(16)}`, 3);
      if ((flags & FEXTRA) !== 0) this.#queue.push('extra-length');
      if ((flags & FNAME) !== 0) this.#queue.push('name');
      if ((flags & FCOMMENT) !== 0) this.#queue.push('comment');
      if ((flags & FHCRC) !== 0) this.#queue.push('header-crc');
    } else if (step === 'extra-length') {
      const length = this.#field.readUInt16LE(0);
      if (length > 0) this.#queue.unshift('extra');
      this.#next(length);
      return;
    } else if (step === 'header-crc') {
      const stored = this.#field.readUInt16LE(0);
      const computed = this.#crc & 0xffff;
      if (stored !== computed) throw corrupt(`header CRC16 ${computed.toString(16)}`, stored.toString(16), this.#length);
    }
    this.#next();
  }

  /** Moves to the next step; `extraLength` sizes an 'extra' step. */
  #next(extraLength = 0): void {
    this.#step = this.#queue.shift() ?? 'done';
    this.#fill = 0;
    this.#need = this.#step === 'extra' ? extraLength : 2;
  }
}

/** The 8-byte member trailer, gathered incrementally. */
export class GzipTrailer {
  readonly #bytes = Buffer.alloc(TRAILER_BYTES);
  #fill = 0;

  /** True once all 8 bytes are in. */
  get complete(): boolean {
    return this.#fill === TRAILER_BYTES;
  }

  /** Takes trailer bytes from the start of `chunk`; returns how many it took. */
  push(chunk: Uint8Array): number {
    const take = Math.min(TRAILER_BYTES - this.#fill, chunk.length);
    this.#bytes.set(chunk.subarray(0, take), this.#fill);
    this.#fill += take;
    return take;
  }

  /**
   * Compares the trailer with the decompressed data's CRC-32 and length.
   * @throws ForgeError FO_PACKAGE_TRUNCATED when incomplete, FO_PACKAGE_CORRUPT on a mismatch.
   */
  verify(crc: number, length: number, offset: number): void {
    if (!this.complete) {
      throw new ForgeError('FO_PACKAGE_TRUNCATED', `gzip stream: expected an 8-byte trailer at offset ${offset}, found ${this.#fill} bytes`, {
        details: { offset, actual: this.#fill },
      });
    }
    const storedCrc = this.#bytes.readUInt32LE(0);
    if (storedCrc !== crc >>> 0) throw corrupt(`CRC-32 ${hex(crc)} of the data`, `${hex(storedCrc)} in the trailer`, offset);
    const storedSize = this.#bytes.readUInt32LE(4);
    const size = length % 2 ** 32;
    if (storedSize !== size) throw corrupt(`length ${size} (mod 2^32) of the data`, `${storedSize} in the trailer`, offset + 4);
  }
}

function hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

function corrupt(expected: string, found: string, offset: number): ForgeError {
  return new ForgeError('FO_PACKAGE_CORRUPT', `gzip stream: expected ${expected}, found ${found} (at compressed offset ${offset})`, {
    details: { offset },
  });
}
