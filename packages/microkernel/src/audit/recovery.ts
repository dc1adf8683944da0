/**
 * Crash recovery, run when a log is opened for writing: find the chain's head, and cut
 * a torn tail (a partial last line, or bytes a crash left half-written) so that the
 * chain can go on. The cut bytes are kept in a file next to the log and the caller
 * appends a recovery record naming them.
 *
 * SECURITY: recovery only cuts what a crash can produce. It scans from the last
 * checkpoint the state file records (verifying that the checkpoint is intact), so a
 * record that was reported durable before that checkpoint is never cut; and it refuses
 * to cut at a line that is well formed and correctly hashed but does not continue the
 * chain, since a crash cannot produce one (a deletion, reordering or insertion can).
 * Records after the last checkpoint that were reported durable can only be cut if they
 * are damaged, and then they are preserved in the torn file and named by the recovery
 * record.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { ChainChecker, GENESIS_ANCHOR, TYPE_CODE, checkStandalone, type ChainAnchor } from './chain.js';
import { syncDirectory, type SegmentFile } from './files.js';
import { formatTimestamp, jsonString } from './format.js';
import { scanLines, MAX_LINE } from './scan.js';
import type { LoadedCheckpointState } from './state.js';

/** A torn tail that recovery cut. */
export interface TornTail {
  /** Name of the segment file it was cut from. */
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  /** Hex sha256 of the cut bytes. */
  readonly sha256: string;
  /** Name of the file next to the log that holds them. */
  readonly savedTo: string;
  /** What was wrong at the cut. */
  readonly reason: string;
}

/** The fields of the recovery record that says a torn tail was cut (after its head). */
export function recoveryFields(cut: TornTail): string {
  return (
    `,"reason":${jsonString(`torn tail cut on open: ${cut.reason}`)},"file":${jsonString(cut.file)}` +
    `,"cut_offset":${cut.offset},"cut_bytes":${cut.bytes},"cut_sha256":"${cut.sha256}","saved_to":${jsonString(cut.savedTo)}`
  );
}

/** The log's state after recovery. */
export interface RecoveredLog {
  /** Seq and hash of the last record (the genesis anchor for an empty log). */
  readonly head: ChainAnchor;
  /** Index of the active segment. */
  readonly activeIndex: number;
  /** Size of the active segment after any cut, where the next record is written. */
  readonly activeSize: number;
  /** Seq of the last checkpoint record seen, 0 when none. */
  readonly lastCheckpointSeq: number;
  readonly cut: TornTail | undefined;
}

function corrupt(logPath: string, message: string, details: Record<string, unknown> = {}): ForgeError {
  return new ForgeError('FO_AUDIT_CORRUPT', `audit log ${logPath}: ${message}; not cutting it (run forge audit verify)`, { details: { path: logPath, ...details } });
}

/** The last record of a rotated segment, checked on its own. */
async function lastRecordOf(segment: SegmentFile, logPath: string): Promise<ChainAnchor> {
  const handle = await open(segment.path, 'r').catch((error: unknown) => {
    throw fromFsError(error, 'open an audit log segment', segment.path);
  });
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, MAX_LINE);
    const buf = Buffer.allocUnsafe(length);
    await handle.read(buf, 0, length, size - length);
    if (length === 0 || buf[length - 1] !== 10) throw corrupt(logPath, `rotated segment ${segment.path} does not end with a complete record`);
    const start = buf.lastIndexOf(10, length - 2) + 1;
    const record = checkStandalone(buf, start, length - 1);
    if (typeof record === 'string') throw corrupt(logPath, `the last record of rotated segment ${segment.path} is damaged (${record})`);
    return { seq: record.seq, hash: record.hash };
  } finally {
    await handle.close();
  }
}

/** Copies `[offset, size)` of the active file into a new file next to the log. */
async function saveTail(handle: FileHandle, offset: number, size: number, target: string): Promise<string> {
  const out = await open(target, 'wx', 0o600).catch((error: unknown) => {
    throw fromFsError(error, 'save the torn tail of the audit log', target);
  });
  const digest = createHash('sha256');
  try {
    const buf = Buffer.allocUnsafe(Math.min(Math.max(size - offset, 1), 4 * 1024 * 1024));
    for (let at = offset; at < size; ) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - at), at);
      if (bytesRead === 0) break;
      digest.update(buf.subarray(0, bytesRead));
      await out.write(buf, 0, bytesRead);
      at += bytesRead;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return digest.digest('hex');
}

/**
 * Finds the head of the log whose active segment is open as `handle`, cutting a torn
 * tail if there is one.
 *
 * @param segments every segment, the active one last (it must exist)
 * @param state the checkpoint state file's content, if any
 * @param now current time in ms, for the torn file's name
 * @throws ForgeError FO_AUDIT_CORRUPT when damage lies where a crash cannot cause it;
 *   FO_AUDIT_TRUNCATED when the log ends before the state file's checkpoint; FO_IO_*
 */
