import { ForgeError } from '@forgeone/common';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Throws FO_RUNTIME_MALFORMED_MODULE for the byte at `offset`.
 * @param expected what the binary format requires there
 * @param found what the module holds instead
 */
export function malformed(offset: number, expected: string, found: string): never {
  throw new ForgeError('FO_RUNTIME_MALFORMED_MODULE', `malformed module at byte ${offset}: expected ${expected}, found ${found}`, {
    details: { offset, expected, found },
  });
}

/** Throws FO_RUNTIME_UNSUPPORTED_FEATURE for a construct at `offset`. */
export function unsupported(offset: number, feature: string, construct: string): never {
  throw new ForgeError('FO_RUNTIME_UNSUPPORTED_FEATURE', `unsupported WebAssembly feature at byte ${offset}: ${construct} belongs to ${feature}, which ForgeOne does not instrument`, {
    details: { offset, feature, construct },
  });
}

/** `0x1f` for error messages. */
export function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * A cursor over WebAssembly binary bytes, decoding the format's primitives strictly:
 * LEB128 integers must fit their width with no stray high bits (as the spec and V8
 * require), and reading past `end` is refused.
 *
 * SECURITY: decoding exactly as the spec does means our instruction boundaries are the
 * engine's for every module the engine accepts, so instrumentation cannot be steered
 * into a place the engine reads differently.
 *
 * Every failure is FO_RUNTIME_MALFORMED_MODULE with the absolute byte offset.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset one past the last readable byte. */
  end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  /** True when every byte up to `end` has been read. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads one byte; `what` names it for the error message. */
  u8(what: string): number {
    if (this.pos >= this.end) this.#eof(what);
    return this.bytes[this.pos++] as number;
  }

  /** Reads an unsigned LEB128 integer of at most 32 bits. */
  u32(what: string): number {
    const bytes = this.bytes;
    let pos = this.pos;
    if (pos < this.end) {
      const first = bytes[pos] as number;
      if (first < 0x80) {
        this.pos = pos + 1;
        return first;
      }
    }
    const start = pos;
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= this.end) this.#eof(what, start);
      const byte = bytes[pos++] as number;
      if (shift === 28) {
        // The fifth byte carries the top 4 bits; anything above them is malformed.
        if (byte & 0xf0) malformed(start, `${what} (an unsigned 32-bit LEB128)`, 'a value wider than 32 bits or longer than 5 bytes');
        this.pos = pos;
        return (result | (byte << 28)) >>> 0;
      }
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return result >>> 0;
      }
    }
  }

  /** Reads a signed LEB128 integer of at most 32 bits. */
  s32(what: string): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      if (pos >= this.end) this.#eof(what, start);
      byte = bytes[pos++] as number;
      if (shift === 28) {
        // The fifth byte carries bits 28-31; its bits 4-6 must repeat bit 3, the sign.
        const top = byte & 0x78;
        if (byte & 0x80 || (top !== 0 && top !== 0x78)) malformed(start, `${what} (a signed 32-bit LEB128)`, 'a value wider than 32 bits or longer than 5 bytes');
        this.pos = pos;
        return result | (byte << 28);
      }
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    this.pos = pos;
    return byte & 0x40 ? result | (-1 << shift) : result;
  }

  /** Reads a signed 33-bit LEB128 (block types), as a number. */
  s33(what: string): number {
    return this.#signed(what, 5, 33);
  }

  /** Skips a signed LEB128 integer of at most 64 bits (i64.const), checking its form. */
  skipS64(what: string): void {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    for (let index = 0; ; index += 1) {
      if (pos >= this.end) this.#eof(what, start);
      const byte = bytes[pos++] as number;
      if (index === 9) {
        // The tenth byte carries bit 63 only, so it must be 0x00 or 0x7f (sign-extended).
        if (byte !== 0x00 && byte !== 0x7f) malformed(start, `${what} (a signed 64-bit LEB128)`, 'a value wider than 64 bits or longer than 10 bytes');
        break;
      }
      if (byte < 0x80) break;
    }
    this.pos = pos;
  }

  /**
   * Skips an unsigned LEB128 integer of at most 64 bits (a memory64 memarg offset),
   * checking its form exactly: at most 10 bytes, the tenth carrying bit 63 only. Every
   * value up to 2^64 - 1 is valid there, so none may be refused or rounded.
   */
  skipU64(what: string): void {
    const start = this.pos;
    for (let index = 0; ; index += 1) {
      const byte = this.u8(what);
      if (index === 9 && byte > 0x01) malformed(start, `${what} (an unsigned 64-bit LEB128)`, 'a value wider than 64 bits or longer than 10 bytes');
      if (byte < 0x80) return;
    }
  }

  /**
   * Reads an unsigned LEB128 of at most 64 bits (memory64 and table64 limits) as a
   * number. A value above 2^53 is refused as malformed, unless `saturate`: it then reads
   * as Number.MAX_SAFE_INTEGER (2^53 - 1). A 64-bit memory's limits are invalid above
   * 2^48 pages anyway; a 64-bit table's maximum may be any u64 (valid), and every maximum
   * is clamped to the table cap before a module runs, so a maximum read saturated keeps
   * the module's meaning; a minimum above 2^53 stays refused (no engine ForgeOne runs on
   * makes a table that large).
   */
  u64(what: string, saturate = false): number {
    const start = this.pos;
    let result = 0n;
    for (let index = 0; ; index += 1) {
      const byte = this.u8(what);
      if (index === 9 && byte > 0x01) malformed(start, `${what} (an unsigned 64-bit LEB128)`, 'a value wider than 64 bits or longer than 10 bytes');
      result |= BigInt(byte & 0x7f) << BigInt(7 * index);
      if (byte < 0x80) break;
    }
    if (result <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(result);
    if (saturate) return Number.MAX_SAFE_INTEGER;
    return malformed(start, `${what} at most 2^53`, result.toString());
  }

  /**
   * Reads a u32 index and checks it is below `limit`.
   *
   * SECURITY: instrumentation appends a global and a local. An original body naming one
   * of those indices would be invalid, yet valid (and able to refill its fuel) after
   * rewriting; refusing it here keeps every invalid module invalid.
   */
  index(limit: number, what: string): number {
    const at = this.pos;
    const index = this.u32(what);
    if (index >= limit) malformed(at, `${what} below ${limit}`, String(index));
    return index;
  }

  /** Returns a view of the next `length` bytes and moves past them. */
  take(length: number, what: string): Uint8Array {
    if (length > this.end - this.pos) this.#eof(what);
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** Moves past `length` bytes. */
  skip(length: number, what: string): void {
    if (length > this.end - this.pos) this.#eof(what);
    this.pos += length;
  }

  /** Reads a name: a u32 byte length and that many bytes of well-formed UTF-8. */
  name(what: string): string {
    const length = this.u32(`the length of ${what}`);
    const start = this.pos;
    const view = this.take(length, what);
    try {
      return utf8.decode(view);
    } catch {
      return malformed(start, `${what} in UTF-8`, 'bytes that are not valid UTF-8');
    }
  }

  /** Throws for the current position. */
  fail(expected: string, found: string, offset = this.pos): never {
    return malformed(offset, expected, found);
  }

  #signed(what: string, maxBytes: number, bits: number): number {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let result = 0;
    let shift = 0;
    let byte: number;
    for (let index = 0; ; index += 1) {
      if (pos >= this.end) this.#eof(what, start);
      byte = bytes[pos++] as number;
      if (index === maxBytes - 1) {
        // The last byte's bits above the value's width must repeat its sign bit.
        const used = bits - shift; // value bits this byte carries (4 for s32, 5 for s33)
        const rest = (byte & 0x7f) >> (used - 1); // the sign bit and everything above it
        if (byte & 0x80 || (rest !== 0 && rest !== 0x7f >> (used - 1))) {
          malformed(start, `${what} (a signed ${bits}-bit LEB128)`, `a value wider than ${bits} bits or longer than ${maxBytes} bytes`);
        }
      }
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    this.pos = pos;
    // Sign-extend from the last byte's bit 6.
    return byte & 0x40 ? result - 2 ** shift : result;
  }

  #eof(what: string, offset = this.pos): never {
    return malformed(offset, what, this.end === this.bytes.length ? 'the end of the module' : 'the end of its section or body');
  }
}
