/**
 * The byte layouts of forge.* requests and responses, read and written in one place.
 *
 * Every multi-field message uses the same two building blocks, simple enough to write
 * by hand in WAT or C:
 *
 * - `u32`: an unsigned 32-bit integer, little-endian (wasm's own byte order);
 * - `field`: a `u32` byte length followed by that many bytes.
 *
 * A message is a fixed sequence of those, optionally ending in "the rest" (a body or
 * payload that runs to the end of the request). A request that is too short, or has
 * bytes left over where none are expected, is FO_ABI_BAD_REQUEST.
 */
import { ForgeError } from '@forgeone/common';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Decodes well-formed UTF-8, or returns undefined. A BOM is kept as U+FEFF, never
 * stripped, so the text and its bytes always correspond one to one.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** True when `text` holds a C0 control character or DEL (which would garble logs and audit lines). */
export function hasControl(text: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(text);
}

/** Reads one request front to back. Every failure is FO_ABI_BAD_REQUEST naming the field. */
export class RequestReader {
  readonly #call: string;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;

  /** @param call the full call name (`forge.kv_set`), for messages */
  constructor(call: string, bytes: Uint8Array) {
    this.#call = call;
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /** Reads a little-endian u32. */
  u32(field: string): number {
    if (this.remaining < 4) this.#short(field, 4);
    const value = this.#view.getUint32(this.#offset, true);
    this.#offset += 4;
    return value;
  }

  /** Reads a `u32` length and that many bytes (a view into the request, which the handler owns). */
  field(field: string): Uint8Array {
    const length = this.u32(`${field} length`);
    if (this.remaining < length) this.#short(field, length);
    const out = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  /** Reads a field as well-formed UTF-8. */
  text(field: string): string {
    const text = decodeUtf8(this.field(field));
    if (text === undefined) throw badRequest(this.#call, `${field} is not well-formed UTF-8`, field);
    return text;
  }

  /** Everything after what was read. */
  rest(): Uint8Array {
    const out = this.#bytes.subarray(this.#offset);
    this.#offset = this.#bytes.length;
    return out;
  }

  /** Asserts nothing is left. */
  end(): void {
    if (this.remaining !== 0) {
      throw badRequest(this.#call, `expected the request to end at byte ${this.#offset}, found ${this.remaining} more bytes`, 'end');
    }
  }

  #short(field: string, wanted: number): never {
    throw badRequest(this.#call, `expected ${wanted} bytes of ${field} at byte ${this.#offset}, found ${this.remaining}`, field);
  }
}

/** FO_ABI_BAD_REQUEST for `call`. */
export function badRequest(call: string, problem: string, field?: string): ForgeError {
  return new ForgeError('FO_ABI_BAD_REQUEST', `${call}: ${problem}`, { details: { call, ...(field === undefined ? {} : { field }) } });
}

/** Builds one response: collect the parts, then {@link finish} copies them once. */
export class ResponseWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  /** Appends a little-endian u32. */
  u32(value: number): this {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value >>> 0, true);
    return this.raw(out);
  }

  /** Appends a `u32` length and the bytes. */
  field(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** Appends a string as a UTF-8 field. */
  text(value: string): this {
    return this.field(encoder.encode(value));
  }

  /** Appends bytes without a length. */
  raw(bytes: Uint8Array): this {
    this.#parts.push(bytes);
    this.#length += bytes.length;
    return this;
  }

  /** The response bytes. */
  finish(): Uint8Array {
    if (this.#parts.length === 1) return this.#parts[0] as Uint8Array;
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}
