/**
 * Verifies an audit log, as a pipeline of named steps:
 *
 * 1. find the segments, in order, and refuse gaps in their numbering;
 * 2. read the checkpoint state file;
 * 3. run every line of every segment through the chain check (form, hash, seq, prev);
 * 4. check every checkpoint's signature against the given public keys;
 * 5. check that the log reaches the state file's checkpoint, with the same record there.
 *
 * It stops at the first problem and names the first bad record (file, line, byte
 * offset, position, and the seq that belongs there). Tampering is a result, not an
 * exception: only a missing log or an unreadable file throws.
 *
 * Steps 3 and 4 run on worker threads for a large log (parallel.ts) and otherwise here
 * (walk.ts), where a break that the native check's runs leave unexplained is named by
 * walking the log again in JS alone.
 */
import { availableParallelism, loadavg } from 'node:os';
import { stat } from 'node:fs/promises';
import { ForgeError, type ErrorCode } from '@forgeone/common';
import { listSegments, statePathFor, type SegmentFile } from './files.js';
import { verifyInParallel } from './parallel.js';
import { verifyCheckpointSignature, type CheckpointVerifyKey } from './keys.js';
import { nativeChain } from './native.js';
import { readCheckpointState, type LoadedCheckpointState } from './state.js';
import { Walk, fail, walkSegments } from './walk.js';

/** Options of {@link verifyAuditLog}. */
export interface VerifyAuditLogOptions {
  /** The log's active path (segments are found next to it). */
  readonly path: string;
  /** Public keys checkpoints may be signed with. Empty: signatures are not checked (the result says so). */
  readonly keys?: readonly CheckpointVerifyKey[];
  /** The checkpoint state file (default `<path>.checkpoint`); null to skip the truncation check. */
  readonly statePath?: string | null;
  /**
   * A checkpoint state to check the log against instead of reading `statePath` (a witness's
   * newest line: verifyWithWitness), with where it came from, for messages.
   */
  readonly state?: { readonly source: string; readonly checkpoint: LoadedCheckpointState };
  /** Accept a log whose oldest segments were removed, checking from the first record present (default false). */
  readonly partial?: boolean;
  /**
   * Worker threads for a log of `parallelFrom` bytes or more (default {@link defaultVerifyThreads};
   * 1 checks on this thread only). The result is the same either way, only the time differs.
   */
  readonly threads?: number;
  /**
   * Smallest log, in bytes, checked on worker threads (default 256 MiB where the native
   * check runs, 64 MiB in JS: below it, starting workers, about 0.1 s, costs more than
   * they save).
   */
  readonly parallelFrom?: number;
}

/** Where a record is. */
export interface AuditRecordLocation {
  /** Segment file path. */
  readonly file: string;
  /** 1-based line in that file. */
  readonly line: number;
  /** Byte offset of the line in that file. */
  readonly offset: number;
  /** 0-based position among all the log's lines. */
  readonly index: number;
  /** The seq a record in this place should have. */
  readonly seq: number;
}

/** The first problem found. */
export interface AuditProblem {
  readonly code: ErrorCode;
  readonly message: string;
  /** The first bad record; absent when the problem is not one record's (a missing state file). */
  readonly record?: AuditRecordLocation;
}

/** A recovery record found in the log. */
export interface AuditRecoverySummary {
  readonly seq: number;
  readonly reason: string;
  readonly cutBytes: number;
  readonly savedTo: string;
  readonly location: AuditRecordLocation;
}

