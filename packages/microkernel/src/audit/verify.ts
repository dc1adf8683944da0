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
 */
import { availableParallelism, loadavg } from 'node:os';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ForgeError, fromFsError, type ErrorCode } from '@forgeone/common';
import { ChainChecker, GENESIS_ANCHOR, TYPE_CODE, checkStandalone } from './chain.js';
import { listSegments, statePathFor, type SegmentFile } from './files.js';
import { verifyInParallel } from './parallel.js';
import { verifyCheckpointSignature, type CheckpointVerifyKey } from './keys.js';
import { parseAuditRecord, type AuditCheckpointRecord, type AuditRecoveryRecord } from './record.js';
import { scanLines } from './scan.js';
import { readCheckpointState, type LoadedCheckpointState } from './state.js';

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
   * Worker threads for a log of 64 MiB or more (default {@link defaultVerifyThreads};
   * 1 checks on this thread only). The result is the same either way, only the time differs.
   */
  readonly threads?: number;
  /** Smallest log, in bytes, checked on worker threads (default 64 MiB: below it, starting workers costs more than it saves). */
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

const RING = 4096;

/** Mutable progress of one verification. */
class Walk {
  checker = new ChainChecker(GENESIS_ANCHOR);
  problem: AuditProblem | undefined;
  checkpoints = 0;
  lastCheckpoint: AuditVerification['lastCheckpoint'] | undefined;
  stateMatched = false;
  readonly recoveries: AuditRecoverySummary[] = [];
  readonly segments: { file: string; index: number; records: number; bytes: number }[] = [];
  // Where each of the last RING lines is, to name a record found bad after the fact.
  readonly ringFile: string[] = new Array<string>(RING).fill('');
  readonly ringLine = new Float64Array(RING);
  readonly ringOffset = new Float64Array(RING);

  /** Location of the line at 0-based position `index` (the current one or one of the last RING). */
  location(index: number, fallback: { file: string; line: number; offset: number }): AuditRecordLocation {
    const seq = this.seqBase + index + 1;
    if (index >= this.checker.position || index < this.checker.position - RING) return { ...fallback, index, seq };
    const slot = index % RING;
    return { file: this.ringFile[slot] ?? '', line: this.ringLine[slot] ?? 0, offset: this.ringOffset[slot] ?? 0, index, seq };
  }

  /** Seq of the first record checked, minus one (0 unless partial). */
  seqBase = 0;
}

function fail(walk: Walk, code: ErrorCode, message: string, record?: AuditRecordLocation): false {
  walk.problem = record === undefined ? { code, message } : { code, message, record };
  return false;
}

/** Step 4 for one checkpoint record. */
function checkCheckpoint(walk: Walk, line: string, keys: readonly CheckpointVerifyKey[], where: AuditRecordLocation): boolean {
  let record: AuditCheckpointRecord;
  try {
    record = parseAuditRecord(line) as AuditCheckpointRecord;
  } catch (error) {
    return fail(walk, 'FO_AUDIT_RECORD_CORRUPT', `checkpoint record is malformed: ${(error as Error).message}`, where);
  }
  walk.checkpoints += 1;
  walk.lastCheckpoint = { seq: record.seq, key: record.key, location: where };
  if (keys.length === 0) return true;
  const key = keys.find((candidate) => candidate.id === record.key);
  if (key === undefined) {
    return fail(walk, 'FO_AUDIT_KEY_UNKNOWN', `checkpoint is signed by key ${record.key}, not by ${keys.map((k) => k.id).join(' or ')}`, where);
  }
  if (!verifyCheckpointSignature(key, record.seq - 1, record.prev, record.sig)) {
    return fail(walk, 'FO_AUDIT_SIGNATURE_INVALID', `checkpoint signature does not verify over seq ${record.seq - 1} and hash ${record.prev.slice(0, 16)}…`, where);
  }
  return true;
}

