/**
 * A batch: the records of one group commit, encoded straight into one Buffer (shared
 * memory, so the chain worker can fill it in place). A record is written whole except
 * for its `prev`, a checkpoint's `sig` and its `hash`: room is left for them and the
 * batch's layout says where, and the chain (chain-fill.ts) fills them once the batch is
 * sealed. The writer hands the kernel exactly the bytes that were hashed.
 */
import { allocateSpace, BatchMemory, type BatchSpace } from './batch-memory.js';
import { writeLatin1, writeUtf8 } from './bytes.js';
import type { FrameCopies } from './frame-copies.js';
import { AT_BODY_END, AT_PREV, AT_SIG, AT_START, LAYOUT_STRIDE } from './chain-fill.js';
import { HASH_OPEN, LINE_CLOSE, LINE_START, PREV_OPEN, TIMESTAMP_LENGTH, TYPE_OPEN } from './format.js';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (char) => char.charCodeAt(0));
const SEQ_BYTES = ascii(LINE_START);
const TS_OPEN = ',"ts":"';
const TS_BYTES = ascii(TS_OPEN);
const PREV_BYTES = ascii(PREV_OPEN);
const TYPE_BYTES = ascii(TYPE_OPEN);
const HASH_BYTES = ascii(HASH_OPEN);
const CLOSE_BYTES = ascii(`${LINE_CLOSE}\n`);
// Everything but the seq digits and the typed part: head and tail.
const FRAME_BYTES = SEQ_BYTES.length + TS_BYTES.length + TIMESTAMP_LENGTH + PREV_BYTES.length + 64 + TYPE_BYTES.length + HASH_BYTES.length + 64 + CLOSE_BYTES.length;

// A plain loop: for these 3- to 10-byte constants it is cheaper than TypedArray#set's
// argument handling.
function put(buf: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i += 1) buf[at + i] = bytes[i] ?? 0;
  return at + bytes.length;
}

/**
 * Writes `{"seq":` (one store per byte: SEQ_BYTES) and `seq`'s digits at `start`.
 * @returns the index after the digits
 */
function putSeqHead(buf: Buffer, start: number, seq: number): number {
  buf[start] = 0x7b;
  buf[start + 1] = 0x22;
  buf[start + 2] = 0x73;
  buf[start + 3] = 0x65;
  buf[start + 4] = 0x71;
  buf[start + 5] = 0x22;
  buf[start + 6] = 0x3a;
  return putDecimal(buf, start + SEQ_BYTES.length, seq);
}

