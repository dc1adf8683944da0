/**
 * Folding of one call's allowed audit records (`audit.max_call_records`). At
 * `audit.level: all` one call may make up to fuel_per_call / HOST_CALL_FUEL host calls
 * (10^6 on the default budget), each one record. Within one call (an export or a
 * lifecycle step, with every host call it makes), the first `limit` allowed records pass
 * as they are; the allowed records past them are only counted, and when the call ends,
 * however it ends, one `audit.folded` record says how many were folded, of which actions
 * and resources. It sits in the plugin's own thread (HostedPlugin), so on a pool worker
 * or in a confined sandbox the records are folded before they cross to the host.
 *
 * SECURITY: denials are never folded: every refusal keeps its own record with what was
 * really asked for. Records made outside a call pass as they are.
 *
 * A call stopped by killing what runs it (a pool worker, a sandbox) never ends here, so
 * its summary would be lost with it: while it folds, the fold reports its running
 * counts ({@link FoldProgress}) to a `progress` sink, at most every
 * {@link FOLD_PROGRESS_MS} (checked every {@link FOLD_CHECK_EVERY} folded records) and
 * before each refusal, and the host writes the summary of a call it kills from the
 * last report it has (pool-fold-progress.ts): it misses the folded records of at most
 * a FOLD_PROGRESS_MS window and FOLD_CHECK_EVERY - 1 more, the call's last.
 */
import type { AuditData } from '@forgeone/microkernel';
import type { FoldTally } from './fold-tally.js';
import { gated } from './ledger-gate.js';
import type { BackendAuditEntry } from './plugin-gate.js';

/** The action of the summary record a call with folded records ends with. */
export const FOLDED_ACTION = 'audit.folded';

/** Distinct (action, resource) pairs a summary counts one by one; the others are summed in `other`. */
export const MAX_FOLDED_KEYS = 32;

/** Longest `data.counts` text, in UTF-16 units: below the log's 1,024 for a data string, so it is never cut. */
const MAX_COUNTS_TEXT = 1000;

/** Longest resource kept in a summary's key, in UTF-16 units (a key names a resource, it need not quote all of it). */
export const MAX_KEY_RESOURCE = 120;

/** Least time between two progress reports of one call's counts, in ms. */
export const FOLD_PROGRESS_MS = 15;

/** Folded records between two reads of the clock for {@link FOLD_PROGRESS_MS} (a power of two). */
export const FOLD_CHECK_EVERY = 16;

/** Counts of one (action, resource) pair: the resource cut to {@link MAX_KEY_RESOURCE}, null for none. */
export type FoldedCount = readonly [action: string, resource: string | null, count: number];

/** A call's running counts, as its summary would say them now. */
export interface FoldProgress {
  /** The export or lifecycle step (at most 256 characters). */
  readonly call: string;
  /** Allowed records the call wrote one by one (the limit). */
  readonly kept: number;
  /** Allowed records folded so far. */
  readonly folded: number;
  /** At most {@link MAX_FOLDED_KEYS} pairs; their counts and `other` add up to `folded`. */
  readonly counts: readonly FoldedCount[];
  readonly other: number;
}

/**
 * The `audit.folded` record of `progress` for `plugin`: allowed, the counts listed
 * largest first while their JSON fits the log's data string (the rest join `other`).
 * @param extra more data fields (a killed call's), and the reason to give
 */
export function foldedSummary(plugin: string, progress: FoldProgress, reason: string, extra: AuditData = {}): BackendAuditEntry {
  const entries = [...progress.counts].sort((a, b) => b[2] - a[2]);
  const listed: FoldedCount[] = [];
  let other = progress.other;
  let length = 2;
  for (const [action, resource, count] of entries) {
    const item: FoldedCount = [action, resource === null ? null : resource.slice(0, MAX_KEY_RESOURCE), count];
    const size = JSON.stringify(item).length + 1;
    if (length + size > MAX_COUNTS_TEXT) {
      other += count;
      continue;
    }
    length += size;
    listed.push(item);
  }
  const call = progress.call.slice(0, 256);
  return {
    plugin,
    action: FOLDED_ACTION,
    resource: call,
    allowed: true,
    reason,
    data: { call, kept: progress.kept, folded: progress.folded, counts: JSON.stringify(listed), other, ...extra },
  };
}

/** Folds the allowed audit records of the plugin's calls past a limit; see the module comment. */
export class CallAuditFold {
  readonly #limit: number;
  readonly #plugin: string;
  readonly #write: (entry: BackendAuditEntry) => void;
  /** Refuses a folded record as the sink would refuse a written one (a failed audit log). */
  readonly #check: () => void;
  readonly #progress: ((progress: FoldProgress) => void) | undefined;
  /** Where the counts are kept in shared memory (fold-tally.ts), with the plugin's index there. */
  readonly #tally: { readonly tally: FoldTally; readonly index: number } | undefined;
  /** The call's slot in the tally; -1: none (yet). */
  #slot = -1;
  #depth = 0;
  #call = '';
  #written = 0;
  #folded = 0;
  #other = 0;
  /** Per `action\0resource`: [action, resource, count, the key's order in the call]. */
  #counts = new Map<string, [string, string | undefined, number, number]>();
  /** `#folded` when progress was last reported, and performance.now() then. */
  #reported = 0;
  #reportedAt = 0;