/** Step 3 for one segment file. */
async function walkSegment(
  walk: Walk,
  segment: SegmentFile,
  last: boolean,
  keys: readonly CheckpointVerifyKey[],
  state: LoadedCheckpointState | undefined,
  partialStart: boolean,
  /** Where `state` came from (the state file, a witness), for messages. */
  stateSource: string,
): Promise<void> {
  const handle = await open(segment.path, 'r').catch((error: unknown) => {
    throw fromFsError(error, 'open an audit log segment', segment.path);
  });
  const file = segment.path;
  let line = 0;
  let records = 0;
  let needAnchor = partialStart;
  try {
    const scan = await scanLines(handle, 0, (buf, start, end, offset) => {
      line += 1;
      if (needAnchor) {
        // A partial log: trust the first record's own links and check from there.
        needAnchor = false;
        const first = checkStandalone(buf, start, end);
        if (typeof first !== 'string') {
          walk.checker = new ChainChecker({ seq: first.seq - 1, hash: first.prev });
          walk.seqBase = first.seq - 1;
        }
      }
      const index = walk.checker.position;
      const type = walk.checker.check(buf, start, end);
      if (type === 0) {
        const fault = walk.checker.fault;
        const here = { file, line, offset };
        return fail(walk, fault?.code ?? 'FO_AUDIT_RECORD_CORRUPT', fault?.message ?? 'bad record', walk.location(fault?.firstBad ?? index, here));
      }
      const slot = index % RING;
      walk.ringFile[slot] = file;
      walk.ringLine[slot] = line;
      walk.ringOffset[slot] = offset;
      records += 1;
      if (type === TYPE_CODE.checkpoint || type === TYPE_CODE.recovery || (state !== undefined && walk.checker.seq === state.seq)) {
        const where: AuditRecordLocation = { file, line, offset, index, seq: walk.checker.seq };
        const text = buf.toString('utf8', start, end);
        if (type === TYPE_CODE.checkpoint && !checkCheckpoint(walk, text, keys, where)) return false;
        if (type === TYPE_CODE.recovery) {
          let recovery: AuditRecoveryRecord;
          try {
            recovery = parseAuditRecord(text) as AuditRecoveryRecord;
          } catch (error) {
            return fail(walk, 'FO_AUDIT_RECORD_CORRUPT', `recovery record is malformed: ${(error as Error).message}`, where);
          }
          walk.recoveries.push({ seq: recovery.seq, reason: recovery.reason, cutBytes: recovery.cut_bytes, savedTo: recovery.saved_to, location: where });
        }
        if (state !== undefined && walk.checker.seq === state.seq) {
          if (walk.checker.hash !== state.hash) {
            return fail(walk, 'FO_AUDIT_STATE_INVALID', `record at seq ${state.seq} is not the checkpoint ${stateSource} holds: the log was rewritten from here or earlier`, where);
          }
          walk.stateMatched = true;
        }
      }
      return true;
    });
    walk.segments.push({ file, index: segment.index, records, bytes: scan.end });
    if (walk.problem !== undefined || scan.stop === undefined) return;
    const here = walk.location(walk.checker.position, { file, line: line + 1, offset: scan.end });
    if (scan.stop === 'incomplete') {
      fail(walk, 'FO_AUDIT_TRUNCATED', last ? 'the last line is incomplete (a torn write, or the file was cut)' : `segment ${basename(file)} ends with an incomplete line`, here);
    } else {
      fail(walk, 'FO_AUDIT_RECORD_CORRUPT', 'record is corrupt: a line is longer than any record', here);
    }
  } finally {
    await handle.close();
  }
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
  const walk = new Walk();
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
  if (numbered && stateProblem === undefined && threads > 1 && (await totalSize(segments)) >= (options.parallelFrom ?? 64 * 1024 * 1024)) {
    const summary = await verifyInParallel(segments, keys, state?.seq ?? 0, state?.hash, partial, threads);
    if (summary !== undefined) {
      walk.segments.push(...summary.segments);
      walk.checkpoints = summary.checkpoints;
      walk.lastCheckpoint = summary.lastCheckpoint;
      walk.recoveries.push(...summary.recoveries);
      walk.stateMatched = summary.stateMatched;
      return finish(walk, options.path, statePath, state, stateProblem, keys, summary.records, summary.last);
    }
  }
  let expectedIndex = firstIndex;
  for (const [position, segment] of segments.entries()) {
    if (walk.problem !== undefined) break;
    if (segment.index !== expectedIndex) {
      const here = walk.location(walk.checker.position, { file: segment.path, line: 1, offset: 0 });
      fail(walk, 'FO_AUDIT_INCOMPLETE', expectedIndex === 1 ? `the log starts at segment ${segment.index}; earlier segments are missing` : `segment ${expectedIndex} is missing before ${basename(segment.path)}`, here);
      break;
    }
    expectedIndex += 1;
    await walkSegment(walk, segment, position === segments.length - 1, keys, state, partial && position === 0, statePath ?? '');
  }
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
