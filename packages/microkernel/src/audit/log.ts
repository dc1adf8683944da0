/**
 * The audit log a host writes: `AuditLog.open` recovers the log, `append` encodes records
 * into the open batch, the chain (chainer.ts) hashes them and a group-commit writer makes
 * them durable. Checkpoints, rotation and the state file are kept here (docs/audit.md).
 */
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fromFsError } from '@forgeone/common';
import { FillingBatch } from './batch.js';
import type { ChainAnchor } from './chain.js';
import { SIG_LENGTH } from './chain-fill.js';
import { Chainer } from './chainer.js';
import { acquireLock, listSegments, statePathFor } from './files.js';
import { TimestampCache } from './format.js';
import { AuditObservers, type AuditObserver } from './observers.js';
import { auditLevelAdmits, type AuditEventClass, type AuditLevel } from './level.js';
import { resolveLogOptions, type AuditLogOptions, type AuditLogStats, type AuditSink, type OpenedLogParts, type ResolvedLogOptions } from './options.js';
import { encodeEventFields, type AuditDecisionReport, type AuditEntry } from './record.js';
import { ReportBytesCache } from './report-cache.js';
import { LogHealth } from './outage.js';
import { recoverActiveSegment, recoveryFields, type TornTail } from './recovery.js';
import { readCheckpointState } from './state.js';
import { CheckpointStateQueue } from './durability.js';
import { GroupCommitWriter, type DurableCheckpoint } from './writer.js';

/**
 * An open, writable audit log. One writer per log (a lock file enforces it).
 *
 * Appending is synchronous and never waits for the disk: the record gets its seq at once
 * and joins the open batch, hashed in the group commit and written with one `writev` and one
 * `fdatasync` when it holds {@link AuditLogOptions.batchRecords} records or is
 * {@link AuditLogOptions.batchDelay} ms old. Await {@link durable}, {@link flush} or
 * {@link appendDurable} to know a record is on disk. If the disk fails, the log stops:
 * every later append throws FO_AUDIT_WRITE_FAILED and pending promises reject, so a
 * caller that audits before allowing fails closed; while the disk is full, until a retry
 * of the write gets through (outage.ts).
 */
export class AuditLog implements AuditSink {
  /** Absolute path of the active segment. */
  readonly path: string;
  readonly level: AuditLevel;
  /** The log's clock (ms since the epoch), for a reporter that reads it once per call: see {@link AuditDecisionReport.at}. */
  readonly clock: () => number;
  private readonly options: ResolvedLogOptions;
  private readonly writer: GroupCommitWriter;
  private readonly release: () => Promise<void>;
  private readonly recordsAdmitted: readonly boolean[];

  private seqValue: number;
  private readonly chain: Chainer;
  private durableSeqValue: number;
  private segment: number;
  private segmentBytes: number;
  private sinceCheckpoint: number;
  private pending = 0;
  private readonly batch: FillingBatch;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private readonly states: CheckpointStateQueue;
  /** Stopped for good, out of space for now, or writing (outage.ts). */
  private readonly health: LogHealth;
  private closing: Promise<void> | undefined;
  private appended = 0;
  private lastCheckpointAt: number | undefined;
  private readonly openedAt: number;
  private readonly clockText: TimestampCache;
  // Encoded fields of the bridge's reports, per identity and action: a plugin's calls repeat.
  private readonly reports = new ReportBytesCache();
  private readonly observers: AuditObservers;

  private constructor(init: OpenedLogParts) {
    this.path = init.path;
    this.options = init.options;
    this.level = init.options.level;
    this.clock = init.options.clock;
    this.health = new LogHealth(init.path, init.options.logger, init.options.clock);
    this.states = new CheckpointStateQueue(statePathFor(init.path), {
      onCheckpoint: init.options.onCheckpoint,
      logger: init.options.logger,
      failed: (error) => this.fail(error),
      stopped: () => this.health.failure !== undefined,
    });
    this.writer = init.writer;
    this.chain = new Chainer(init.head.hash, init.options.signingKey, init.options.logger, init.options.chainWorker);
    const records = init.options.batchRecords;
    this.batch = new FillingBatch({ records, delayMs: init.options.batchDelay }, (batch) => (this.chain.submit(batch, batch.records >= records, () => this.writer.reserve(batch)), this.writer.enqueue(batch)));
    this.release = init.release;
    this.recordsAdmitted = (['denial', 'decision', 'call'] as const).map((event) => auditLevelAdmits(this.level, event));
    this.seqValue = init.head.seq;
    this.durableSeqValue = init.head.seq;
    this.segment = init.segment;
    this.segmentBytes = init.segmentBytes;
    this.sinceCheckpoint = init.sinceCheckpoint;
    this.openedAt = init.options.clock();
    this.clockText = new TimestampCache(init.options.clock);
    this.observers = new AuditObservers(init.options.logger);
  }

