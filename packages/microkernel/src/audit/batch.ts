/**
 * A batch: the records of one group commit, encoded straight into one Buffer. Each
 * record's body is written as UTF-8 into the buffer, hashed in place (a view, not a
 * copy), and closed with its hash, so the writer hands the kernel exactly the bytes
 * that were hashed.
 */
import { HASH_OPEN, LINE_CLOSE, LINE_START, PREV_OPEN, TIMESTAMP_LENGTH, TYPE_OPEN, sha256Hex } from './format.js';

// Buffer#utf8Write and #latin1Write are write(text, offset, encoding) without the
// encoding lookup and argument checks (present in every supported Node, not in the
// type definitions); the plain method is the fallback.
interface FastWrites {
  utf8Write?: (text: string, offset: number) => number;
  latin1Write?: (text: string, offset: number) => number;
}
const { utf8Write, latin1Write } = Buffer.prototype as unknown as FastWrites;

function writeUtf8(buf: Buffer, text: string, offset: number): number {
  return utf8Write === undefined ? buf.write(text, offset, 'utf8') : utf8Write.call(buf, text, offset);
}

function writeLatin1(buf: Buffer, text: string, offset: number): number {
  return latin1Write === undefined ? buf.write(text, offset, 'latin1') : latin1Write.call(buf, text, offset);
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));
const SEQ_BYTES = ascii(LINE_START);
const TS_BYTES = ascii(',"ts":"');
const PREV_BYTES = ascii(PREV_OPEN);
const TYPE_BYTES = ascii(TYPE_OPEN);
const HASH_BYTES = ascii(HASH_OPEN);
const CLOSE_BYTES = ascii(`${LINE_CLOSE}\n`);
// The head of a pre-encoded record without its seq digits: `{"seq":` `,"ts":"<ts>","prev":"<64>","type":"`.
const HEAD_BYTES = SEQ_BYTES.length + TS_BYTES.length + TIMESTAMP_LENGTH + PREV_BYTES.length + 64 + TYPE_BYTES.length;
const TAIL_BYTES = HASH_BYTES.length + 64 + CLOSE_BYTES.length;

// A plain loop: for these 3- to 10-byte constants it is cheaper than TypedArray#set's
// argument handling.
function put(buf: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i += 1) buf[at + i] = bytes[i] ?? 0;
  return at + bytes.length;
}

