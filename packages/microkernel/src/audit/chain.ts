/**
 * The chain check, apart from I/O: given one line's bytes at a time, decides whether
 * it is a well-formed record whose hash is right and which continues the records
 * before it. Verification and crash recovery both run every line through it.
 *
 * The fast path reads fixed offsets and hashes the body once; it allocates the two
 * 64-character hash strings it compares and nothing else. No JSON parsing happens here.
 * Where the native module loads (native.ts), {@link ChainChecker.checkRun} makes the same
 * check of a whole run of lines in one call, without a string per line.
 */
import { writeLatin1 } from './bytes.js';
import { GENESIS_HASH, HASH_OPEN, LINE_CLOSE, LINE_START, PREV_OPEN, TAIL_LENGTH, TIMESTAMP_LENGTH, TYPE_OPEN, sha256Hex } from './format.js';
import { nativeChainModule } from './native.js';

/** Where a chain starts: the seq and hash of the record before the first one checked. */
export interface ChainAnchor {
  readonly seq: number;
  readonly hash: string;
}

/** The anchor of a whole log: nothing before seq 1. */
export const GENESIS_ANCHOR: ChainAnchor = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** Why a line was refused. */
export interface ChainFault {
  readonly code: 'FO_AUDIT_RECORD_CORRUPT' | 'FO_AUDIT_CHAIN_BROKEN';
  readonly message: string;
  /**
   * 0-based position (among the lines checked) of the first record that is not part of
   * the chain. Usually the line being checked; earlier when that line continues a
   * record before its predecessor, which makes the records in between insertions.
   */
  readonly firstBad: number;
  /**
   * False for a break found within {@link RECENT} lines of lines accepted by
   * {@link ChainChecker.checkRun}: its explanation (message, firstBad) looks back at
   * records that run did not keep, and may be wrong. Re-check without runs to name it.
   */
  readonly exact: boolean;
}

/** Type codes {@link ChainChecker.check} returns for good lines: the first letter of the type. */
export const TYPE_CODE = { event: 0x65, checkpoint: 0x63, recovery: 0x72, segment: 0x73 } as const;

const START = Buffer.from(`${LINE_START}`, 'latin1');
const TS_OPEN = Buffer.from(',"ts":"', 'latin1');
const PREV = Buffer.from(PREV_OPEN, 'latin1');
const TYPE = Buffer.from(TYPE_OPEN, 'latin1');
const HASH = Buffer.from(HASH_OPEN, 'latin1');
const CLOSE = Buffer.from(LINE_CLOSE, 'latin1');
// `{"seq":1` + ts + prev + type + `x"` + tail: the shortest line the format allows.
const MIN_LINE = START.length + 1 + TS_OPEN.length + TIMESTAMP_LENGTH + PREV.length + 64 + TYPE.length + 2 + TAIL_LENGTH;
/** How many of the last good records a break is explained against (a repeat of one, or records inserted after one). */
const RECENT = 4096;
const LOWER_HEX_64 = /^[0-9a-f]{64}$/;
// The whole type word with its closing quote, by first letter.
const TYPE_WORDS: Readonly<Record<number, Buffer>> = Object.fromEntries(
  Object.entries(TYPE_CODE).map(([word, code]) => [code, Buffer.from(`${word}"`, 'latin1')]),
);

// A plain loop: Buffer#compare validates its arguments on every call, which cost more
// than the comparison itself for these 2- to 10-byte constants.
// Buffer#latin1Slice is toString('latin1') without the argument checks (present in every
// supported Node, not in the type definitions).
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (start: number, end: number) => string }).latin1Slice;
function latin1(buf: Buffer, start: number, end: number): string {
  return latin1Slice === undefined ? buf.toString('latin1', start, end) : latin1Slice.call(buf, start, end);
}

function has(buf: Buffer, at: number, expected: Buffer): boolean {
  for (let i = 0; i < expected.length; i += 1) if (buf[at + i] !== expected[i]) return false;
  return true;
}

/**
 * Checks lines one by one against the chain. After a fault, {@link fault} says why and
 * the checker must not be used further.
 */