  /** Starts the checkpoint timer: only once the log is open, so a failed open leaves nothing running. */
  private startCheckpointTimer(): void {
    const { signingKey, checkpointInterval } = this.options;
    if (signingKey === undefined || checkpointInterval === 0) return;
    this.checkpointTimer = setInterval(() => {
      if (this.sinceCheckpoint > 0 && this.health.stopped === undefined && this.closing === undefined) this.writeCheckpoint();
    }, checkpointInterval);
    this.checkpointTimer.unref();
  }

  /**
   * Opens (creating if needed) the log at `options.path` for writing: takes the lock,
   * reads the checkpoint state, recovers the active segment (cutting a torn tail and
   * recording that in a durable recovery record), and starts a new segment record when
   * the active file is new after a rotation.
   *
   * @throws ForgeError FO_AUDIT_LOCKED, FO_AUDIT_CORRUPT, FO_AUDIT_TRUNCATED,
   *   FO_AUDIT_STATE_INVALID, FO_AUDIT_OPTIONS_INVALID, FO_IO_*
   */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const resolved = resolveLogOptions(options);
    const path = resolve(options.path);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw fromFsError(error, 'create the audit log directory', dirname(path));
    });
    const release = await acquireLock(path);
    let handle;
    try {
      const state = await readCheckpointState(statePathFor(path));
      handle = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600).catch((error: unknown) => {
        throw fromFsError(error, 'open the audit log', path);
      });
      const segments = await listSegments(path);
      const recovered = await recoverActiveSegment(path, handle, segments, state, resolved.clock());
      const writer = new GroupCommitWriter(path, handle, recovered.activeIndex, recovered.activeSize, {
        durable: (lastSeq, bytes, checkpoint) => log.onDurable(lastSeq, bytes, checkpoint),
        failed: (error) => log.fail(error),
        stalled: (error) => log.health.stall(error, log.durableSeqValue),
        // The first record after an outage notes it (unless the log is closing).
        resumed: () => log.health.resume((entry) => log.closing === undefined && log.append(entry)),
        preWritesSettled: () => log.chain.where !== 'dead',
      });
      const log: AuditLog = new AuditLog({
        path,
        options: resolved,
        head: recovered.head,
        segment: recovered.activeIndex,
        segmentBytes: recovered.activeSize,
        sinceCheckpoint: recovered.head.seq - recovered.lastCheckpointSeq,
        writer,
        release,
      });
      if (resolved.signingKey === undefined) resolved.logger.warn('audit log has no checkpoint key: no signed checkpoints, truncation of its tail cannot be detected', { path });
      if (recovered.cut !== undefined) {
        log.appendRecovery(recovered.cut);
        resolved.logger.warn('audit log had a torn tail; cut and kept aside', { path, ...recovered.cut });
      } else if (recovered.activeSize === 0 && recovered.activeIndex > 1) {
        log.appendSegment();
      }
      await log.flush();
      log.startCheckpointTimer();
      return log;
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await release();
      throw error;
    }
  }

  /** Seq of the last record appended (0 for an empty log). */
  get seq(): number {
    return this.seqValue;
  }

  /** Seq of the last record known to be on disk. */
  get durableSeq(): number {
    return this.durableSeqValue;
  }

  /** Seq and hash of the last record appended (the hash is computed now if the chain has not reached it yet). */
  get head(): ChainAnchor {
    return { seq: this.seqValue, hash: this.chain.head(this.batch.current) };
  }

  /** Bytes encoded and not yet durable. */
  get pendingBytes(): number {
    return this.pending;
  }

  shouldRecord(event: AuditEventClass): boolean {
    return this.recordsAdmitted[event === 'denial' ? 0 : event === 'decision' ? 1 : 2] === true;
  }

  /**
   * Appends an event record. Synchronous: it is encoded, hashed and queued, not yet
   * durable. Does not consult the level (callers ask {@link shouldRecord}).
   *
   * @returns the record's seq
   * @throws ForgeError FO_AUDIT_RECORD_INVALID (nothing is written), FO_AUDIT_CLOSED,
   *   FO_AUDIT_WRITE_FAILED, FO_AUDIT_BACKLOG
   */
  append(entry: AuditEntry): number {
    this.assertWritable();
    const fields = encodeEventFields(entry);
    const seq = this.seqValue + 1;
    const ts = this.clockText.now();
    this.commit(seq, ts, `event"${fields}`, -1);
    this.afterRecord();
    if (this.observers.active) this.observers.notifyEvent(seq, ts, entry.principal, entry.plugin, entry.action, entry.resource, entry.decision, entry.reason);
    return seq;
  }

  /**
   * Records a decision the syscall bridge reports, so an AuditLog can be the bridge's
   * audit port: `allowed` becomes `decision`, the identity becomes `principal` and
   * `plugin` (encoded once per IdentityContext object). Its time is `report.at` when the
   * reporter read {@link clock} for it, else the clock is read now.
   *
   * @throws ForgeError as {@link append}
   */
  record(report: AuditDecisionReport): void {
    this.assertWritable();
    const { identity, action, resource, allowed, reason, requested, at } = report;
    const ts = at === undefined ? this.clockText.now() : this.clockText.at(at);
    // The record after its seq is encoded once per distinct report (and timestamp) and copied after (report-cache.ts).
    const { timed, copies } = this.reports.timed(identity, action, resource, allowed, reason, requested, ts);
    const seq = this.seqValue + 1;
    this.counted(seq, copies === undefined ? this.batch.pushFrame(this.segment, seq, timed) : this.batch.pushCopies(this.segment, seq, copies));
    this.afterRecord();
    if (this.observers.active) this.observers.notifyEvent(seq, ts, identity.principal, identity.plugin?.digest, action, resource, allowed ? 'allow' : 'deny', reason);
  }

  /**
   * Calls `observer` with every event record appended from now on (not checkpoints,
   * segment or recovery records), synchronously, once it has its seq; the record may
   * not be durable yet. Returns the function that stops it.
   */
  observe(observer: AuditObserver): () => void {
    return this.observers.add(observer);
  }

  /**
   * Appends and resolves once the record is durable.
   * @throws ForgeError as {@link append}; rejects with FO_AUDIT_WRITE_FAILED
   */
  async appendDurable(entry: AuditEntry): Promise<number> {
    const seq = this.append(entry);
    await this.durable(seq);
    return seq;
  }

  /**
   * Resolves once record `seq` (and every record before it) is on disk; it waits for
   * the batch's natural commit (at most {@link AuditLogOptions.batchDelay} ms). A seq
   * not appended yet waits until it is. Rejects with FO_AUDIT_WRITE_FAILED if the log
   * failed, or found the disk full, first (the record is still written once it has room).
   */
  durable(seq: number): Promise<void> {
    return seq <= this.durableSeqValue ? Promise.resolve() : this.health.waitFor(seq);
  }

  /** Writes the open batch now and resolves when everything appended so far is durable. */
  flush(): Promise<void> {
    this.batch.seal();
    return this.durable(this.seqValue);
  }

  /**
   * Writes a checkpoint now (if a record was appended since the last one) and resolves with
   * its seq once it is durable and in the state file; undefined without a key or new records.
   * @throws ForgeError FO_AUDIT_CLOSED, FO_AUDIT_WRITE_FAILED
   */
  async checkpoint(): Promise<number | undefined> {
    this.assertWritable();
    if (this.options.signingKey === undefined || this.sinceCheckpoint === 0) return undefined;
    const seq = this.writeCheckpoint();
    await this.flush();
    await this.states.idle();
    if (this.health.failure !== undefined) throw this.health.failure;
    return seq;
  }

  /** The writer's counters and the queue. */
  stats(): AuditLogStats {
    const { appended, openedAt, lastCheckpointAt } = this;
    const hashedOffThread = this.chain.offThread;
    return { ...this.writer.stats(), seq: this.seqValue, durableSeq: this.durableSeqValue, pendingBytes: this.pending, appended, openedAt, lastCheckpointAt, hashedOffThread };
  }

  /**
   * Writes a final checkpoint (with a key, if anything was written since the last one),
   * waits until everything is durable, closes the file and releases the lock. Later
   * appends throw FO_AUDIT_CLOSED.
   *
   * @throws ForgeError FO_AUDIT_WRITE_FAILED when the log had failed (records were lost)
   */
  close(): Promise<void> {
    this.health.closed = true;
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.checkpointTimer !== undefined) clearInterval(this.checkpointTimer);
    // Closing during an outage: the stranded records are lost, and close says so.
    if (this.health.outage !== undefined) this.fail(this.health.outage.error, true);
    try {
      if (this.health.failure === undefined) {
        if (this.options.signingKey !== undefined && this.sinceCheckpoint > 0) this.writeCheckpoint();
        this.batch.seal();
        await this.durable(this.seqValue).catch(() => undefined);
        await this.writer.idle();
        await this.states.idle();
      }
      await this.writer.close();
    } finally {
      this.batch.cancel();
      await this.chain.close();
      this.writer.closePreWrites();
      await this.release();
    }
    if (this.health.failure !== undefined) throw this.health.failure;
  }

  private assertWritable(): void {
    this.health.check(this.pending, this.options.maxPendingBytes);
  }

  /** Encodes a record (type word and fields: `typed`; a checkpoint's sig at `sigOffset`, else -1) into the batch; the chain fills prev, sig, hash. */
  private commit(seq: number, ts: string, typed: string, sigOffset: number): void {
    this.counted(seq, this.batch.push(this.segment, seq, ts, typed, sigOffset, sigOffset >= 0));
  }

  /** Record `seq`, of `bytes` bytes, is in the batch. */
  private counted(seq: number, bytes: number): void {
    this.seqValue = seq;
    this.appended += 1;
    this.pending += bytes;
    this.segmentBytes += bytes;
  }

  /** After a non-checkpoint record: checkpoint or rotate when due. */
  private afterRecord(): void {
    this.sinceCheckpoint += 1;
    if (this.options.signingKey !== undefined && this.sinceCheckpoint >= this.options.checkpointEvery) this.writeCheckpoint();
    if (this.segmentBytes >= this.options.rotateSize) this.rotate();
  }

  /** Appends a checkpoint signing the current head; returns its seq. */
  private writeCheckpoint(): number {
    const key = this.options.signingKey;
    if (key === undefined) return this.seqValue;
    const seq = this.seqValue + 1;
    // The chain signs (seq - 1, prev) into the room left for sig, once it knows prev.
    const typed = `checkpoint","key":"${key.id}","sig":"`;
    this.commit(seq, this.clockText.now(), `${typed}${'0'.repeat(SIG_LENGTH)}"`, typed.length);
    this.sinceCheckpoint = 0;
    this.lastCheckpointAt = this.options.clock();
    return seq;
  }

  /** Ends the active segment (after a final checkpoint) and starts the next with a segment record. */
  private rotate(): void {
    if (this.options.signingKey !== undefined && this.sinceCheckpoint > 0) this.writeCheckpoint();
    this.batch.seal();
    this.segment += 1;
    this.segmentBytes = 0;
    this.appendSegment();
  }

  private appendSegment(): void {
    const seq = this.seqValue + 1;
    this.commit(seq, this.clockText.now(), `segment","segment":${this.segment}`, -1);
    this.sinceCheckpoint += 1;
  }

  private appendRecovery(cut: TornTail): void {
    const seq = this.seqValue + 1;
    this.commit(seq, this.clockText.now(), `recovery"${recoveryFields(cut)}`, -1);
    this.sinceCheckpoint += 1;
  }

  private onDurable(lastSeq: number, bytes: number, checkpoint: DurableCheckpoint | undefined): void {
    this.durableSeqValue = lastSeq;
    this.pending -= bytes;
    this.health.settle(lastSeq);
    if (checkpoint !== undefined) this.states.push(checkpoint);
  }

  /** Stops the log for good; `abandon`: the writer stops retrying a stalled write too. */
  private fail(error: unknown, abandon = false): void {
    if (abandon) this.writer.abandon();
    if (!this.health.fail(error, this.durableSeqValue)) return;
    this.batch.cancel();
    if (this.checkpointTimer !== undefined) clearInterval(this.checkpointTimer);
  }
}
