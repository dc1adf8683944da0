/**
 * Steps 3 and 4 of verification on this thread (verify.ts runs the pipeline): every line
 * of every segment, in order, through the chain check, and every checkpoint's signature,
 * stopping at the first problem, with the place of every recent line kept to name the
 * first bad record.
 *
 * Runs of lines go to the native check where it loads (ChainChecker.checkRun) and the
 * lines it leaves (checkpoints, recoveries, the state's record, a bad line) to the JS
 * check. A break found shortly after such a run is explained against records the run did
 * not keep: the walk says so ({@link Walk.inexact}) and the caller walks again in JS alone.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { fromFsError, type ErrorCode } from '@forgeone/common';
import { ChainChecker, GENESIS_ANCHOR, TYPE_CODE, checkStandalone } from './chain.js';
import type { SegmentFile } from './files.js';
import { verifyCheckpointSignature, type CheckpointVerifyKey } from './keys.js';
import { parseAuditRecord, type AuditCheckpointRecord, type AuditRecoveryRecord } from './record.js';
import { MAX_LINE, scanLines } from './scan.js';
import type { LoadedCheckpointState } from './state.js';
import type { AuditProblem, AuditRecordLocation, AuditRecoverySummary, AuditVerification } from './verify.js';

const RING = 4096;

/** Mutable progress of one verification. */
export class Walk {
  /** @param runs whether runs of lines go to the native check (ChainChecker.checkRun) */
  constructor(readonly runs: boolean) {}
  checker = new ChainChecker(GENESIS_ANCHOR);
  /** Set when the problem is a break the checker could not explain exactly (ChainFault.exact). */
  inexact = false;
  problem: AuditProblem | undefined;
  checkpoints = 0;
  lastCheckpoint: AuditVerification['lastCheckpoint'] | undefined;
  stateMatched = false;
  readonly recoveries: AuditRecoverySummary[] = [];
  readonly segments: { file: string; index: number; records: number; bytes: number }[] = [];
  // Where each of the last RING lines the JS check saw is, to name a record found bad after
  // the fact (only a break names an earlier record, and after a native run it is inexact).
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

/** Records the walk's problem (the first; the walk stops at it); false, to stop a scan. */
export function fail(walk: Walk, code: ErrorCode, message: string, record?: AuditRecordLocation): false {
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
  // Lines good as far as the native check sees go in runs; the state's record goes to the visitor.
  const run = (buf: Buffer, start: number, end: number): number => {
    if (needAnchor) return start;
    const before = walk.checker.position;
    const stop = walk.checker.checkRun(buf, start, end, end, MAX_LINE, state?.seq ?? 0);
    line += walk.checker.position - before;
    records += walk.checker.position - before;
    return stop;
  };
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
        walk.inexact = fault?.exact === false;
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
    }, walk.runs ? { run } : {});
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

/** Steps 3 and 4 on this thread: every segment in order, stopping at the first problem. */
export async function walkSegments(
  walk: Walk,
  segments: readonly SegmentFile[],
  firstIndex: number,
  keys: readonly CheckpointVerifyKey[],
  state: LoadedCheckpointState | undefined,
  partial: boolean,
  stateSource: string,
): Promise<Walk> {
  let expectedIndex = firstIndex;
  for (const [position, segment] of segments.entries()) {
    if (walk.problem !== undefined) break;
    if (segment.index !== expectedIndex) {
      const here = walk.location(walk.checker.position, { file: segment.path, line: 1, offset: 0 });
      fail(walk, 'FO_AUDIT_INCOMPLETE', expectedIndex === 1 ? `the log starts at segment ${segment.index}; earlier segments are missing` : `segment ${expectedIndex} is missing before ${basename(segment.path)}`, here);
      break;
    }
    expectedIndex += 1;
    await walkSegment(walk, segment, position === segments.length - 1, keys, state, partial && position === 0, stateSource);
  }
  return walk;
}