export class ChainChecker {
  /** Seq of the last good record (the anchor's before any). */
  seq: number;
  /** Hash of the last good record. */
  hash: string;
  /** Lines checked so far, good ones; the next line's position. */
  position = 0;
  /** Set when {@link check} returns 0. */
  fault: ChainFault | undefined;
  // The last RECENT good records, to explain a break (a duplicate or an insertion).
  private readonly recentHash: string[] = new Array<string>(RECENT).fill('');
  private readonly recentSeq: number[] = new Array<number>(RECENT).fill(-1);

  private readonly anchor: ChainAnchor;
  // The position after the last line checkRun accepted: the history before it has gaps.
  private runEnd = 0;
  // checkRun's exchange with the native check, made on its first use.
  private native: { readonly io: Float64Array; readonly hash: Buffer } | undefined;

  constructor(anchor: ChainAnchor = GENESIS_ANCHOR) {
    this.anchor = anchor;
    this.seq = anchor.seq;
    this.hash = anchor.hash;
  }

  /**
   * Checks the line `buf[start, end)`, newline excluded.
   * @returns the record type's code ({@link TYPE_CODE}) when the line is a good next
   *   record, 0 when it is not (see {@link fault})
   */
  check(buf: Buffer, start: number, end: number): number {
    if (end - start < MIN_LINE) return this.corrupt(`line is ${end - start} bytes, shorter than any record`);
    if (!has(buf, start, START)) return this.corrupt('line does not start with {"seq":');
    let at = start + START.length;
    let seq = 0;
    const digitsStart = at;
    for (let byte = buf[at] ?? 0; byte >= 0x30 && byte <= 0x39; byte = buf[++at] ?? 0) seq = seq * 10 + (byte - 0x30);
    const digits = at - digitsStart;
    if (digits === 0 || digits > 15 || (digits > 1 && buf[digitsStart] === 0x30)) return this.corrupt('seq is not a decimal integer');
    if (!has(buf, at, TS_OPEN)) return this.corrupt('seq is not followed by "ts"');
    at += TS_OPEN.length + TIMESTAMP_LENGTH;
    if (!has(buf, at, PREV)) return this.corrupt('ts is not a 24-character timestamp followed by "prev"');
    const prevAt = at + PREV.length;
    at = prevAt + 64;
    if (!has(buf, at, TYPE)) return this.corrupt('prev is not 64 characters followed by "type"');
    const typeCode = buf[at + TYPE.length] ?? 0;
    const word = TYPE_WORDS[typeCode];
    if (word === undefined || !has(buf, at + TYPE.length, word)) return this.corrupt('type is not event, checkpoint, recovery or segment');
    const bodyEnd = end - TAIL_LENGTH;
    if (bodyEnd <= at + TYPE.length || !has(buf, bodyEnd, HASH) || !has(buf, end - CLOSE.length, CLOSE)) {
      return this.corrupt('line does not end with ,"hash":"<64 hex>"}');
    }
    const stored = latin1(buf, bodyEnd + HASH.length, end - CLOSE.length);
    const computed = sha256Hex(buf.subarray(start, bodyEnd));
    if (computed !== stored) return this.corrupt(`its bytes hash to ${computed.slice(0, 16)}… but its hash field says ${stored.slice(0, 16)}…`);
    const prev = latin1(buf, prevAt, prevAt + 64);
    if (seq !== this.seq + 1 || prev !== this.hash) return this.broken(seq, prev, stored);
    const slot = this.position % RECENT;
    this.recentHash[slot] = stored;
    this.recentSeq[slot] = seq;
    this.position += 1;
    this.seq = seq;
    this.hash = stored;
    return typeCode;
  }