/** Writes `value` (a positive safe integer) in decimal at `at`; returns the end. */
function putDecimal(buf: Buffer, at: number, value: number): number {
  // Below 2^31 (every seq in practice), in small-integer arithmetic: no float division.
  if (value < 0x80000000) {
    const end = at + decimalDigits(value);
    let rest = value | 0;
    for (let i = end - 1; i >= at; i -= 1) {
      const tenth = (rest / 10) | 0;
      buf[i] = 0x30 + rest - tenth * 10;
      rest = tenth;
    }
    return end;
  }
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
  let rest = value;
  for (let i = digits - 1; i >= 0; i -= 1) {
    buf[at + i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

/** Digits of `value`, a non-negative integer below 2^31. */
function decimalDigits(value: number): number {
  if (value < 100_000) return value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10_000 ? 4 : 5;
  return value < 1_000_000 ? 6 : value < 10_000_000 ? 7 : value < 100_000_000 ? 8 : value < 1_000_000_000 ? 9 : 10;
}

// A framed record's bytes after its body: the hash field and the line's end.
const FRAME_TAIL = HASH_BYTES.length + 64 + CLOSE_BYTES.length;
// Where a timed frame's prev field starts, from the frame's first byte.
const TIMED_PREV_AT = TS_BYTES.length + TIMESTAMP_LENGTH + PREV_BYTES.length;

/**
 * The bytes of a record from its `","prev":"` to its newline, for a record whose type
 * word and fields are `typed`: room (zeros) for prev and hash, which the chain fills.
 * Encoded once for a record that repeats (report-cache.ts), then copied whole by
 * {@link RecordBatch.pushFrame}. Held as a string of one character per byte (latin1):
 * copying it into shared memory is a plain memcpy, where TypedArray#set copies into
 * shared memory at an unaligned offset byte by byte, three times slower.
 */
export function recordFrame(typed: string): string {
  const fields = Buffer.from(typed, 'utf8');
  const frame = Buffer.alloc(PREV_BYTES.length + 64 + TYPE_BYTES.length + fields.length + FRAME_TAIL);
  const typedAt = put(frame, put(frame, 0, PREV_BYTES) + 64, TYPE_BYTES);
  frame.set(fields, typedAt);
  put(frame, put(frame, typedAt + fields.length, HASH_BYTES) + 64, CLOSE_BYTES);
  return frame.toString('latin1');
}

/**
 * A {@link recordFrame} behind the timestamp `ts` ({@link TIMESTAMP_LENGTH} ASCII
 * characters): a record's every byte after its seq, as {@link RecordBatch.pushFrame}
 * copies it. The timestamp changes once a millisecond at most, so a frame that repeats
 * is joined to it once per millisecond, not once per record.
 */
export function timedFrame(ts: string, frame: string): string {
  if (ts.length !== TIMESTAMP_LENGTH) throw new Error(`a record timestamp has ${ts.length} characters, not ${TIMESTAMP_LENGTH}`);
  return `${TS_OPEN}${ts}${frame}`;
}

/** Where a checkpoint record sits in a batch, for the state file once the batch is durable. */
export interface BatchCheckpoint {
  readonly seq: number;
  /** Byte range of its line in the batch, newline excluded; its hash is the 64 bytes before the closing `"}`. */
  readonly start: number;
  readonly end: number;
}

/** Records waiting for their chain fields, then for one write + fdatasync. */
export class RecordBatch {
  /** Encoded records, `used` bytes of it (backed by a SharedArrayBuffer). */
  buffer: Buffer;
  used = 0;
  records = 0;
  firstSeq = 0;
  lastSeq = 0;
  /** Segment the batch is written to. */
  readonly segment: number;
  /** {@link LAYOUT_STRIDE} numbers per record: where its chain fields go (chain-fill.ts); shared memory too. */
  layout: Int32Array;
  /** The last checkpoint in the batch. */
  checkpoint: BatchCheckpoint | undefined;
  /** True once every record's prev, sig and hash are filled. */
  filled = false;
  /** Sent to the chain worker with its place in the segment, for the worker to write it once filled (writer.ts). */
  preWriting = false;
  /** Where the chain worker wrote the filled batch in its segment; -1: not written, the writer writes it. */
  writtenAt = -1;
  /** False once something may still write into the batch's memory after it is durable (a chain worker given up on): it is not reused then. */
  reusable = true;
  /** Resolves once {@link filled}; rejects when the chain could not fill it. */
  readonly ready: Promise<void>;
  settle!: (error?: unknown) => void;
  readonly #memory: BatchMemory | undefined;
  // `buffer.length` and `buffer.byteOffset` kept as numbers: optimized code reads them from a
  // Buffer through a generic inline cache (Buffer.prototype is a dictionary-mode object),
  // once per record otherwise.
  #capacity: number;
  #offset: number;

  /**
   * @param segment index of the segment the records belong to
   * @param capacity initial buffer size in bytes; it doubles when a record does not fit
   * @param records initial room in the layout, in records; it doubles likewise
   * @param memory where the batch's memory comes from and goes back to once it is written (default: its own)
   */
  constructor(segment: number, capacity: number, records: number, memory?: BatchMemory) {
    this.segment = segment;
    const space = memory === undefined ? allocateSpace(capacity, records) : memory.take(capacity, records);
    this.buffer = space.buffer;
    this.#capacity = space.buffer.length;
    this.#offset = space.buffer.byteOffset;
    this.layout = space.layout;
    this.#memory = memory;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settle = (error?: unknown) => (error === undefined ? resolve() : reject(error instanceof Error ? error : new Error('the audit chain failed')));
    });
    // The writer may stop before it awaits a batch; a rejection it never sees is not an error.
    this.ready.catch(() => undefined);
  }

  /**
   * Appends one record: the head with room for `prev`, then `typed` (the type word, its
   * closing quote and every field), then the tail with room for the hash. Room for a
   * checkpoint's sig is `sigOffset` bytes into `typed` (-1: none).
   * @param ts 24 characters ({@link TIMESTAMP_LENGTH}), ASCII
   * @returns the bytes the record took
   */
  push(seq: number, ts: string, typed: string, sigOffset: number): number {
    const buf = this.room(FRAME_BYTES + 16 + typed.length * 3);
    const start = this.used;
    let at = putDecimal(buf, put(buf, start, SEQ_BYTES), seq);
    at = put(buf, at, TS_BYTES);
    at += writeLatin1(buf, ts, at);
    at = put(buf, at, PREV_BYTES);
    const prevAt = at;
    at = put(buf, at + 64, TYPE_BYTES);
    const typedAt = at;
    const bodyEnd = at + writeUtf8(buf, typed, at);
    this.used = put(buf, put(buf, bodyEnd, HASH_BYTES) + 64, CLOSE_BYTES);
    this.place(seq, start, prevAt, sigOffset < 0 ? -1 : typedAt + sigOffset, bodyEnd);
    return this.used - start;
  }

  /**
   * Appends one record made of its seq and a {@link timedFrame} (a record without a sig):
   * the cheap way for a record that repeats, seven constant bytes, the seq's digits and
   * one copy of the rest.
   * @returns the bytes the record took
   */
  pushFrame(seq: number, timed: string): number {
    const buf = this.room(SEQ_BYTES.length + 16 + timed.length);
    const start = this.used;
    const at = putSeqHead(buf, start, seq);
    this.used = at + writeLatin1(buf, timed, at);
    this.place(seq, start, at + TIMED_PREV_AT, -1, this.used - FRAME_TAIL);
    return this.used - start;
  }

  /**
   * {@link pushFrame} of a frame held as {@link FrameCopies} (the same bytes as its
   * timed frame string): the frame goes in with one word-wise copy.
   * @returns the bytes the record took
   */
  pushCopies(seq: number, frame: FrameCopies): number {
    const buf = this.room(SEQ_BYTES.length + 16 + frame.length);
    const start = this.used;
    const at = putSeqHead(buf, start, seq);
    frame.copyTo(buf, at, this.#offset);
    this.used = at + frame.length;
    this.place(seq, start, at + TIMED_PREV_AT, -1, this.used - FRAME_TAIL);
    return this.used - start;
  }

  /** The buffer, grown (doubling) if fewer than `bytes` bytes are left after {@link used}. */
  private room(bytes: number): Buffer {
    const worst = this.used + bytes;
    if (worst > this.#capacity) {
      const grown = allocateSpace(Math.max(worst, this.#capacity * 2), 0).buffer;
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
      this.#capacity = grown.length;
      this.#offset = grown.byteOffset;
    }
    return this.buffer;
  }

  /** Counts the record just encoded and notes in the layout where its chain fields go. */
  private place(seq: number, start: number, prevAt: number, sigAt: number, bodyEnd: number): void {
    const base = this.records * LAYOUT_STRIDE;
    if (base + LAYOUT_STRIDE > this.layout.length) {
      const grown = allocateSpace(0, Math.max(this.records * 2, 16)).layout;
      grown.set(this.layout);
      this.layout = grown;
    }
    const { layout } = this;
    layout[base + AT_START] = start;
    layout[base + AT_PREV] = prevAt;
    layout[base + AT_SIG] = sigAt;
    layout[base + AT_BODY_END] = bodyEnd;
    if (this.records === 0) this.firstSeq = seq;
    this.records += 1;
    this.lastSeq = seq;
  }

  /** Marks the record just pushed as a checkpoint. */
  markCheckpoint(seq: number): void {
    const start = this.layout[(this.records - 1) * LAYOUT_STRIDE + AT_START] ?? 0;
    this.checkpoint = { seq, start, end: this.used - 1 };
  }

  /** The encoded bytes. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  /** The batch is durable and nothing reads it any more: its memory goes back for the next batch (see batch-memory.ts). */
  release(): void {
    const space: BatchSpace = { buffer: this.buffer, layout: this.layout };
    this.buffer = EMPTY;
    this.#capacity = 0;
    this.#offset = 0;
    this.layout = NO_LAYOUT;
    this.used = 0;
    if (this.reusable) this.#memory?.give(space);
  }
}

const EMPTY = Buffer.alloc(0);
const NO_LAYOUT = new Int32Array(0);

/**
 * The batch records join: opened by the first record after a seal, sealed (handed to
 * `sealed`: the chain, then the writer's queue) when it holds `records` records or is
 * `delayMs` old.
 */
export class FillingBatch {
  #current: RecordBatch | undefined;
  #timer: NodeJS.Timeout | undefined;

  readonly #memory = new BatchMemory();

  constructor(
    private readonly limits: { readonly records: number; readonly delayMs: number },
    private readonly sealed: (batch: RecordBatch) => void,
  ) {}

  /** The open batch, if any. */
  get current(): RecordBatch | undefined {
    return this.#current;
  }

  /**
   * Encodes one record of segment `segment` into the batch (see {@link RecordBatch.push}).
   * @returns the bytes it took
   */
  push(segment: number, seq: number, ts: string, typed: string, sigOffset: number, checkpoint: boolean): number {
    const batch = this.#current ?? this.open(segment);
    const bytes = batch.push(seq, ts, typed, sigOffset);
    if (checkpoint) batch.markCheckpoint(seq);
    if (batch.records >= this.limits.records) this.seal();
    return bytes;
  }

  /**
   * Encodes one framed record of segment `segment` into the batch (see {@link RecordBatch.pushFrame}).
   * @returns the bytes it took
   */
  pushFrame(segment: number, seq: number, timed: string): number {
    const batch = this.#current ?? this.open(segment);
    const bytes = batch.pushFrame(seq, timed);
    if (batch.records >= this.limits.records) this.seal();
    return bytes;
  }

  /**
   * Encodes one record given as {@link FrameCopies} into the batch (see {@link RecordBatch.pushCopies}).
   * @returns the bytes it took
   */
  pushCopies(segment: number, seq: number, frame: FrameCopies): number {
    const batch = this.#current ?? this.open(segment);
    const bytes = batch.pushCopies(seq, frame);
    if (batch.records >= this.limits.records) this.seal();
    return bytes;
  }

  private open(segment: number): RecordBatch {
    const records = Math.min(this.limits.records, 1000);
    const batch = new RecordBatch(segment, records * 512, records, this.#memory);
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