  /**
   * @param limit allowed records written one by one per call, >= 1
   * @param write where records go (the plugin's audit sink)
   * @param check throws (FO_AUDIT_WRITE_FAILED) when a record would be refused, so a
   *   folded record fails closed like a written one
   * @param progress where running counts go while a call folds (a backend that may kill
   *   the call); none: they are not reported
   * @param tally where the counts are kept for the host to read when it kills the call (a
   *   pool worker's shared memory), with the plugin's index there; none: they are not kept
   */
  constructor(
    plugin: string,
    limit: number,
    write: (entry: BackendAuditEntry) => void,
    check: () => void,
    progress?: (progress: FoldProgress) => void,
    tally?: { readonly tally: FoldTally; readonly index: number },
  ) {
    this.#plugin = plugin;
    this.#limit = limit;
    this.#write = write;
    this.#check = check;
    this.#progress = progress;
    this.#tally = tally;
  }

  /** Records one gate decision: written, or folded when it is an allowed one past the call's limit. */
  record(entry: BackendAuditEntry): void {
    // A host about to stop the worker halts it here (ledger-gate.ts), so what it reads is whole.
    gated(this.#tally?.tally.gate, this.#record, entry);
  }

  readonly #record = (entry: BackendAuditEntry): void => {
    if (this.#depth === 0 || !entry.allowed || this.#written < this.#limit) {
      if (this.#depth > 0 && entry.allowed) this.#written += 1;
      // A refusal leaves at once (pool-worker-outbox.ts): the counts up to it go first.
      else if (this.#depth > 0 && this.#folded !== this.#reported) this.#report(performance.now());
      this.#write(entry);
      return;
    }
    this.#check();
    this.#folded += 1;
    const key = `${entry.action}\0${entry.resource ?? ''}`;
    const counted = this.#counts.get(key);
    const tally = this.#tally;
    if (tally !== undefined && this.#slot < 0 && this.#folded === 1) this.#slot = tally.tally.open(tally.index);
    const slot = this.#slot;
    if (counted !== undefined) {
      counted[2] += 1;
      if (slot >= 0) tally?.tally.count(slot, counted[3]);
    } else if (this.#counts.size < MAX_FOLDED_KEYS) {
      const order = this.#counts.size;
      this.#counts.set(key, [entry.action, entry.resource, 1, order]);
      if (slot >= 0) {
        tally?.tally.name(slot, order, entry.action, entry.resource === undefined ? null : entry.resource.slice(0, MAX_KEY_RESOURCE));
        tally?.tally.count(slot, order);
      }
    } else {
      this.#other += 1;
      if (slot >= 0) tally?.tally.count(slot, -1);
    }
    if ((this.#folded & (FOLD_CHECK_EVERY - 1)) === 0 && this.#progress !== undefined) {
      const now = performance.now();
      if (now - this.#reportedAt >= FOLD_PROGRESS_MS) this.#report(now);
    }
  };

  /** Reports the call's running counts, if there is a progress sink. */
  #report(now: number): void {
    const progress = this.#progress;
    if (progress === undefined) return;
    this.#reported = this.#folded;
    this.#reportedAt = now;
    const counts: FoldedCount[] = [];
    for (const [action, resource, count] of this.#counts.values()) counts.push([action, resource === undefined ? null : resource.slice(0, MAX_KEY_RESOURCE), count]);
    progress({ call: this.#call.slice(0, 256), kept: this.#limit, folded: this.#folded, counts, other: this.#other });
  }

  /** A call of export (or lifecycle step) `name` begins; a call nested in it counts as part of it. */
  begin(name: string): void {
    this.#depth += 1;
    if (this.#depth === 1) this.#call = name;
  }

  /**
   * The call that {@link begin} opened ends: writes its summary if it folded anything.
   * @param failed true when the call failed: a summary the sink refuses is then dropped
   *   rather than hiding the call's own error
   * @throws what the sink throws (FO_AUDIT_WRITE_FAILED) when the call succeeded
   */
  end(failed: boolean): void {
    this.#depth -= 1;
    if (this.#depth > 0) return;
    const folded = this.#folded;
    const summary = folded === 0 ? undefined : this.#summary();
    const slot = this.#slot;
    this.#written = 0;
    this.#folded = 0;
    this.#other = 0;
    this.#reported = 0;
    this.#reportedAt = 0;
    this.#counts = new Map();
    this.#slot = -1;
    try {
      if (summary !== undefined) this.#write(summary);
    } catch (error) {
      if (!failed) throw error;
    } finally {
      // After the summary left: a host that kills the thread in between finds it (pool-fold-progress.ts).
      if (slot >= 0) this.#tally?.tally.close(slot);
    }
  }

  #summary(): BackendAuditEntry {
    const counts: FoldedCount[] = [...this.#counts.values()].map(([action, resource, count]) => [action, resource ?? null, count]);
    return foldedSummary(
      this.#plugin,
      { call: this.#call, kept: this.#limit, folded: this.#folded, counts, other: this.#other },
      `${this.#folded} allowed records of the call past the first ${this.#limit} were folded into this one`,
    );
  }
}