  /**
   * Checks the lines of `buf` from `start` on natively, as {@link check} would one by one,
   * while each is a good next event or segment record. Stops before a line it leaves to
   * {@link check}: one not complete in `[start, end)`, starting at `limit` or later, longer
   * than `maxLine` (newline included), bad, a checkpoint or recovery record, or the
   * record with seq `stopSeq` (0: none). Accepted lines count in {@link position},
   * {@link seq} and {@link hash} as if checked one by one, but are not kept to explain a
   * later break ({@link ChainFault.exact}).
   *
   * @returns the index in `buf` where it stopped: `start` when it accepted nothing, or
   *   when the native module is not loaded
   */
  checkRun(buf: Buffer, start: number, end: number, limit: number, maxLine: number, stopSeq: number): number {
    const check = nativeChainModule()?.check;
    // An anchor that is not a hash (a partial log's first prev) is continued in JS first.
    if (check === undefined || !LOWER_HEX_64.test(this.hash) || !Number.isSafeInteger(this.seq) || this.seq < 0 || limit <= start) return start;
    this.native ??= { io: new Float64Array(3), hash: Buffer.alloc(64) };
    const { io, hash } = this.native;
    io[0] = this.seq;
    // A seq no line can have (15 digits at most) stops nothing.
    io[1] = Number.isSafeInteger(stopSeq) && stopSeq > 0 ? stopSeq : 0;
    io[2] = 0;
    writeLatin1(hash, this.hash, 0);
    const stop = check(buf, start, end, limit, maxLine, io, hash);
    const lines = io[2] ?? 0;
    if (lines > 0) {
      this.seq = io[0] ?? 0;
      this.hash = latin1(hash, 0, 64);
      this.position += lines;
      this.runEnd = this.position;
    }
    return stop;
  }

  private corrupt(reason: string): 0 {
    this.fault = { code: 'FO_AUDIT_RECORD_CORRUPT', message: `record is corrupt: ${reason}`, firstBad: this.position, exact: true };
    return 0;
  }

  /** Names the first record off the chain: this one, unless it continues an earlier record. */
  private broken(seq: number, prev: string, stored: string): 0 {
    const exact = this.position - this.runEnd >= Math.min(this.position, RECENT);
    const expected = `expected seq ${this.seq + 1} continuing hash ${this.hash.slice(0, 16)}…, found seq ${seq} continuing ${prev.slice(0, 16)}…`;
    const known = Math.min(this.position, RECENT);
    for (let back = 1; back <= known; back += 1) {
      const slot = (this.position - back) % RECENT;
      if (this.recentHash[slot] === stored) {
        this.fault = { code: 'FO_AUDIT_CHAIN_BROKEN', message: `record repeats the record ${back} lines earlier (${expected})`, firstBad: this.position, exact };
        return 0;
      }
    }
    // Does it continue an earlier record (or the anchor, back = position + 1)? Then the lines between were inserted.
    for (let back = 2; back <= known + 1; back += 1) {
      const slot = (this.position - back) % RECENT;
      const continues =
        back === this.position + 1 ? this.anchor.hash === prev && this.anchor.seq === seq - 1 : back <= known && this.recentHash[slot] === prev && this.recentSeq[slot] === seq - 1;
      if (continues) {
        const inserted = back - 1;
        const message =
          inserted === 1
            ? 'record was inserted: the record after it continues the record before it'
            : `record and the ${inserted - 1} after it were inserted: the record ${inserted} lines later continues the record before this one`;
        this.fault = { code: 'FO_AUDIT_CHAIN_BROKEN', message, firstBad: this.position - inserted, exact };
        return 0;
      }
    }
    this.fault = { code: 'FO_AUDIT_CHAIN_BROKEN', message: `record does not continue the chain (${expected}): a record before it was deleted, or records were reordered`, firstBad: this.position, exact };
    return 0;
  }
}

/** Seq, prev and hash of a line checked on its own (its hash is right, its links are not checked). */
export interface StandaloneRecord {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  readonly typeCode: number;
}

/**
 * Checks one line without knowing the record before it: its form and its hash. Used
 * for the last record of a rotated segment, which anchors the next segment.
 *
 * @returns the record's seq, prev and hash, or the reason it is corrupt
 */
export function checkStandalone(buf: Buffer, start: number, end: number): StandaloneRecord | string {
  let at = start + START.length;
  let seq = 0;
  for (let byte = buf[at] ?? 0; byte >= 0x30 && byte <= 0x39 && at < end; byte = buf[++at] ?? 0) seq = seq * 10 + (byte - 0x30);
  const prevAt = at + TS_OPEN.length + TIMESTAMP_LENGTH + PREV.length;
  if (seq < 1 || prevAt + 64 > end) return 'record is corrupt: too short';
  const checker = new ChainChecker({ seq: seq - 1, hash: buf.toString('latin1', prevAt, prevAt + 64) });
  const typeCode = checker.check(buf, start, end);
  return typeCode === 0 ? (checker.fault?.message ?? 'record is corrupt') : { seq, prev: buf.toString('latin1', prevAt, prevAt + 64), hash: checker.hash, typeCode };
}
