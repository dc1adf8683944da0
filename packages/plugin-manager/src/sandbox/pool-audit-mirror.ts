/**
 * The audit records a pool worker has queued and not posted yet (pool-worker-outbox.ts
 * batches them), mirrored in shared memory, so that the host can still read them after
 * it stopped trusting the thread to post them: when it kills the worker at a call's time
 * limit (or closes the pool mid-call), whatever was queued would die with the thread.
 *
 * One producer (the worker thread), one reader (its host thread). The worker appends each
 * record, then publishes the new committed length with Atomics.store; the host reads only
 * up to the committed length. When the worker posts its batch, the mirror starts the next
 * batch: its length goes back to 0 and its batch number up by one; each posted batch
 * carries its number, so the host takes from the mirror only a batch it did not receive
 * (pool-worker-handle.ts). The host reads the header twice around its copy (a seqlock): a
 * worker still running while the host reads can only make it read nothing.
 *
 * SECURITY: the mirror is written by the worker's JS, never by the guest, but the host
 * parses it as untrusted input: every length is checked against what was committed,
 * the plugin is named by its index on the worker and kept only when the lane hosts it,
 * and a malformed record ends the read.
 *
 * Layout (words in the platform's order: one machine): header [committed bytes, batch],
 * then records, each [total bytes, plugin index, flags, text bytes, and the UTF-16
 * lengths of action, resource, reason, requested] followed by their UTF-8 text, padded
 * to 4 bytes; a record whose texts are those of the record before it in the batch says so
 * in its flags and writes none (a chatty call repeats one decision: no encoding then). A
 * record with `data` (a call's summary) is not mirrored: it is posted at once.
 */
import type { BackendAuditEntry } from './plugin-gate.js';

/** Bytes of a mirror's record area: a full batch of ordinary records; one that does not fit makes the batch leave early. */
export const AUDIT_MIRROR_BYTES = 64 * 1024;

const HEADER_BYTES = 16;
const COMMITTED = 0;
const BATCH = 1;
const RECORD_WORDS = 8;
const RECORD_HEADER = RECORD_WORDS * 4;
const ALLOWED = 1;
const HAS_RESOURCE = 2;
const HAS_REQUESTED = 4;
/** The record's texts are those of the record before it in the batch (none written: a chatty call repeats one decision). */
const SAME_TEXT = 8;
/** A UTF-8 character takes at most this many bytes: a write that left less room than this may have been cut. */
const MAX_CHAR_BYTES = 4;

/** Bytes of a mirror, its header included (pool-ledger.ts places it). */
export const AUDIT_MIRROR_TOTAL = HEADER_BYTES + AUDIT_MIRROR_BYTES;

/** The worker's side. Not thread-safe (the worker thread's). */
export class AuditMirror {
  readonly #header: Int32Array;
  readonly #words: Int32Array;
  readonly #bytes: Buffer;
  #used = 0;
  #batch = 1;
  /** The texts of the last record written with its texts in this batch (undefined: none yet). */
  #last: Pick<BackendAuditEntry, 'action' | 'resource' | 'reason' | 'requested'> | undefined;

