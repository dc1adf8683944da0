/**
 * The daemon's audit log, read back for `GET /v1/audit` and `GET /v1/audit/verify`
 * with the functions `forge audit tail` and `forge audit verify` use (readAuditTail,
 * verifyAuditLog, the public key next to the configured checkpoint key), on the paths
 * of the daemon's own configuration (`audit.path`, `audit.checkpoint_key`).
 *
 * The daemon writes the log while it is read: both first wait until what was appended
 * is on disk, so an answer includes every record appended before the request. A
 * verification that meets an incomplete last line while the log is being written runs
 * once more (a batch was being written at that instant). Verifications are shared:
 * requests that arrive while one runs get its result, so clients cannot make the daemon
 * hash the whole log many times at once.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { ForgeError, fromFsError } from '@forgeone/common';
import { loadCheckpointVerifyKey, readAuditTail, verifyAuditLog, type AuditLog, type AuditPaths, type AuditRecord, type AuditRecordLocation, type AuditVerification } from '@forgeone/microkernel';
import { parseSince } from '../cli/commands/audit/tail.js';

/** What `GET /v1/audit` asks for. */
export interface AuditQuery {
  /** The newest this many matching records. */
  readonly limit: number;
  /** A duration back from now (`10m`) or an ISO time. */
  readonly since?: string;
  /** A plugin's name, publisher/name[@version] or package digest. */
  readonly plugin?: string;
}

/** What `GET /v1/audit/verify` answers. */
export interface AuditCheck {
  readonly ok: boolean;
  /** Records checked and found good. */
  readonly records: number;
  readonly checkpoints: number;
  /** `verified` with the public key next to the checkpoint key, `unchecked` without one, `none` without checkpoints. */
  readonly signatures: AuditVerification['signatures'];
  /** Seconds since the last checkpoint was written, when there is one. */
  readonly lastCheckpointAge?: number;
  /** The first bad record: the seq that belongs there, and why it is bad. */
  readonly firstBad?: { readonly seq: number; readonly reason: string };
  /** The problem found, also when it is not one record's (a damaged state file). */
  readonly problem?: { readonly code: string; readonly message: string };
}

/** See the module comment. */
export class AuditReader {
  readonly #paths: AuditPaths;
  readonly #log: AuditLog | undefined;
  readonly #clock: () => number;
  #verifying: Promise<AuditCheck> | undefined;

  constructor(paths: AuditPaths, log: AuditLog | undefined, clock: () => number = Date.now) {
    this.#paths = paths;
    this.#log = log;
    this.#clock = clock;
  }

  /**
   * The newest records matching `query`, oldest first.
   * @throws ForgeError FO_DAEMON_BAD_REQUEST (a `since` that is neither a duration nor a
   *   time), FO_AUDIT_LOG_NOT_FOUND, FO_IO_*
   */
  async tail(query: AuditQuery): Promise<{ readonly records: readonly AuditRecord[]; readonly unreadable: number }> {
    let since: number | undefined;
    if (query.since !== undefined) {
      try {
        since = parseSince(query.since, this.#clock());
      } catch {
        throw new ForgeError('FO_DAEMON_BAD_REQUEST', `since expects a duration like 10m or an ISO time like 2025-01-02T03:04:05Z, found ${JSON.stringify(query.since.slice(0, 80))}`);
      }
    }
    await this.#settled();
    const tail = await readAuditTail({
      path: this.#paths.log,
      limit: query.limit,
      ...(since === undefined ? {} : { since }),
      ...(query.plugin === undefined ? {} : { plugin: query.plugin }),
    });
    return { records: tail.records, unreadable: tail.unreadable };
  }

  /**
   * Verifies the log (chain, checkpoint signatures, truncation against the state file).
   * @throws ForgeError FO_AUDIT_LOG_NOT_FOUND, FO_AUDIT_KEY_INVALID (an unreadable public key), FO_IO_*
   */
  verify(): Promise<AuditCheck> {
    this.#verifying ??= this.#verify().finally(() => {
      this.#verifying = undefined;
    });
    return this.#verifying;
  }

  async #verify(): Promise<AuditCheck> {
    const keys = existsSync(this.#paths.publicKey) ? [await loadCheckpointVerifyKey(this.#paths.publicKey)] : [];
    await this.#settled();
    let result = await verifyAuditLog({ path: this.#paths.log, keys });
    if (result.problem?.code === 'FO_AUDIT_TRUNCATED' && this.#log !== undefined && this.#log.seq > result.last.seq) {
      await this.#settled();
      result = await verifyAuditLog({ path: this.#paths.log, keys });
    }
    const age = result.lastCheckpoint === undefined ? undefined : await this.#ageOf(result.lastCheckpoint.location);
    const { problem } = result;
    return {
      ok: result.ok,
      records: result.records,
      checkpoints: result.checkpoints,
      signatures: result.signatures,
      ...(age === undefined ? {} : { lastCheckpointAge: age }),
      ...(problem?.record === undefined ? {} : { firstBad: { seq: problem.record.seq, reason: `${problem.code}: ${problem.message}` } }),
      ...(problem === undefined ? {} : { problem: { code: problem.code, message: problem.message } }),
    };
  }

  /** Waits until everything appended so far is on disk (a failed log is reported by its next writer, not here). */
  async #settled(): Promise<void> {
    await this.#log?.flush().catch(() => undefined);
  }

  /** Seconds since the record at `location` was written, from its `ts`; undefined when it cannot be read. */
  async #ageOf(location: AuditRecordLocation): Promise<number | undefined> {
    const handle = await open(location.file, 'r').catch((error: unknown) => {
      throw fromFsError(error, 'open an audit log segment', location.file);
    });
    try {
      // A checkpoint line is short (about 400 bytes); its ts sits near its start.
      const buffer = Buffer.alloc(1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, location.offset);
      const ts = /"ts":"([^"]{1,40})"/.exec(buffer.toString('utf8', 0, bytesRead))?.[1];
      const at = ts === undefined ? Number.NaN : Date.parse(ts);
      return Number.isNaN(at) ? undefined : Math.max(0, Math.round((this.#clock() - at) / 1000));
    } finally {
      await handle.close();
    }
  }
}
