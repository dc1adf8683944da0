/**
 * Pre-serialised event records for the syscall bridge's reports. A plugin repeats the
 * same few host calls (16,384 `fd_read` on `fd:3` to read 64 MiB in 4 KiB chunks): every
 * byte of such a record after its `"type":"` is the same each time, so it is encoded
 * (checked, escaped, UTF-8) once and copied into the batch afterwards. Only the head
 * (seq, ts, prev) and the hash differ from one record to the next; the timestamp changes
 * at most once a millisecond, so the frame is kept joined to the last one it had
 * ({@link timedFrame}), and a record costs its seq's digits and one copy.
 *
 * A report is served from the cache only when every field that reaches the record is
 * equal (===) to the one cached, so a cached record says exactly what a fresh encoding
 * would say.
 */
import type { IdentityContext } from '@forgeone/common';
import { recordFrame, timedFrame } from './batch.js';
import { FrameCopies } from './frame-copies.js';
import { encodeEventTail, IdentityFieldCache } from './record.js';

/** A report's record after its seq, as {@link ReportBytesCache.timed} returns it: a string, and for a report that keeps repeating the same bytes as {@link FrameCopies} too. */
export interface TimedRecord {
  /** The record from its `,"ts":"` to its newline ({@link timedFrame}), one character per byte. */
  readonly timed: string;
  /** The same bytes, once the report repeated {@link HOT_REPEATS} times (and while few reports have them). */
  readonly copies: FrameCopies | undefined;
}

/** One action's last report and its encoded bytes. */
interface Memo extends TimedRecord {
  readonly resource: string | undefined;
  readonly allowed: boolean;
  readonly reason: string;
  readonly requested: string | undefined;
  /** The record from its `","prev":"` to its newline, one character per byte ({@link recordFrame}). */
  readonly frame: string;
  /** The timestamp {@link timed} was made for. */
  ts: string;
  /** The record from its `,"ts":"` to its newline ({@link timedFrame} of `ts` and `frame`). */
  timed: string;
  /** Times it was served from the cache. */
  hits: number;
  copies: FrameCopies | undefined;
}

// Distinct actions remembered per identity before that identity's memos are dropped: the
// call catalog is far smaller, so this only bounds a host that invents action names.
const MAX_ACTIONS = 512;
// Repeats after which a report's bytes are kept as FrameCopies (eight copies of the
// record: a run of one host call, not an occasional one), and how many reports keep them
// at once (about 4 KiB each): past that, every report drops them and earns them again.
export const HOT_REPEATS = 32;
const MAX_COPIED = 64;
// Where a timed frame's timestamp starts (after `,"ts":"`).
const TS_AT = 7;

/** The encoded frames (`event"<fields>` with room for prev and hash) of bridge reports, remembered per identity and action, joined to their last timestamp. */
export class ReportBytesCache {
  readonly #identities = new IdentityFieldCache();
  readonly #memos = new WeakMap<IdentityContext, Map<string, Memo>>();
  // The last report's identity, action and memo: a plugin's run of one host call hits it without a map lookup
  // (this keeps that one identity object alive until the next report).
  #lastIdentity: IdentityContext | undefined;
  #lastAction = '';
  #last: Memo | undefined;
  /** The memos that have FrameCopies now. */
  readonly #copied: Memo[] = [];

  /**
   * The bytes of a report's record after its seq, timestamp `ts` included (its type word
   * and fields, with room for prev and hash): from the cache when this identity's last
   * report of `action` had the same resource, outcome, reason and request. Read the
   * result before the next call: it is the cache's own, updated in place.
   *
   * @param ts the record's timestamp ({@link TIMESTAMP_LENGTH} characters)
   * @throws ForgeError FO_AUDIT_RECORD_INVALID as `encodeEventTail` and `encodeIdentityFields`
   */
  timed(identity: IdentityContext, action: string, resource: string | undefined, allowed: boolean, reason: string, requested: string | undefined, ts: string): TimedRecord {
    let memo = this.#last;
    if (memo === undefined || identity !== this.#lastIdentity || action !== this.#lastAction) {
      memo = this.#memos.get(identity)?.get(action);
    }
    if (memo === undefined || memo.resource !== resource || memo.allowed !== allowed || memo.reason !== reason || memo.requested !== requested) {
      memo = this.encode(identity, action, resource, allowed, reason, requested, ts);
    } else {
      if (memo.ts !== ts) {
        memo.timed = timedFrame(ts, memo.frame);
        memo.ts = ts;
        memo.copies?.write(ts, TS_AT);
      }
      memo.hits += 1;
      if (memo.hits === HOT_REPEATS && memo.copies === undefined) this.copy(memo);
    }
    this.#lastIdentity = identity;
    this.#lastAction = action;
    this.#last = memo;
    return memo;
  }

  /** Gives `memo` its FrameCopies; see {@link HOT_REPEATS}. */
  private copy(memo: Memo): void {
    if (this.#copied.length >= MAX_COPIED) {
      for (const dropped of this.#copied) {
        dropped.copies = undefined;
        dropped.hits = 0;
      }
      this.#copied.length = 0;
    }
    memo.copies = new FrameCopies(memo.timed);
    this.#copied.push(memo);
  }

  private encode(identity: IdentityContext, action: string, resource: string | undefined, allowed: boolean, reason: string, requested: string | undefined, ts: string): Memo {
    let memos = this.#memos.get(identity);
    if (memos === undefined) {
      memos = new Map();
      this.#memos.set(identity, memos);
    }
    const fields = `event"${this.#identities.get(identity)}${encodeEventTail(action, resource, allowed ? 'allow' : 'deny', reason, requested === undefined ? undefined : { requested })}`;
    const frame = recordFrame(fields);
    if (memos.size >= MAX_ACTIONS && !memos.has(action)) memos.clear();
    const memo: Memo = { resource, allowed, reason, requested, frame, ts, timed: timedFrame(ts, frame), hits: 0, copies: undefined };
    memos.set(action, memo);
    return memo;
  }
}
