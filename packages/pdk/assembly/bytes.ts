// Bytes: UTF-8 conversions, a bounded growable writer (requests, outputs, JSON) and a
// bounds-checked reader (host answers), for the host-call encoding of ABI §14 (`u32`
// little-endian, `field` = u32 length + bytes, `rest`).
import { MAX_REGION } from './abi';

/** The UTF-8 bytes of `s` (AssemblyScript encodes a lone surrogate as its 3 WTF-8 bytes; the host reads them as U+FFFD). */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/**
 * The length of the well-formed UTF-8 sequence at `p` (`n` bytes left), or 0 when it is
 * ill-formed: overlong forms, surrogates and code points past U+10FFFF included.
 */
export function utf8Length(p: usize, n: usize): u32 {
  const b = <u32>load<u8>(p);
  const len: u32 = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || <usize>len > n) return 0;
  let cp: u32 = len == 1 ? b : len == 2 ? b & 0x1f : len == 3 ? b & 0x0f : b & 0x07;
  for (let i: u32 = 1; i < len; i++) {
    const c = <u32>load<u8>(p + <usize>i);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  const least: u32 = len == 1 ? 0 : len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (cp < least || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/**
 * `len` bytes at `ptr` decoded as UTF-8, each ill-formed byte becoming U+FFFD.
 * (AssemblyScript's String.UTF8.decode stops at the first ill-formed byte instead.)
 */
export function decodeUtf8(ptr: usize, len: usize): string {
  // ASCII, the common case (keys, identifiers): one allocation, no decoding.
  let ascii = true;
  for (let i: usize = 0; i < len; i++) {
    if (load<u8>(ptr + i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    const out = changetype<string>(__new(len << 1, idof<string>()));
    for (let i: usize = 0; i < len; i++) store<u16>(changetype<usize>(out) + (i << 1), <u16>load<u8>(ptr + i));
    return out;
  }
  const units = new Uint16Array(<i32>len); // never more UTF-16 units than UTF-8 bytes
  let n = 0;
  let i: usize = 0;
  while (i < len) {
    const k = utf8Length(ptr + i, len - i);
    if (k == 0) {
      units[n++] = 0xfffd;
      i++;
      continue;
    }
    let cp = <u32>load<u8>(ptr + i);
    if (k > 1) {
      cp &= k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07;
      for (let j: u32 = 1; j < k; j++) cp = (cp << 6) | (<u32>load<u8>(ptr + i + <usize>j) & 0x3f);
    }
    if (cp >= 0x10000) {
      units[n++] = <u16>(0xd800 + ((cp - 0x10000) >> 10));
      units[n++] = <u16>(0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else units[n++] = <u16>cp;
    i += <usize>k;
  }
  return String.UTF16.decodeUnsafe(units.dataStart, <usize>n << 1);
}

/** `bytes` decoded as UTF-8 (each ill-formed byte becomes U+FFFD). */
export function text(bytes: Uint8Array): string {
  return decodeUtf8(bytes.dataStart, <usize>bytes.length);
}

/** Why a writer failed. */
export enum WriterFailure {
  None = 0,
  /** More bytes than the writer's limit (PDK_TOO_LARGE). */
  Limit = 1,
  /** The JSON writer was misused (PDK_BAD_JSON). */
  BadJson = 2,
}

/**
 * Appends bytes up to `limit` (default and most: 2^30 - 1, a region's cap). After any
 * failure every append is refused, so a caller checks once, at the end (`failed`).
 */
export class ByteWriter {
  private buf: Uint8Array;
  /** Bytes written. */
  length: i32 = 0;
  /** Why the writer failed, or None. */
  failure: WriterFailure = WriterFailure.None;
  readonly limit: u32;

  constructor(limit: u32 = 0) {
    this.limit = limit == 0 || limit > MAX_REGION ? MAX_REGION : limit;
    this.buf = new Uint8Array(64);
  }

  get failed(): bool {
    return this.failure != WriterFailure.None;
  }

  /** Marks the writer failed (the first reason stays); returns false. */
  fail(why: WriterFailure): bool {
    if (this.failure == WriterFailure.None) this.failure = why;
    return false;
  }

  private reserve(n: u32): bool {
    if (this.failed) return false;
    if (n > this.limit - <u32>this.length) return this.fail(WriterFailure.Limit);
    const need = <u32>this.length + n;
    if (need > <u32>this.buf.length) {
      let cap = <u32>this.buf.length;
      while (cap < need) cap = cap > this.limit / 2 ? this.limit : cap * 2;
      const grown = new Uint8Array(<i32>cap);
      memory.copy(grown.dataStart, this.buf.dataStart, <usize>this.length);
      this.buf = grown;
    }
    return true;
  }

  /** Appends `n` bytes at address `ptr`. */
  writeRaw(ptr: usize, n: u32): bool {
    if (!this.reserve(n)) return false;
    memory.copy(this.buf.dataStart + <usize>this.length, ptr, <usize>n);
    this.length += <i32>n;
    return true;
  }

  /** Appends bytes. */
  write(bytes: Uint8Array): bool {
    return this.writeRaw(bytes.dataStart, <u32>bytes.length);
  }

  /** Appends one byte. */
  byte(b: u8): bool {
    if (!this.reserve(1)) return false;
    this.buf[this.length++] = b;
    return true;
  }

  /** Appends `s` as UTF-8. */
  string(s: string): bool {
    return this.write(utf8(s));
  }

  /** Appends a u32, little-endian. */
  u32(v: u32): bool {
    if (!this.reserve(4)) return false;
    store<u32>(this.buf.dataStart + <usize>this.length, v);
    this.length += 4;
    return true;
  }

  /** Appends a `field`: a u32 length, then the bytes. */
  field(bytes: Uint8Array): bool {
    return this.u32(<u32>bytes.length) && this.write(bytes);
  }

  /** A copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written as UTF-8 text. */
  toString(): string {
    return decodeUtf8(this.buf.dataStart, <usize>this.length);
  }
}

/** Reads the host-call encoding; any read past the end fails the reader for good. */
export class ByteReader {
  pos: i32 = 0;
  failed: bool = false;

  constructor(readonly bytes: Uint8Array) {}

  /** Bytes left. */
  get remaining(): i32 {
    return this.bytes.length - this.pos;
  }

  /** A little-endian u32 (0, and the reader failed, when fewer than 4 bytes are left). */
  u32(): u32 {
    if (this.failed || this.remaining < 4) {
      this.failed = true;
      return 0;
    }
    const v = load<u32>(this.bytes.dataStart + <usize>this.pos);
    this.pos += 4;
    return v;
  }

  /** A `field`'s bytes (empty, and the reader failed, when it runs past the end). */
  field(): Uint8Array {
    const n = this.u32();
    if (this.failed || n > <u32>this.remaining) {
      this.failed = true;
      return new Uint8Array(0);
    }
    const out = this.bytes.slice(this.pos, this.pos + <i32>n);
    this.pos += <i32>n;
    return out;
  }

  /** The bytes left (the `rest` piece); the reader is then at its end. */
  rest(): Uint8Array {
    const out = this.failed ? new Uint8Array(0) : this.bytes.slice(this.pos);
    this.pos = this.bytes.length;
    return out;
  }
}
