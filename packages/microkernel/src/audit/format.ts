/**
 * The byte format of an audit record (docs/audit.md is the normative description).
 *
 * A record is one line of UTF-8 JSON:
 *
 * ```
 * {"seq":7,"ts":"2025-01-02T03:04:05.678Z","prev":"<64 hex>","type":"event",<fields>,"hash":"<64 hex>"}\n
 * ```
 *
 * The *body* is every byte of the line before `,"hash":"`. `hash` is the lowercase hex
 * sha256 of the body, and `prev` is the previous record's `hash` (64 zeros for the
 * first record). The line always ends with exactly the 75 bytes `,"hash":"<64 hex>"}`
 * and a newline, and always begins with `{"seq":<decimal>,"ts":"<24 characters>","prev":"<64 hex>","type":"`,
 * so a verifier finds every field it checks at a known offset and never needs a JSON
 * parser, except to read a checkpoint's signature.
 *
 * Strings are written by hand (no JSON.stringify per record), escaped so that the file
 * is also safe to print: besides what JSON requires, C1 controls, DEL, U+2028/U+2029
 * and bidirectional overrides are written as `\uXXXX`.
 */
import { hash } from 'node:crypto';

/** The `prev` of the first record: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bytes that start every line. */
export const LINE_START = '{"seq":';
/** Bytes between the timestamp and the previous hash. */
export const PREV_OPEN = '","prev":"';
/** Bytes between the previous hash and the record type. */
export const TYPE_OPEN = '","type":"';
/** Bytes that open the hash field; the body ends just before them. */
export const HASH_OPEN = ',"hash":"';
/** Bytes that close a line after the hash. */
export const LINE_CLOSE = '"}';
/** Length of `,"hash":"<64 hex>"}`: the fixed tail of every line, newline excluded. */
export const TAIL_LENGTH = HASH_OPEN.length + 64 + LINE_CLOSE.length;
/** Length of an ISO-8601 UTC timestamp with milliseconds, `2025-01-02T03:04:05.678Z`. */
export const TIMESTAMP_LENGTH = 24;

/** The record types. `event` records are what the host audits; the others keep the log itself. */
export const RECORD_TYPES = ['event', 'checkpoint', 'recovery', 'segment'] as const;
/** One of {@link RECORD_TYPES}. */
export type RecordType = (typeof RECORD_TYPES)[number];

/** Latest time a timestamp can show and keep 24 characters: 9999-12-31T23:59:59.999Z. */
const MAX_TIME = 253_402_300_799_999;

/** The lowercase hex sha256 of some bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data);
}

/**
 * `ms` as `YYYY-MM-DDTHH:mm:ss.sssZ`, clamped to years 1970 to 9999 so that the
 * timestamp always has {@link TIMESTAMP_LENGTH} characters.
 */
export function formatTimestamp(ms: number): string {
  const clamped = Number.isFinite(ms) ? Math.min(Math.max(Math.trunc(ms), 0), MAX_TIME) : 0;
  return new Date(clamped).toISOString();
}

/**
 * The log's one timestamp source: `clock()` read once per record, formatted once per
 * distinct millisecond (records come many per ms): {@link now} returns the same string
 * until the millisecond changes, so callers may key caches on it (report-cache.ts).
 */
export class TimestampCache {
  #ms = Number.NaN;
  #text = '';
  constructor(private readonly clock: () => number) {}
  now(): string {
    return this.at(this.clock());
  }
  /** The timestamp of `ms`, a time read from the same clock. */
  at(ms: number): string {
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#text = formatTimestamp(ms);
    }
    return this.#text;
  }
}

/** Characters a record string must escape; anything else is written as is. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;
// JSON.stringify already escapes quotes, backslashes, C0 controls and lone surrogates.
const EXTRA_ESCAPE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * A JSON string literal for `text`, quotes included, that is also safe to print to a
 * terminal: control, DEL, C1, line/paragraph separator and bidi characters become
 * `\uXXXX`. JSON.parse returns exactly `text`.
 */
export function jsonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  return JSON.stringify(text).replace(EXTRA_ESCAPE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The start of every body: `{"seq":N,"ts":"…","prev":"…","type":"<type>"`. */
export function bodyHead(seq: number, timestamp: string, prev: string, type: RecordType): string {
  return `${LINE_START}${seq},"ts":"${timestamp}${PREV_OPEN}${prev}${TYPE_OPEN}${type}"`;
}

/** The text of the statement a checkpoint signs: it attests record `seq` with hash `hash` and everything before it. */
export function checkpointStatement(seq: number, recordHash: string): string {
  return `forgeone-audit-checkpoint/v1\n${seq}\n${recordHash}\n`;
}
