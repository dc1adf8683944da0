/**
 * A batch: the records of one group commit, encoded straight into one Buffer (shared
 * memory, so the chain worker can fill it in place). A record is written whole except
 * for its `prev`, a checkpoint's `sig` and its `hash`: room is left for them and the
 * batch's layout says where, and the chain (chain-fill.ts) fills them once the batch is
 * sealed. The writer hands the kernel exactly the bytes that were hashed.
 */
import { AT_BODY_END, AT_PREV, AT_SIG, AT_START, LAYOUT_STRIDE } from './chain-fill.js';
import { HASH_OPEN, LINE_CLOSE, LINE_START, PREV_OPEN, TIMESTAMP_LENGTH, TYPE_OPEN } from './format.js';

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
// Everything but the seq digits and the typed part: head and tail.
const FRAME_BYTES = SEQ_BYTES.length + TS_BYTES.length + TIMESTAMP_LENGTH + PREV_BYTES.length + 64 + TYPE_BYTES.length + HASH_BYTES.length + 64 + CLOSE_BYTES.length;

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

function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

function sharedLayout(records: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(records * LAYOUT_STRIDE * Int32Array.BYTES_PER_ELEMENT));
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
  /** Resolves once {@link filled}; rejects when the chain could not fill it. */
  readonly ready: Promise<void>;
  settle!: (error?: unknown) => void;

  /**
   * @param segment index of the segment the records belong to
   * @param capacity initial buffer size in bytes; it doubles when a record does not fit
   * @param records initial room in the layout, in records; it doubles likewise
   */
  constructor(segment: number, capacity: number, records: number) {
    this.segment = segment;
    this.buffer = sharedBuffer(capacity);
    this.layout = sharedLayout(records);
    this.ready = new Promise<void>((resolve, reject) => {
      this.settle = (error?: unknown) => (error === undefined ? resolve() : reject(error instanceof Error ? error : new Error('the audit chain failed')));
    });
    // The writer may stop before it awaits a batch; a rejection it never sees is not an error.
    this.ready.catch(() => undefined);
  }

  /**
   * Appends one record: the head with room for `prev`, then `typed` (the type word, its
   * closing quote and every field, as bytes or as text), then the tail with room for the
   * hash. Room for a checkpoint's sig is `sigOffset` bytes into `typed` (-1: none).
   * @param ts 24 characters ({@link TIMESTAMP_LENGTH}), ASCII
   * @returns the bytes the record took
   */
  push(seq: number, ts: string, typed: Uint8Array | string, sigOffset: number): number {
    const typedMax = typeof typed === 'string' ? typed.length * 3 : typed.length;
    const worst = this.used + FRAME_BYTES + 16 + typedMax;
    if (worst > this.buffer.length) {
      const grown = sharedBuffer(Math.max(worst, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    const buf = this.buffer;
    const start = this.used;
    let at = putDecimal(buf, put(buf, start, SEQ_BYTES), seq);
    at = put(buf, at, TS_BYTES);
    at += writeLatin1(buf, ts, at);
    at = put(buf, at, PREV_BYTES);
    const prevAt = at;
    at = put(buf, at + 64, TYPE_BYTES);
    const typedAt = at;
    if (typeof typed === 'string') at += writeUtf8(buf, typed, at);
    else {
      buf.set(typed, at);
      at += typed.length;
    }
    const bodyEnd = at;
    this.used = put(buf, put(buf, bodyEnd, HASH_BYTES) + 64, CLOSE_BYTES);
    const base = this.records * LAYOUT_STRIDE;
    if (base + LAYOUT_STRIDE > this.layout.length) {
      const grown = sharedLayout(Math.max(this.records * 2, 16));
      grown.set(this.layout);
      this.layout = grown;
    }
    const { layout } = this;
    layout[base + AT_START] = start;
    layout[base + AT_PREV] = prevAt;
    layout[base + AT_SIG] = sigOffset < 0 ? -1 : typedAt + sigOffset;
    layout[base + AT_BODY_END] = bodyEnd;
    if (this.records === 0) this.firstSeq = seq;
    this.records += 1;
    this.lastSeq = seq;
    return this.used - start;
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
}

/**
 * The batch records join: opened by the first record after a seal, sealed (handed to
 * `sealed`: the chain, then the writer's queue) when it holds `records` records or is
 * `delayMs` old.
 */
export class FillingBatch {
  #current: RecordBatch | undefined;
  #timer: NodeJS.Timeout | undefined;

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
  push(segment: number, seq: number, ts: string, typed: Uint8Array | string, sigOffset: number, checkpoint: boolean): number {
    const batch = this.#current ?? this.open(segment);
    const bytes = batch.push(seq, ts, typed, sigOffset);
    if (checkpoint) batch.markCheckpoint(seq);
    if (batch.records >= this.limits.records) this.seal();
    return bytes;
  }

  private open(segment: number): RecordBatch {
    const records = Math.min(this.limits.records, 1000);
    const batch = new RecordBatch(segment, records * 512, records);
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
