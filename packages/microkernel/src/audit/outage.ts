/**
 * How an audit log stops writing: for good (a failed sync, a failed rotation, any error
 * but a full disk: {@link writeFailure}), or for a while (a write that found the disk
 * full: an {@link AuditOutage}). During an outage the writer retries the batch it could
 * not write, with backoff, and the log refuses every record with FO_AUDIT_WRITE_FAILED;
 * once the batch is written the chain goes on where it was, and one record notes the
 * outage: how long it lasted and how many records were refused.
 */
import { ForgeError, type Logger } from '@forgeone/common';
import { writeErrno } from './files.js';
import { DurableWaiters } from './durability.js';
import type { AuditEntry } from './record.js';

/** The principal of the record that notes an outage: the log itself, not a plugin or a user. */
export const OUTAGE_PRINCIPAL = 'host:audit-log';

/** The action of that record. */
export const OUTAGE_ACTION = 'audit.outage';

/** First pause before a write that found the disk full is retried, in ms; it doubles after each failed retry. */
export const RETRY_FIRST_MS = 100;

/** Longest pause between retries, in ms. */
export const RETRY_MAX_MS = 5000;

/** True for the errors a later retry of the same write may get past: no space, no quota. */
export function isOutOfSpace(error: unknown): boolean {
  const errno = writeErrno(error);
  return errno === 'ENOSPC' || errno === 'EDQUOT';
}

/** The error a log that stopped for good throws from then on. */
export function writeFailure(path: string, error: unknown, durableSeq: number): ForgeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new ForgeError('FO_AUDIT_WRITE_FAILED', `audit log ${path} could not be written (${reason}); it accepts no more records`, {
    // errno tells a full disk (ENOSPC) from a failing one (EIO) without parsing the message.
    details: { path, durableSeq, errno: writeErrno(error) },
    cause: error,
  });
}

/** A log that cannot write for now, its disk full; see the module comment. */
export class AuditOutage {
  /** When it began, in ms of the log's clock. */
  readonly since: number;
  /** What each refused record throws. */
  readonly error: ForgeError;
  readonly #errno: string;
  #refused = 0;

  constructor(path: string, cause: unknown, since: number, durableSeq: number) {
    this.since = since;
    this.#errno = writeErrno(cause);
    const reason = cause instanceof Error ? cause.message : String(cause);
    this.error = new ForgeError('FO_AUDIT_WRITE_FAILED', `audit log ${path} cannot be written for now (${reason}); records are refused until the disk has room again (the write is retried)`, {
      details: { path, durableSeq, errno: this.#errno, retrying: true },
      cause,
    });
  }

  /** Records refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /** Counts one refused record; returns the error to throw. */
  refuse(): ForgeError {
    this.#refused += 1;
    return this.error;
  }

  /** The record that notes the outage once it is over, at `now` (ms of the log's clock). */
  record(now: number): AuditEntry {
    const downMs = Math.max(0, now - this.since);
    return {
      principal: OUTAGE_PRINCIPAL,
      action: OUTAGE_ACTION,
      resource: this.#errno,
      decision: 'deny',
      reason: `the audit log could not write for ${downMs} ms (${this.#errno}) and refused ${this.#refused} records meanwhile; no record was lost`,
      data: { errno: this.#errno, since: new Date(this.since).toISOString(), down_ms: downMs, refused: this.#refused },
    };
  }
}

/**
 * Whether a log may take records: stopped for good ({@link failure}), out of space for
 * now ({@link outage}), closed, or writing (unless too much waits for the disk). The log asks {@link check} before every record; the
 * promises waiting for records to be durable are kept here, as they settle with it.
 */
export class LogHealth {
  /** Set once the log stopped for good. */
  failure: ForgeError | undefined;
  /** Set while the disk is full. */
  outage: AuditOutage | undefined;
  /** Set once the log began to close: it takes no more records. */
  closed = false;
  readonly #waiters = new DurableWaiters();

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    private readonly clock: () => number,
  ) {}

  /** The error a durability promise rejects with now, if the log cannot write. */
  get stopped(): ForgeError | undefined {
    return this.failure ?? this.outage?.error;
  }

  /** Resolves once {@link settle} reaches `seq`; rejects at once, or when the log stops or stalls first. */
  waitFor(seq: number): Promise<void> {
    const stopped = this.stopped;
    return stopped === undefined ? this.#waiters.wait(seq) : Promise.reject(stopped);
  }

  /** Records up to `lastSeq` are durable. */
  settle(lastSeq: number): void {
    this.#waiters.settle(lastSeq);
  }

  /**
   * Whether the log can take a record now, with `pending` bytes waiting for the disk.
   * @throws ForgeError FO_AUDIT_WRITE_FAILED when it cannot write (an outage counts the
   *   refusal), FO_AUDIT_CLOSED once closed, FO_AUDIT_BACKLOG over `maxPending` bytes
   */
  check(pending: number, maxPending: number): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.outage !== undefined) throw this.outage.refuse();
    if (this.closed) throw new ForgeError('FO_AUDIT_CLOSED', `audit log ${this.path} is closed`, { details: { path: this.path } });
    if (pending > maxPending) {
      throw new ForgeError('FO_AUDIT_BACKLOG', `audit log ${this.path}: ${pending} bytes wait for the disk, more than the ${maxPending} allowed`, {
        details: { path: this.path, pendingBytes: pending, limit: maxPending },
      });
    }
  }

  /** The log stops for good; false when it already had. */
  fail(error: unknown, durableSeq: number): boolean {
    if (this.failure !== undefined) return false;
    this.failure = error instanceof ForgeError && error.code === 'FO_AUDIT_WRITE_FAILED' ? error : writeFailure(this.path, error, durableSeq);
    this.logger.error('audit log failed', { path: this.path, error: this.failure.message });
    this.#waiters.rejectAll(this.failure);
    return true;
  }

  /**
   * The disk is full: pending durability promises reject (they cannot be kept now; their
   * records stay queued and are written once the disk has room).
   */
  stall(error: unknown, durableSeq: number): void {
    this.outage ??= new AuditOutage(this.path, error, this.clock(), durableSeq);
    this.logger.error('audit log cannot write, the disk is full; records are refused while the write is retried', { path: this.path, error: this.outage.error.message });
    this.#waiters.rejectAll(this.outage.error);
  }

  /** The stalled write got through: records are taken again, and `note` gets the record that notes the outage (not when the log stopped meanwhile). */
  resume(note: (entry: AuditEntry) => unknown): void {
    const outage = this.outage;
    this.outage = undefined;
    if (outage === undefined || this.failure !== undefined) return;
    const entry = outage.record(this.clock());
    this.logger.warn('audit log writes again', { path: this.path, ...entry.data });
    try {
      note(entry);
    } catch (error) {
      // The writer called this: a record refused now must not stop it.
      this.logger.error('audit log could not note its outage', { path: this.path, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