/** Writes `value` (a positive safe integer) in decimal at `at`; returns the end. */
function putDecimal(buf: Buffer, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
  let rest = value;
  for (let i = digits - 1; i >= 0; i -= 1) {
    buf[at + i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/** Where a checkpoint record sits in a batch, for the state file once the batch is durable. */
export interface BatchCheckpoint {
  readonly seq: number;
  readonly hash: string;
  /** Byte range of its line in the batch, newline excluded. */
  readonly start: number;
  readonly end: number;
}

/** Records waiting for one write + fdatasync. */
export class RecordBatch {
  /** Encoded records, `used` bytes of it. */
  buffer: Buffer;
  used = 0;
  records = 0;
  firstSeq = 0;
  lastSeq = 0;
  /** Segment the batch is written to. */
  readonly segment: number;
  /** The last checkpoint in the batch. */
  checkpoint: BatchCheckpoint | undefined;

  /**
   * @param segment index of the segment the records belong to
   * @param capacity initial buffer size in bytes; it doubles when a record does not fit
   */
  constructor(segment: number, capacity: number) {
    this.segment = segment;
    this.buffer = Buffer.allocUnsafeSlow(capacity);
  }

  /**
   * Appends one record: its body (everything before `,"hash":"`), then the hash field
   * and the newline.
   * @returns the record's hash, lowercase hex
   */
  push(seq: number, body: string): string {
    // A UTF-16 code unit is at most 3 UTF-8 bytes; the tail is 75 bytes and a newline.
    const worst = this.used + body.length * 3 + 76;
    if (worst > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(worst, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    const start = this.used;
    const bodyEnd = start + writeUtf8(this.buffer, body, start);
    const recordHash = sha256Hex(this.buffer.subarray(start, bodyEnd));
    this.used = bodyEnd + writeLatin1(this.buffer, `${HASH_OPEN}${recordHash}${LINE_CLOSE}\n`, bodyEnd);
    if (this.records === 0) this.firstSeq = seq;
    this.records += 1;
    this.lastSeq = seq;
    return recordHash;
  }

  /**
   * Appends one record whose bytes after `"type":"` are already encoded (`typed`: the
   * type word, its closing quote and every field), writing the head and the hash
   * around them straight into the buffer: no string is built for the line.
   * @param ts 24 characters ({@link TIMESTAMP_LENGTH}), ASCII
   * @param prev the previous record's hash, 64 lowercase hex
   * @returns the record's hash, lowercase hex
   */
  pushEncoded(seq: number, ts: string, prev: string, typed: Uint8Array): string {
    const worst = this.used + HEAD_BYTES + 16 + typed.length + TAIL_BYTES;
    if (worst > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(worst, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    const buf = this.buffer;
    const start = this.used;
    let at = putDecimal(buf, put(buf, start, SEQ_BYTES), seq);
    at = put(buf, at, TS_BYTES);
    at += writeLatin1(buf, ts, at);
    at = put(buf, at, PREV_BYTES);
    at += writeLatin1(buf, prev, at);
    at = put(buf, at, TYPE_BYTES);
    buf.set(typed, at);
    const bodyEnd = at + typed.length;
    const recordHash = sha256Hex(buf.subarray(start, bodyEnd));
    at = put(buf, bodyEnd, HASH_BYTES);
    at += writeLatin1(buf, recordHash, at);
    this.used = put(buf, at, CLOSE_BYTES);
    if (this.records === 0) this.firstSeq = seq;
    this.records += 1;
    this.lastSeq = seq;
    return recordHash;
  }

  /** Marks the record just pushed as a checkpoint. */
  markCheckpoint(seq: number, recordHash: string, start: number): void {
    this.checkpoint = { seq, hash: recordHash, start, end: this.used - 1 };
  }

  /** The encoded bytes. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }
}

/**
 * The batch records join: opened by the first record after a seal, sealed (handed to
 * `sealed`, the writer's queue) when it holds `records` records or is `delayMs` old.
 */
export class FillingBatch {
  #current: RecordBatch | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: { readonly records: number; readonly delayMs: number },
    private readonly sealed: (batch: RecordBatch) => void,
  ) {}

  /** Encodes one record of segment `segment` into the batch; returns its hash and the bytes it took. */
  push(segment: number, seq: number, body: string, checkpoint: boolean): { readonly hash: string; readonly bytes: number } {
    const batch = this.#current ?? this.open(segment);
    const start = batch.used;
    const hash = batch.push(seq, body);
    if (checkpoint) batch.markCheckpoint(seq, hash, start);
    const bytes = batch.used - start;
    if (batch.records >= this.limits.records) this.seal();
    return { hash, bytes };
  }

  /**
   * Encodes one pre-encoded record (see {@link RecordBatch.pushEncoded}) into the batch.
   * @returns its hash; the bytes it took are {@link lastBytes}
   */
  pushEncoded(segment: number, seq: number, ts: string, prev: string, typed: Uint8Array): string {
    const batch = this.#current ?? this.open(segment);
    const start = batch.used;
    const hash = batch.pushEncoded(seq, ts, prev, typed);
    this.lastBytes = batch.used - start;
    if (batch.records >= this.limits.records) this.seal();
    return hash;
  }

  /** Bytes the last {@link pushEncoded} record took. */
  lastBytes = 0;

  private open(segment: number): RecordBatch {
    const batch = new RecordBatch(segment, Math.min(this.limits.records, 1000) * 512);
    this.#current = batch;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.seal();
    }, this.limits.delayMs);
    return batch;
  }

  /** Hands the batch (if any) on now. */
  seal(): void {
    this.cancel();
    const batch = this.#current;
    if (batch === undefined) return;
    this.#current = undefined;
    this.sealed(batch);
  }

  /** Stops the age timer (the log failed or closed). */
  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
