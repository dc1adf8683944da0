/**
 * A small, strict DER (ITU-T X.690 Distinguished Encoding Rules) reader and writer:
 * just what X.509 certificates need. The reader accepts only DER: definite, minimal
 * lengths, low tag numbers, minimal integers, booleans 0x00/0xff, and constructed
 * contents that its children fill exactly. Anything else is a {@link DerError}, which
 * callers turn into a ForgeError naming the structure they were reading.
 */

/** Universal tags (the identifier octet, class and constructed bit included). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** The identifier octet of a context-specific tag `[n]`. */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** A malformed DER input. Internal: callers rethrow it as a ForgeError with context. */
export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One decoded type-length-value element. */
export interface DerElement {
  /** The identifier octet. */
  readonly tag: number;
  /** The whole encoding, header included. */
  readonly bytes: Buffer;
  /** The contents octets. */
  readonly value: Buffer;
}

/** Reads the element starting at `offset`. */
export function readElement(input: Buffer, offset = 0): DerElement {
  if (offset >= input.length) throw new DerError('expected an element, found the end of the data');
  const tag = input[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high tag numbers are not used here (identifier 0x${tag.toString(16)})`);
  let cursor = offset + 1;
  if (cursor >= input.length) throw new DerError('element header is cut short');
  const first = input[cursor] ?? 0;
  cursor += 1;
  let length: number;
  if (first < 0x80) length = first;
  else if (first === 0x80) throw new DerError('indefinite lengths are not DER');
  else {
    const count = first & 0x7f;
    if (count > 4) throw new DerError(`length of ${count} octets is too large`);
    if (cursor + count > input.length) throw new DerError('element length is cut short');
    length = 0;
    for (let index = 0; index < count; index += 1) length = length * 256 + (input[cursor + index] ?? 0);
    cursor += count;
    if (length < 0x80 || (input[cursor - count] ?? 0) === 0) throw new DerError('length is not minimally encoded');
  }
  const end = cursor + length;
  if (end > input.length) throw new DerError(`element claims ${length} bytes but only ${input.length - cursor} remain`);
  return { tag, bytes: input.subarray(offset, end), value: input.subarray(cursor, end) };
}

/** Reads exactly one element that spans all of `input`. */
export function readSingle(input: Buffer): DerElement {
  const element = readElement(input, 0);
  if (element.bytes.length !== input.length) throw new DerError(`${input.length - element.bytes.length} bytes follow the element`);
  return element;
}

/** The children of a constructed element, which must fill its contents exactly. */
export function childrenOf(element: DerElement): DerElement[] {
  if ((element.tag & 0x20) === 0) throw new DerError(`expected a constructed element, found identifier 0x${element.tag.toString(16)}`);
  const out: DerElement[] = [];
  let offset = 0;
  while (offset < element.value.length) {
    const child = readElement(element.value, offset);
    out.push(child);
    offset += child.bytes.length;
  }
  return out;
}

/** Requires `element` to have `tag`. */
export function expectTag(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (element === undefined) throw new DerError(`${what} is missing`);
  if (element.tag !== tag) throw new DerError(`${what}: expected identifier 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`);
  return element;
}

/** The children of a SEQUENCE. */
export function sequence(element: DerElement | undefined, what: string): DerElement[] {
  return childrenOf(expectTag(element, TAG.SEQUENCE, what));
}

/** An INTEGER's two's-complement contents, checked to be minimal. */
export function integerBytes(element: DerElement | undefined, what: string, tag: number = TAG.INTEGER): Buffer {
  const value = expectTag(element, tag, what).value;
  if (value.length === 0) throw new DerError(`${what}: empty integer`);
  const first = value[0] ?? 0;
  const second = value[1] ?? 0;
  if (value.length > 1 && ((first === 0x00 && second < 0x80) || (first === 0xff && second >= 0x80))) {
    throw new DerError(`${what}: integer is not minimally encoded`);
  }
  return value;
}

/** A non-negative INTEGER that fits a JavaScript number (at most 2^31 - 1). */
export function smallInteger(element: DerElement | undefined, what: string): number {
  const value = integerBytes(element, what);
  if ((value[0] ?? 0) >= 0x80) throw new DerError(`${what}: expected a non-negative integer`);
  if (value.length > 4) throw new DerError(`${what}: integer is too large`);
  let out = 0;
  for (const byte of value) out = out * 256 + byte;
  if (out > 0x7fffffff) throw new DerError(`${what}: integer is too large`);
  return out;
}

/** A BOOLEAN (DER: 0x00 or 0xff only). */
export function booleanValue(element: DerElement | undefined, what: string): boolean {
  const value = expectTag(element, TAG.BOOLEAN, what).value;
  if (value.length !== 1 || (value[0] !== 0x00 && value[0] !== 0xff)) throw new DerError(`${what}: a DER boolean is one byte, 0x00 or 0xff`);
  return value[0] === 0xff;
}

/** An OBJECT IDENTIFIER in dotted form. */
export function oidValue(element: DerElement | undefined, what: string): string {
  const value = expectTag(element, TAG.OID, what).value;
  if (value.length === 0 || value.length > 64) throw new DerError(`${what}: object identifier has a bad length`);
  const arcs: number[] = [];
  let current = 0;
  let started = false;
  for (const byte of value) {
    if (!started && byte === 0x80) throw new DerError(`${what}: object identifier arc is not minimally encoded`);
    started = true;
    current = current * 128 + (byte & 0x7f);
    if (current > Number.MAX_SAFE_INTEGER / 128) throw new DerError(`${what}: object identifier arc is too large`);
    if ((byte & 0x80) === 0) {
      arcs.push(current);
      current = 0;
      started = false;
    }
  }
  if (started) throw new DerError(`${what}: object identifier is cut short`);
  const head = arcs[0] ?? 0;
  const first = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [first, head - first * 40, ...arcs.slice(1)].join('.');
}

/** A BIT STRING's bytes; `unusedBits` is how many low bits of the last byte are padding. */
export function bitString(element: DerElement | undefined, what: string): { readonly unusedBits: number; readonly bytes: Buffer } {
  const value = expectTag(element, TAG.BIT_STRING, what).value;
  const unusedBits = value[0];
  if (unusedBits === undefined || unusedBits > 7 || (value.length === 1 && unusedBits !== 0)) throw new DerError(`${what}: malformed bit string`);
  const bytes = value.subarray(1);
  const last = bytes[bytes.length - 1] ?? 0;
  if (unusedBits > 0 && (last & ((1 << unusedBits) - 1)) !== 0) throw new DerError(`${what}: bit string padding bits are not zero`);
  return { unusedBits, bytes };
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** A UTCTime or GeneralizedTime (RFC 5280 forms: seconds, `Z`, no fractions), in ms since the epoch. */
export function timeValue(element: DerElement | undefined, what: string): number {
  if (element === undefined) throw new DerError(`${what} is missing`);
  const text = element.value.toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (element.tag === TAG.UTC_TIME && (match = UTC_TIME.exec(text)) !== null) {
    const yy = Number(match[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (element.tag === TAG.GENERALIZED_TIME && (match = GENERALIZED_TIME.exec(text)) !== null) {
    year = Number(match[1]);
  } else {
    throw new DerError(`${what}: expected a UTCTime or GeneralizedTime like 250101120000Z, found ${JSON.stringify(text.slice(0, 40))}`);
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new DerError(`${what}: ${text} is not a valid date`);
  }
  return ms;
}

/** A directory-string value (UTF8String, PrintableString, IA5String, T61String, BMPString, UniversalString). */
export function stringValue(element: DerElement | undefined, what: string): string {
  if (element === undefined) throw new DerError(`${what} is missing`);
  switch (element.tag) {
    case TAG.UTF8_STRING: {
      const text = element.value.toString('utf8');
      if (!Buffer.from(text, 'utf8').equals(element.value)) throw new DerError(`${what}: not valid UTF-8`);
      return text;
    }
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.T61_STRING:
      return element.value.toString('latin1');
    case TAG.BMP_STRING: {
      if (element.value.length % 2 !== 0) throw new DerError(`${what}: odd-length BMPString`);
      const swapped = Buffer.from(element.value);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case TAG.UNIVERSAL_STRING: {
      if (element.value.length % 4 !== 0) throw new DerError(`${what}: malformed UniversalString`);
      let out = '';
      for (let index = 0; index < element.value.length; index += 4) out += String.fromCodePoint(element.value.readUInt32BE(index));
      return out;
    }
    default:
      throw new DerError(`${what}: expected a string, found identifier 0x${element.tag.toString(16)}`);
  }
}

// ---------------------------------------------------------------------------------
// Writer

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one element from its identifier octet and contents. */
export function encode(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthOctets(value.length), value]);
}

/** Builders for the DER values certificates use. */
export const der = {
  sequence: (...parts: readonly Uint8Array[]): Buffer => encode(TAG.SEQUENCE, Buffer.concat(parts)),
  set: (...parts: readonly Uint8Array[]): Buffer => encode(TAG.SET, Buffer.concat(parts)),
  /** A non-negative INTEGER from its unsigned big-endian bytes or a small number. */
  integer(value: Uint8Array | number): Buffer {
    let bytes: Buffer;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a DER integer`);
      const digits: number[] = [];
      for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
      bytes = Buffer.from(digits.length === 0 ? [0] : digits);
    } else {
      let start = 0;
      while (start < value.length - 1 && value[start] === 0) start += 1;
      bytes = Buffer.from(value.subarray(start));
      if (bytes.length === 0) bytes = Buffer.from([0]);
    }
    if ((bytes[0] ?? 0) >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return encode(TAG.INTEGER, bytes);
  },
  boolean: (value: boolean): Buffer => encode(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00])),
  null: (): Buffer => encode(TAG.NULL, Buffer.alloc(0)),
  oid(dotted: string): Buffer {
    const arcs = dotted.split('.').map(Number);
    const [first = 0, second = 0, ...rest] = arcs;
    const out: number[] = [];
    for (const arc of [first * 40 + second, ...rest]) {
      const group: number[] = [arc % 128];
      for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) group.unshift((value % 128) | 0x80);
      out.push(...group);
    }
    return encode(TAG.OID, Buffer.from(out));
  },
  bitString: (bytes: Uint8Array, unusedBits = 0): Buffer => encode(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes])),
  octetString: (bytes: Uint8Array): Buffer => encode(TAG.OCTET_STRING, bytes),
  utf8: (text: string): Buffer => encode(TAG.UTF8_STRING, Buffer.from(text, 'utf8')),
  /** UTCTime for years 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5). */
  time(ms: number): Buffer {
    const iso = new Date(ms).toISOString(); // 2025-01-02T03:04:05.000Z
    const year = Number(iso.slice(0, 4));
    const body = `${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
    return year >= 1950 && year < 2050
      ? encode(TAG.UTC_TIME, Buffer.from(`${iso.slice(2, 4)}${body}`, 'latin1'))
      : encode(TAG.GENERALIZED_TIME, Buffer.from(`${iso.slice(0, 4)}${body}`, 'latin1'));
  },
  /** `[n] EXPLICIT inner`. */
  explicit: (n: number, inner: Uint8Array): Buffer => encode(contextTag(n, true), inner),
  /** `[n] IMPLICIT` primitive contents. */
  implicit: (n: number, value: Uint8Array): Buffer => encode(contextTag(n, false), value),
};