/** The result of {@link verifyAuditLog}. */
export interface AuditVerification {
  /** True when no problem was found. */
  readonly ok: boolean;
  readonly path: string;
  /** Records checked and found good. */
  readonly records: number;
  /** Seq and hash of the last good record (seq 0 for an empty log). */
  readonly last: { readonly seq: number; readonly hash: string };
  readonly segments: readonly { readonly file: string; readonly index: number; readonly records: number; readonly bytes: number }[];
  readonly checkpoints: number;
  /** `verified`: every checkpoint's signature was checked; `unchecked`: no keys were given; `none`: there were no checkpoints. */
  readonly signatures: 'verified' | 'unchecked' | 'none';
  readonly lastCheckpoint: { readonly seq: number; readonly key: string; readonly location: AuditRecordLocation } | undefined;
  /**
   * `matched`: the log reaches the state file's checkpoint with the same record;
   * `unmatched`: it does not, or the state file is invalid (the problem says which);
   * `unreached`: verification stopped at an earlier problem; `absent`: no state file;
   * `skipped`: not checked.
   */
  readonly state: 'matched' | 'unmatched' | 'unreached' | 'absent' | 'skipped';
  readonly recoveries: readonly AuditRecoverySummary[];
  readonly problem: AuditProblem | undefined;
}

/**
 * Verifies the audit log at `options.path` (all its segments) and names the first bad
 * record, if any.
 *
 * Detected: any changed byte; a deleted, reordered, repeated or inserted record; a
 * missing segment; a torn or cut last line; a truncation that removed the last
 * checkpoint (against the state file); a checkpoint whose signature does not verify
 * or whose key is not one of `keys`. Not detected: records appended after the last
 * checkpoint by someone who can write the file, and a rollback of the log and the
 * state file together to an earlier state (docs/audit.md).
 *
 * @throws ForgeError FO_AUDIT_LOG_NOT_FOUND when there is no log at the path; FO_IO_*
 *   when a file cannot be read
 */
export async function verifyAuditLog(options: VerifyAuditLogOptions): Promise<AuditVerification> {
  const keys = options.keys ?? [];
  // Step 1: segments in order.
  const segments = await listSegments(options.path);
  if (segments.length === 0) {
    throw new ForgeError('FO_AUDIT_LOG_NOT_FOUND', `no audit log at ${options.path} (neither the file nor rotated segments exist)`, { details: { path: options.path } });
  }
  // Step 2: the state file.
  const statePath = options.state !== undefined ? options.state.source : options.statePath === undefined ? statePathFor(options.path) : options.statePath;
  let state: LoadedCheckpointState | undefined = options.state?.checkpoint;
  let stateProblem: AuditProblem | undefined;
  if (options.state === undefined && statePath !== null) {
    try {
      state = await readCheckpointState(statePath);
    } catch (error) {
      if (!ForgeError.is(error, 'FO_AUDIT_STATE_INVALID')) throw error;
      stateProblem = { code: error.code, message: error.message };
    }
  }
  if (state !== undefined && keys.length > 0) {
    const key = keys.find((candidate) => candidate.id === state?.checkpoint.key);
    if (key === undefined || !verifyCheckpointSignature(key, state.seq - 1, state.checkpoint.prev, state.checkpoint.sig)) {
      stateProblem = { code: 'FO_AUDIT_STATE_INVALID', message: `checkpoint state ${statePath ?? ''}: its checkpoint is not signed by a given key` };
      state = undefined;
    }
  }
  // Steps 3 and 4: every line of every segment, on every core for a large log.
  const partial = options.partial === true;
  const firstIndex = partial ? (segments[0]?.index ?? 1) : 1;
  const numbered = segments.every((segment, position) => segment.index === firstIndex + position);
  const threads = options.threads ?? defaultVerifyThreads();
  if (numbered && stateProblem === undefined && threads > 1 && (await totalSize(segments)) >= (options.parallelFrom ?? defaultParallelFrom())) {
    const summary = await verifyInParallel(segments, keys, state?.seq ?? 0, state?.hash, partial, threads);
    if (summary !== undefined) {
      const walk = new Walk(false);
      walk.segments.push(...summary.segments);
      walk.checkpoints = summary.checkpoints;
      walk.lastCheckpoint = summary.lastCheckpoint;
      walk.recoveries.push(...summary.recoveries);
      walk.stateMatched = summary.stateMatched;
      return finish(walk, options.path, statePath, state, stateProblem, keys, summary.records, summary.last);
    }
  }
  let walk = await walkSegments(new Walk(nativeChain()), segments, firstIndex, keys, state, partial, statePath ?? '');
  if (walk.inexact) walk = await walkSegments(new Walk(false), segments, firstIndex, keys, state, partial, statePath ?? '');
  return finish(walk, options.path, statePath, state, stateProblem, keys, walk.checker.position, { seq: walk.checker.seq, hash: walk.checker.hash });
}

