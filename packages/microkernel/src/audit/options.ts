/**
 * The options of an audit log and the interfaces it offers, with the defaults and
 * checks of those options in one place.
 */
import { ForgeError, silentLogger, type Logger } from '@forgeone/common';
import type { ChainAnchor } from './chain.js';
import type { CheckpointKey } from './keys.js';
import { DEFAULT_AUDIT_LEVEL, type AuditEventClass, type AuditLevel } from './level.js';
import type { AuditDecisionReport, AuditEntry } from './record.js';
import type { DurableCheckpoint, GroupCommitWriter, WriterStats } from './writer.js';

/** What the syscall bridge needs from an audit log: the level check and a cheap append. */
export interface AuditSink {
  readonly level: AuditLevel;
  /** True when an event of this class is recorded at this sink's level. */
  shouldRecord(event: AuditEventClass): boolean;
  /** Records `entry` unconditionally (ask {@link shouldRecord} first); returns its seq. */
  append(entry: AuditEntry): number;
  /** Records a policy decision as the syscall bridge reports it (its `AuditPort.record`). */
  record(report: AuditDecisionReport): void;
}

/** A signed checkpoint that is durable in the log, as given to `AuditLogOptions.onCheckpoint`. */
export interface AuditCheckpointNotice extends DurableCheckpoint {
  /** The record it attests: seq - 1, with hash = the checkpoint's prev. */
  readonly covers: ChainAnchor;
}

/** Options of {@link AuditLog.open}. Defaults are those of the `audit` config table. */
export interface AuditLogOptions {
  /** The active segment; rotated segments and the state file sit next to it. Its directory is created (mode 0700) if missing. */
  readonly path: string;
  /** Default `decisions`. */
  readonly level?: AuditLevel;
  /** Signs checkpoints. Without it no checkpoints are written and truncation of the tail cannot be detected. */
  readonly signingKey?: CheckpointKey;
  /** Checkpoint after this many records (default 10,000). */
  readonly checkpointEvery?: number;
  /** Checkpoint after this many milliseconds if a record was written since the last one (default 60,000; 0 turns it off). */
  readonly checkpointInterval?: number;
  /** Rotate once the active segment reaches this many bytes (default 64 MiB). */
  readonly rotateSize?: number;
  /** Most records in a batch (default 1,000). */
  readonly batchRecords?: number;
  /** Longest time in milliseconds a record waits before its batch is written (default 10). */
  readonly batchDelay?: number;
  /** Most bytes that may wait for the disk before append refuses with FO_AUDIT_BACKLOG (default 64 MiB). */
  readonly maxPendingBytes?: number;
  /** Milliseconds since the epoch, for timestamps (default Date.now). */
  readonly clock?: () => number;
  readonly logger?: Logger;
  /** Called with every checkpoint once it is durable, e.g. to forward it off the host. Must not throw. */
  readonly onCheckpoint?: (checkpoint: AuditCheckpointNotice) => void;
  /**
   * Hash and sign records on a worker thread once the log is busy (its first full
   * batch), so that appending costs the caller's thread only the encoding (default
   * true). false: on the log's thread. The log's bytes are the same either way.
   */
  readonly chainWorker?: boolean;
}

/** Counters of a log's writer plus its queue. */
export interface AuditLogStats extends WriterStats {
  /** Last seq appended, and last seq durable. */
  readonly seq: number;
  readonly durableSeq: number;
  /** Bytes encoded but not yet durable. */
  readonly pendingBytes: number;
  /** Records this log object appended since it was opened (checkpoints included), for metrics. */
  readonly appended: number;
  /** When the log was opened, in ms of its clock. */
  readonly openedAt: number;
  /** When this log object last appended a signed checkpoint, in ms of its clock; undefined before its first. */
  readonly lastCheckpointAt: number | undefined;
  /** Batches hashed and signed on the chain worker rather than on the log's thread (see `chainWorker`). */
  readonly hashedOffThread: number;
}

/** {@link AuditLogOptions} with every default filled in and every value checked. */
export interface ResolvedLogOptions {
  readonly level: AuditLevel;
  readonly signingKey: CheckpointKey | undefined;
  readonly checkpointEvery: number;
  readonly checkpointInterval: number;
  readonly rotateSize: number;
  readonly batchRecords: number;
  readonly batchDelay: number;
  readonly maxPendingBytes: number;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly onCheckpoint: ((checkpoint: AuditCheckpointNotice) => void) | undefined;
  readonly chainWorker: boolean;
}

/** What `AuditLog.open` hands the log it opened: where it stands after recovery, and its writer. */
export interface OpenedLogParts {
  readonly path: string;
  readonly options: ResolvedLogOptions;
  /** Seq and hash of the last record in the log. */
  readonly head: ChainAnchor;
  readonly segment: number;
  readonly segmentBytes: number;
  readonly sinceCheckpoint: number;
  readonly writer: GroupCommitWriter;
  /** Releases the log's lock. */
  readonly release: () => Promise<void>;
}

const MiB = 1024 * 1024;

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ForgeError('FO_AUDIT_OPTIONS_INVALID', `audit log option ${name} must be an integer of at least ${min}, found ${String(value)}`, { details: { field: name } });
  }
  return value;
}

/**
 * Fills in the defaults and checks every number.
 * @throws ForgeError FO_AUDIT_OPTIONS_INVALID naming the first bad option
 */
export function resolveLogOptions(options: AuditLogOptions): ResolvedLogOptions {
  return {
    level: options.level ?? DEFAULT_AUDIT_LEVEL,
    signingKey: options.signingKey,
    checkpointEvery: integer('checkpointEvery', options.checkpointEvery, 10_000, 1),
    checkpointInterval: integer('checkpointInterval', options.checkpointInterval, 60_000, 0),
    rotateSize: integer('rotateSize', options.rotateSize, 64 * MiB, 4096),
    batchRecords: integer('batchRecords', options.batchRecords, 1000, 1),
    batchDelay: integer('batchDelay', options.batchDelay, 10, 0),
    maxPendingBytes: integer('maxPendingBytes', options.maxPendingBytes, 64 * MiB, 64 * 1024),
    clock: options.clock ?? Date.now,
    logger: options.logger ?? silentLogger,
    onCheckpoint: options.onCheckpoint,
    chainWorker: options.chainWorker ?? true,
  };
}
