/**
 * Checks one byte range of one segment on its own: every line that starts in the range
 * is checked for form and hash and against the line before it in the range, and every
 * checkpoint's signature is checked. The range's first record is taken as it is; the
 * caller stitches ranges together (each range's first seq and prev must continue the
 * previous range's last seq and hash). Worker threads run this to verify a large log
 * on every core; it reports only whether the range is clean, and on any doubt the
 * caller re-runs the sequential verifier, which names the first bad record exactly.
 */
import type { KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { ChainChecker, TYPE_CODE, checkStandalone } from './chain.js';
import { checkpointKeyId, verifyCheckpointSignature } from './keys.js';
import { parseAuditRecord, type AuditCheckpointRecord, type AuditRecoveryRecord } from './record.js';
import { MAX_LINE, scanLines } from './scan.js';

/** One range to check. */
export interface RangeTask {
  readonly file: string;
  /** Lines whose first byte lies in [start, end) belong to the range. */
  readonly start: number;
  readonly end: number;
  readonly keys: readonly KeyObject[];
  /** Seq whose hash the caller wants (the state file's checkpoint), 0 for none. */
  readonly stateSeq: number;
  /** Whether runs of lines go to the native check where it loads (native.ts), as on the caller's thread. */
  readonly native: boolean;
}

/** A line's place inside its range: its 0-based line number there and its byte offset in the file. */
export interface RangeLine {
  readonly line: number;
  readonly offset: number;
}

/** What a clean range holds; `fault` is set when it is not clean. */
export interface RangeResult {
  readonly records: number;
  readonly firstSeq: number;
  readonly firstPrev: string;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly checkpoints: number;
  readonly lastCheckpoint: (RangeLine & { readonly seq: number; readonly key: string }) | undefined;
  readonly recoveries: readonly (RangeLine & { readonly seq: number; readonly reason: string; readonly cutBytes: number; readonly savedTo: string })[];
  readonly stateHash: string | undefined;
  readonly fault: string | undefined;
}

/** Checks one range; see the module comment. Never throws for bad content, only for I/O. */
export async function checkRange(task: RangeTask): Promise<RangeResult> {
  const keys = task.keys.map((publicKey) => ({ publicKey, id: checkpointKeyId(publicKey) }));
  const handle = await open(task.file, 'r');
  let checker: ChainChecker | undefined;
  let firstSeq = 0;
  let firstPrev = '';
  let records = 0;
  let checkpoints = 0;
  let lastCheckpoint: RangeResult['lastCheckpoint'];
  const recoveries: RangeResult['recoveries'][number][] = [];
  let stateHash: string | undefined;
  let fault: string | undefined;
  // From start - 1, the first visited line is the end of a line that began before the range (or empty).
  let skip = task.start > 0;
  // Lines good as far as the native check sees go in runs, up to the range's end; the rest go to the visitor.
  const run = (buf: Buffer, start: number, end: number, offset: number): number => {
    if (skip || checker === undefined) return start;
    const before = checker.position;
    const stop = checker.checkRun(buf, start, end, start + (task.end - offset), MAX_LINE, task.stateSeq);
    records += checker.position - before;
    return stop;
  };
  try {
    const scan = await scanLines(handle, Math.max(task.start - 1, 0), (buf, start, end, offset) => {
      if (skip) {
        skip = false;
        return true;
      }
      if (offset >= task.end) return false;
      if (checker === undefined) {
        const first = checkStandalone(buf, start, end);
        if (typeof first === 'string') {
          fault = first;
          return false;
        }
        checker = new ChainChecker({ seq: first.seq - 1, hash: first.prev });
        firstSeq = first.seq;
        firstPrev = first.prev;
      }
      const type = checker.check(buf, start, end);
      if (type === 0) {
        fault = checker.fault?.message ?? 'bad record';
        return false;
      }
      const line = records;
      records += 1;
      if (checker.seq === task.stateSeq) stateHash = checker.hash;
      if (type === TYPE_CODE.checkpoint) {
        const record = parseAuditRecord(buf.toString('utf8', start, end)) as AuditCheckpointRecord;
        checkpoints += 1;
        lastCheckpoint = { seq: record.seq, key: record.key, line, offset };
        if (keys.length > 0) {
          const key = keys.find((candidate) => candidate.id === record.key);
          if (key === undefined || !verifyCheckpointSignature(key, record.seq - 1, record.prev, record.sig)) {
            fault = 'checkpoint signature';
            return false;
          }
        }
      } else if (type === TYPE_CODE.recovery) {
        const record = parseAuditRecord(buf.toString('utf8', start, end)) as AuditRecoveryRecord;
        recoveries.push({ seq: record.seq, reason: record.reason, cutBytes: record.cut_bytes, savedTo: record.saved_to, line, offset });
      }
      return true;
    }, task.native ? { run } : {});
    if (fault === undefined && scan.stop !== undefined && scan.stop !== 'visitor') fault = `scan stopped: ${scan.stop}`;
  } catch (error) {
    // A record that passed the hash check but does not parse is bad content, not an I/O failure.
    fault = (error as Error).message;
  } finally {
    await handle.close();
  }
  return {
    records,
    firstSeq,
    firstPrev,
    lastSeq: checker?.seq ?? 0,
    lastHash: checker?.hash ?? '',
    checkpoints,
    lastCheckpoint,
    recoveries,
    stateHash,
    fault,
  };
}