  /** @param buffer shared memory holding the mirror at `offset` (a multiple of 4) */
  constructor(buffer: ArrayBufferLike, offset: number) {
    this.#header = new Int32Array(buffer, offset, HEADER_BYTES / 4);
    this.#words = new Int32Array(buffer, offset + HEADER_BYTES, AUDIT_MIRROR_BYTES / 4);
    this.#bytes = Buffer.from(buffer, offset + HEADER_BYTES, AUDIT_MIRROR_BYTES);
    Atomics.store(this.#header, BATCH, this.#batch);
  }

  /** The number of the batch being mirrored: the outbox posts it with the batch. */
  get batch(): number {
    return this.#batch;
  }

  /**
   * Appends `entry` of the plugin at `index` on the worker, and publishes it.
   * @returns false when it does not fit: the caller posts the batch ({@link next}) and tries again
   */
  add(index: number, entry: BackendAuditEntry): boolean {
    const { action, resource, reason, requested } = entry;
    const last = this.#last;
    const same = last !== undefined && action === last.action && resource === last.resource && reason === last.reason && requested === last.requested;
    const text = same ? '' : action + (resource ?? '') + reason + (requested ?? '');
    const start = this.#used;
    const at = start + RECORD_HEADER;
    const room = this.#bytes.length - at;
    if (room < MAX_CHAR_BYTES) return false;
    const written = text.length === 0 ? 0 : this.#bytes.write(text, at);
    // Buffer.write stops before a character that does not fit: with this much room left, none was cut.
    if (written + MAX_CHAR_BYTES > room) return false;
    const words = this.#words;
    const w = start >> 2;
    const total = RECORD_HEADER + ((written + 3) & ~3);
    words[w] = total;
    words[w + 1] = index;
    words[w + 2] = (entry.allowed ? ALLOWED : 0) | (resource === undefined ? 0 : HAS_RESOURCE) | (requested === undefined ? 0 : HAS_REQUESTED) | (same ? SAME_TEXT : 0);
    words[w + 3] = written;
    // The lengths of the texts written (none for a record repeating the one before).
    words[w + 4] = same ? 0 : action.length;
    words[w + 5] = same ? 0 : (resource?.length ?? 0);
    words[w + 6] = same ? 0 : reason.length;
    words[w + 7] = same ? 0 : (requested?.length ?? 0);
    this.#used = start + total;
    if (!same) this.#last = { action, resource, reason, requested };
    // SECURITY: published only once the record is whole; the host reads no further.
    Atomics.store(this.#header, COMMITTED, this.#used);
    return true;
  }

  /** The batch was posted: empties the mirror for the next one (length first, so a reader never sees the old records under the new number). */
  next(): void {
    this.#used = 0;
    this.#last = undefined;
    this.#batch += 1;
    Atomics.store(this.#header, COMMITTED, 0);
    Atomics.store(this.#header, BATCH, this.#batch);
  }
}

/** A record read back: the plugin's index on the worker and the entry (its `plugin` filled in by the caller). */
export interface MirroredRecord {
  readonly index: number;
  readonly entry: Omit<BackendAuditEntry, 'plugin'>;
}

/** Attempts at a consistent read while the worker moves on. */
const READ_ATTEMPTS = 4;
const decoder = new TextDecoder('utf-8');

/**
 * The records of the mirror's batch when the host did not receive it (its number is
 * above `received`, the last batch number the host got), else none. Stops at the first
 * malformed record.
 */
export function readAuditMirror(buffer: ArrayBufferLike, offset: number, received: number): MirroredRecord[] {
  const header = new Int32Array(buffer, offset, HEADER_BYTES / 4);
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt += 1) {
    const batch = Atomics.load(header, BATCH);
    if (batch <= received) return [];
    const committed = Atomics.load(header, COMMITTED);
    if (committed < 0 || committed > AUDIT_MIRROR_BYTES || committed % 4 !== 0) return [];
    const copy = new Uint8Array(committed);
    copy.set(new Uint8Array(buffer, offset + HEADER_BYTES, committed));
    if (Atomics.load(header, BATCH) === batch && Atomics.load(header, COMMITTED) >= committed) return parseRecords(copy);
  }
  return [];
}

function parseRecords(bytes: Uint8Array): MirroredRecord[] {
  const words = new Int32Array(bytes.buffer, 0, bytes.length >> 2);
  const records: MirroredRecord[] = [];
  for (let at = 0; at + RECORD_HEADER <= bytes.length; ) {
    const w = at >> 2;
    const total = words[w] ?? 0;
    const written = words[w + 3] ?? -1;
    const lengths = [words[w + 4] ?? -1, words[w + 5] ?? -1, words[w + 6] ?? -1, words[w + 7] ?? -1];
    if (total < RECORD_HEADER || total % 4 !== 0 || at + total > bytes.length || written < 0 || written > total - RECORD_HEADER || lengths.some((length) => length < 0)) break;
    const text = decoder.decode(bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + written));
    // Each UTF-16 unit the worker wrote decodes to one again (a lone surrogate became U+FFFD).
    if (lengths.reduce((sum, length) => sum + length, 0) !== text.length) break;
    const flags = words[w + 2] ?? 0;
    const previous = records.at(-1)?.entry;
    if ((flags & SAME_TEXT) !== 0 && (previous === undefined || written !== 0)) break;
    const [action, resource, reason, requested] = previous !== undefined && (flags & SAME_TEXT) !== 0 ? [previous.action, previous.resource, previous.reason, previous.requested] : cut(text, lengths);
    records.push({
      index: words[w + 1] ?? 0,
      entry: {
        action,
        resource: (flags & HAS_RESOURCE) === 0 ? undefined : (resource ?? ''),
        allowed: (flags & ALLOWED) !== 0,
        reason,
        ...((flags & HAS_REQUESTED) === 0 ? {} : { requested: requested ?? '' }),
      },
    });
    at += total;
  }
  return records;
}

/** `text` cut at the given four lengths. */
function cut(text: string, lengths: readonly number[]): [string, string, string, string] {
  const [a = 0, b = 0, c = 0] = lengths;
  return [text.slice(0, a), text.slice(a, a + b), text.slice(a + b, a + b + c), text.slice(a + b + c)];
}