export async function recoverActiveSegment(
  logPath: string,
  handle: FileHandle,
  segments: readonly SegmentFile[],
  state: LoadedCheckpointState | undefined,
  now: number,
): Promise<RecoveredLog> {
  const active = segments.at(-1);
  if (active === undefined || !active.active) throw new ForgeError('FO_INTERNAL_UNEXPECTED', `audit log ${logPath}: the active segment is missing after open`);
  const previous = segments.at(-2);
  if (state !== undefined && state.segment > active.index) {
    throw new ForgeError('FO_AUDIT_TRUNCATED', `audit log ${logPath}: the checkpoint state names segment ${state.segment}, but the log has ${active.index}; segments were removed`, {
      details: { path: logPath, stateSeq: state.seq, stateSegment: state.segment, segments: active.index },
    });
  }
  let anchor: ChainAnchor = previous === undefined ? GENESIS_ANCHOR : await lastRecordOf(previous, logPath);
  let from = 0;
  let lastCheckpointSeq = state?.seq ?? 0;
  const fromState = state !== undefined && state.segment === active.index;
  if (fromState) {
    // Start at the last checkpoint: it and everything before it were durable.
    anchor = { seq: state.seq - 1, hash: state.checkpoint.prev };
    from = state.offset;
  } else if (state !== undefined && anchor.seq < state.seq) {
    throw new ForgeError('FO_AUDIT_TRUNCATED', `audit log ${logPath}: segment ${previous?.path ?? '(none)'} ends at seq ${anchor.seq}, before the checkpoint at seq ${state.seq}`, {
      details: { path: logPath, stateSeq: state.seq, lastSeq: anchor.seq },
    });
  }
  const { size } = await handle.stat();
  const checker = new ChainChecker(anchor);
  let stateMismatch = false;
  const scan =
    from > size
      ? { end: from, stop: undefined }
      : await scanLines(handle, from, (buf, start, end) => {
          const type = checker.check(buf, start, end);
          if (type === 0) return false;
          if (fromState && checker.position === 1 && checker.hash !== state.hash) {
            stateMismatch = true;
            return false;
          }
          if (type === TYPE_CODE.checkpoint) lastCheckpointSeq = checker.seq;
          return true;
        });
  if (fromState && (stateMismatch || checker.position === 0)) {
    if (stateMismatch || (scan.stop !== undefined && scan.stop !== 'incomplete')) {
      throw corrupt(logPath, `the checkpoint at seq ${state.seq} (offset ${state.offset}) named by the state file is damaged or replaced: ${stateMismatch ? 'its hash differs' : (checker.fault?.message ?? 'no record there')}`, {
        stateSeq: state.seq,
      });
    }
    throw truncatedBefore(logPath, state, size);
  }
  if (scan.stop === undefined) return { head: { seq: checker.seq, hash: checker.hash }, activeIndex: active.index, activeSize: size, lastCheckpointSeq, cut: undefined };
  if (scan.stop === 'visitor' && checker.fault?.code === 'FO_AUDIT_CHAIN_BROKEN') {
    throw corrupt(logPath, `record at offset ${scan.end} is well formed but ${checker.fault.message}`, { offset: scan.end });
  }
  const reason =
    scan.stop === 'incomplete' ? 'the last line is incomplete' : scan.stop === 'overlong' ? 'a line is longer than any record' : (checker.fault?.message ?? 'damaged record');
  const savedTo = `${basename(logPath)}.torn-${checker.seq + 1}-${formatTimestamp(now).replace(/[-:.]/g, '')}`;
  const sha256 = await saveTail(handle, scan.end, size, `${dirname(logPath)}/${savedTo}`);
  try {
    await handle.truncate(scan.end);
    await handle.sync();
    await syncDirectory(dirname(logPath));
  } catch (error) {
    throw fromFsError(error, 'cut the torn tail of the audit log', logPath);
  }
  return {
    head: { seq: checker.seq, hash: checker.hash },
    activeIndex: active.index,
    activeSize: scan.end,
    lastCheckpointSeq,
    cut: { file: basename(active.path), offset: scan.end, bytes: size - scan.end, sha256, savedTo, reason },
  };
}

function truncatedBefore(logPath: string, state: LoadedCheckpointState | undefined, size: number): ForgeError {
  return new ForgeError(
    'FO_AUDIT_TRUNCATED',
    `audit log ${logPath} (${size} bytes) ends before the checkpoint at seq ${state?.seq ?? 0} that the state file records at offset ${state?.offset ?? 0}`,
    { details: { path: logPath, stateSeq: state?.seq ?? null, size } },
  );
}