/**
 * The cores that are idle now (available parallelism minus the 1-minute load average),
 * from 1 to 8: hashing does not speed up on cores that other work keeps busy, and
 * worker threads there only add their start-up cost.
 */
export function defaultVerifyThreads(): number {
  const idle = availableParallelism() - (loadavg()[0] ?? 0);
  return Math.max(1, Math.min(8, Math.round(idle)));
}

/**
 * A range worker takes about 0.1 s to start, in which one thread checks about 140 MB
 * natively (30 MB in JS); on two idle cores, workers save time only on logs of about
 * twice that (docs/audit.md).
 */
function defaultParallelFrom(): number {
  return (nativeChain() ? 256 : 64) * 1024 * 1024;
}

function stateStatus(walk: Walk, statePath: string | null, state: LoadedCheckpointState | undefined, stateProblem: AuditProblem | undefined): AuditVerification['state'] {
  if (statePath === null) return 'skipped';
  if (walk.stateMatched) return 'matched';
  if (state === undefined && stateProblem === undefined) return 'absent';
  const aboutState = walk.problem?.code === 'FO_AUDIT_STATE_INVALID' || walk.problem?.code === 'FO_AUDIT_TRUNCATED';
  return aboutState ? 'unmatched' : 'unreached';
}

async function totalSize(segments: readonly SegmentFile[]): Promise<number> {
  let total = 0;
  for (const segment of segments) total += (await stat(segment.path).catch(() => ({ size: 0 }))).size;
  return total;
}

/** Step 5 and the result: the log reaches the state file's checkpoint. */
function finish(
  walk: Walk,
  path: string,
  statePath: string | null,
  state: LoadedCheckpointState | undefined,
  stateProblem: AuditProblem | undefined,
  keys: readonly CheckpointVerifyKey[],
  records: number,
  last: { readonly seq: number; readonly hash: string },
): AuditVerification {
  if (walk.problem === undefined && stateProblem !== undefined) walk.problem = stateProblem;
  if (walk.problem === undefined && state !== undefined && !walk.stateMatched) {
    const lastSegment = walk.segments.at(-1);
    const here = walk.location(records, { file: lastSegment?.file ?? path, line: (lastSegment?.records ?? 0) + 1, offset: lastSegment?.bytes ?? 0 });
    fail(walk, 'FO_AUDIT_TRUNCATED', `the log ends at seq ${last.seq}, before the checkpoint at seq ${state.seq} recorded in ${statePath ?? ''}: records were cut`, here);
  }
  if (walk.problem === undefined && state === undefined && statePath !== null && walk.checkpoints > 0) {
    fail(walk, 'FO_AUDIT_STATE_MISSING', `the log holds ${walk.checkpoints} checkpoints but its state file ${statePath} is missing, so truncation cannot be ruled out`);
  }
  return {
    ok: walk.problem === undefined,
    path,
    records,
    last: { seq: last.seq, hash: last.hash },
    segments: walk.segments,
    checkpoints: walk.checkpoints,
    signatures: walk.checkpoints === 0 ? 'none' : keys.length === 0 ? 'unchecked' : 'verified',
    lastCheckpoint: walk.lastCheckpoint,
    state: stateStatus(walk, statePath, state, stateProblem),
    recoveries: walk.recoveries,
    problem: walk.problem,
  };
}
