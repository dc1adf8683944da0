const utf8 = new TextEncoder();

/** Bytes an unsigned LEB128 encoding of `value` takes (value: a u32 or safe integer). */
export function ulebLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length += 1;
  }
  return length;
}

/** Bytes a signed LEB128 encoding of `value` takes (value: a safe integer). */
export function slebLength(value: number): number {
  let length = 1;
  while (value >= 0x40 || value < -0x40) {
    value = Math.floor(value / 128);
    length += 1;
  }
  return length;
}

/**
 * A growable byte buffer that writes the WebAssembly binary primitives, always in
 * their shortest (canonical) LEB128 form.
 */
export class ByteWriter {
  #buffer: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  /** @param capacity initial capacity in bytes (default 256); the buffer doubles as needed */
  constructor(capacity = 256) {
    this.#buffer = new Uint8Array(Math.max(16, capacity));
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#buffer.subarray(0, this.length));
    this.#buffer = grown;
  }

  u8(byte: number): this {
    this.reserve(1);
    this.#buffer[this.length++] = byte;
    return this;
  }

  /** Writes an unsigned LEB128 (a u32, or a u64 given as a safe integer). */
  uleb(value: number): this {
    this.reserve(10);
    const buffer = this.#buffer;
    while (value >= 0x80) {
      buffer[this.length++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    buffer[this.length++] = value;
    return this;
  }

  /** Writes a signed LEB128 of a safe integer (s32, s33 or an s64 within 2^53). */
  sleb(value: number): this {
    this.reserve(10);
    const buffer = this.#buffer;
    for (;;) {
      const low = ((value % 128) + 128) % 128;
      value = Math.floor(value / 128);
      const done = (value === 0 && (low & 0x40) === 0) || (value === -1 && (low & 0x40) !== 0);
      buffer[this.length++] = done ? low : low | 0x80;
      if (done) return this;
    }
  }

  /** Writes a signed LEB128 of a 64-bit integer given as a bigint. */
  sleb64(value: bigint): this {
    this.reserve(10);
    const buffer = this.#buffer;
    for (;;) {
      const low = Number(value & 0x7fn);
      value >>= 7n;
      const done = (value === 0n && (low & 0x40) === 0) || (value === -1n && (low & 0x40) !== 0);
      buffer[this.length++] = done ? low : low | 0x80;
      if (done) return this;
    }
  }

  /** Copies `bytes` in. */
  bytes(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.#buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** Writes a name: its UTF-8 byte length, then the bytes. */
  name(text: string): this {
    const encoded = utf8.encode(text);
    return this.uleb(encoded.length).bytes(encoded);
  }

  /** Writes a section: its id, its payload's size and the payload. */
  section(id: number, payload: Uint8Array): this {
    return this.u8(id).uleb(payload.length).bytes(payload);
  }

  /** A view of the bytes written; later writes may or may not show through it. */
  view(): Uint8Array {
    return this.#buffer.subarray(0, this.length);
  }

  /** A copy of the bytes written, exactly as long as they are. */
  finish(): Uint8Array {
    return this.#buffer.slice(0, this.length);
  }
}
