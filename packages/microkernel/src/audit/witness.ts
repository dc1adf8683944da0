/**
 * The audit witness: every durable checkpoint appended, as one line, to a file that should
 * live where whoever can rewrite the log cannot (another volume, a mount of another host,
 * an append-only file). The log and its state file prove only what the host still holds:
 * someone who can write both can put back an older, genuinely signed pair, or delete
 * both. A witness line is a checkpoint state (the state file's format), so verification
 * against the newest one shows the log still reaches that checkpoint with that record.
 *
 * Lines are appended and synced one by one; a crash can leave a last line without its
 * newline, which is ignored (the checkpoint before it is still witnessed).
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { statePathFor } from './files.js';
import { STATE_FORMAT, parseCheckpointState, readCheckpointState, type LoadedCheckpointState } from './state.js';
import { verifyAuditLog, type AuditVerification, type VerifyAuditLogOptions } from './verify.js';
import type { DurableCheckpoint } from './writer.js';

/** What a witness file holds. */
export interface AuditWitness {
  readonly file: string;
  /** Checkpoints witnessed (complete lines). */
  readonly entries: number;
  /** The newest one, undefined for an empty or absent file. */
  readonly newest: LoadedCheckpointState | undefined;
  /** True when the last line was cut before its newline (a crash while appending); it was ignored. */
  readonly torn: boolean;
}

function invalid(file: string, line: number, problem: string): ForgeError {
  return new ForgeError('FO_AUDIT_WITNESS_INVALID', `audit witness ${file}, line ${line}: ${problem}`, { details: { file, line } });
}

/**
 * Appends `checkpoint` to the witness `file` (created with mode 0600) and syncs it before
 * returning: synchronous, because it runs in the log's durability callback, and rare (one
 * per checkpoint).
 * @throws ForgeError FO_IO_* when the file cannot be opened, written or synced
 */
export function appendWitness(file: string, checkpoint: DurableCheckpoint): void {
  const line = `${JSON.stringify({ format: STATE_FORMAT, seq: checkpoint.seq, hash: checkpoint.hash, segment: checkpoint.segment, offset: checkpoint.offset, record: checkpoint.record })}\n`;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'a', 0o600);
    writeSync(fd, line);
    fsyncSync(fd);
  } catch (error) {
    throw fromFsError(error, 'append to the audit witness', file);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads a witness file: every complete line must be a valid checkpoint state, each at a
 * higher seq than the one before.
 * @throws ForgeError FO_AUDIT_WITNESS_INVALID naming the line; FO_IO_* when it cannot be read
 */
export async function readWitness(file: string): Promise<AuditWitness> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT')) return { file, entries: 0, newest: undefined, torn: false };
    throw fromFsError(error, 'read the audit witness', file);
  }
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  let newest: LoadedCheckpointState | undefined;
  for (const [index, line] of lines.entries()) {
    let entry: LoadedCheckpointState;
    try {
      entry = parseCheckpointState(line, file);
    } catch (error) {
      throw invalid(file, index + 1, (error as Error).message.replace(`checkpoint state file ${file}: `, ''));
    }
    if (newest !== undefined && entry.seq <= newest.seq) throw invalid(file, index + 1, `checkpoint seq ${entry.seq} does not follow seq ${newest.seq}: lines were reordered or replayed`);
    newest = entry;
  }
  return { file, entries: lines.length, newest, torn: last !== '' };
}

/** The result of {@link verifyWithWitness}: the log's verification and what the witness held. */
export interface WitnessVerification extends AuditVerification {
  readonly witness: {
    readonly file: string;
    readonly entries: number;
    /** Seq of the newest witnessed checkpoint, null for none. */
    readonly newestSeq: number | null;
    readonly torn: boolean;
    /** Which checkpoint the log was checked against: the witness's newest, or the local state file's (newer, or the only one). */
    readonly checkedAgainst: 'witness' | 'state file' | 'none';
  };
}

/**
 * Verifies the log as verifyAuditLog does, against the newest checkpoint the witness holds
 * when it is at least as new as the local state file's: a log rolled back or cut together
 * with its state file then ends before, or differs at, a checkpoint it once had
 * (FO_AUDIT_TRUNCATED, FO_AUDIT_STATE_INVALID). A witness with no checkpoint while the log
 * holds some is FO_AUDIT_WITNESS_INVALID (emptied, replaced, or another log's).
 * @throws ForgeError FO_AUDIT_WITNESS_INVALID for a malformed witness; the codes of verifyAuditLog
 */
export async function verifyWithWitness(options: VerifyAuditLogOptions & { readonly witness: string }): Promise<WitnessVerification> {
  const witness = await readWitness(options.witness);
  const statePath = options.statePath === undefined ? statePathFor(options.path) : options.statePath;
  let local: LoadedCheckpointState | undefined;
  try {
    local = statePath === null ? undefined : await readCheckpointState(statePath);
  } catch (error) {
    // An invalid state file is verifyAuditLog's to report when the witness is not used.
    if (!ForgeError.is(error, 'FO_AUDIT_STATE_INVALID')) throw error;
  }
  const newest = witness.newest;
  const useWitness = newest !== undefined && (local === undefined || newest.seq >= local.seq);
  // The checkpoint already read is handed over, so verifyAuditLog does not read its file again.
  const against = useWitness ? { source: `the witness ${options.witness}`, checkpoint: newest } : local !== undefined && statePath !== null ? { source: statePath, checkpoint: local } : undefined;
  const result = await verifyAuditLog(against === undefined ? options : { ...options, state: against });
  let problem = result.problem;
  if (problem === undefined && newest === undefined && result.checkpoints > 0) {
    problem = { code: 'FO_AUDIT_WITNESS_INVALID', message: `the witness ${options.witness} holds no checkpoint while the log holds ${result.checkpoints}: it was emptied or replaced, or it is another log's` };
  }
  return {
    ...result,
    ok: problem === undefined,
    problem,
    witness: { file: options.witness, entries: witness.entries, newestSeq: newest?.seq ?? null, torn: witness.torn, checkedAgainst: useWitness ? 'witness' : local === undefined ? 'none' : 'state file' },
  };
}
