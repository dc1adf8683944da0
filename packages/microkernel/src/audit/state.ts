/**
 * The checkpoint state file `P.checkpoint`: a copy of the latest checkpoint record that
 * is durable in the log, replaced atomically after each one.
 *
 * It exists because a checkpoint inside the log cannot reveal a truncation that
 * removed it: whoever cuts the log's tail cuts the checkpoints in it. With the state
 * file, verification knows that the log reached at least the recorded seq, and that
 * the record there had exactly this hash. What it does not cover: someone who can
 * write both files and puts back an older state file together with an equally
 * truncated log (a rollback), or deletes every file. Forward each checkpoint off the
 * host (`onCheckpoint`) to cover those too. See docs/audit.md.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { syncDirectory } from './files.js';
import { TAIL_LENGTH, sha256Hex } from './format.js';
import { parseAuditRecord, type AuditCheckpointRecord } from './record.js';

/** The format tag of the state file. */
export const STATE_FORMAT = 'forgeone-audit-state/v1';

/** The content of the state file. */
export interface CheckpointState {
  readonly format: typeof STATE_FORMAT;
  /** Seq of the checkpoint record. */
  readonly seq: number;
  /** Hash of the checkpoint record. */
  readonly hash: string;
  /** Segment index holding the record, and its byte offset there: hints that let recovery start there. */
  readonly segment: number;
  readonly offset: number;
  /** The checkpoint record's line, newline excluded, exactly as in the log. */
  readonly record: string;
}

/** A state file parsed and checked for internal consistency, with its record parsed. */
export interface LoadedCheckpointState extends CheckpointState {
  readonly checkpoint: AuditCheckpointRecord;
}

function invalid(file: string, problem: string): ForgeError {
  return new ForgeError('FO_AUDIT_STATE_INVALID', `checkpoint state file ${file}: ${problem}`, { details: { file } });
}

/**
 * Reads the state file; undefined when it does not exist.
 * @throws ForgeError FO_AUDIT_STATE_INVALID when it is malformed or its record does
 *   not hash to its hash; FO_IO_* when it cannot be read
 */
export async function readCheckpointState(file: string): Promise<LoadedCheckpointState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT')) return undefined;
    throw fromFsError(error, 'read the audit checkpoint state', file);
  }
  return parseCheckpointState(text, file);
}

/**
 * A checkpoint state (a state file's content, or one line of a witness file) parsed and
 * checked: format, fields, the record hashing to its hash and being that checkpoint.
 * @throws ForgeError FO_AUDIT_STATE_INVALID naming `file` and what is wrong
 */
export function parseCheckpointState(text: string, file: string): LoadedCheckpointState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(file, 'not valid JSON');
  }
  const state = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<Record<keyof CheckpointState, unknown>>;
  if (state.format !== STATE_FORMAT) throw invalid(file, `expected format ${STATE_FORMAT}, found ${JSON.stringify(state.format)}`);
  const { seq, hash, segment, offset, record } = state;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw invalid(file, 'seq is not a positive integer');
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw invalid(file, 'hash is not 64 lowercase hex digits');
  if (typeof segment !== 'number' || !Number.isSafeInteger(segment) || segment < 1) throw invalid(file, 'segment is not a positive integer');
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw invalid(file, 'offset is not a byte offset');
  if (typeof record !== 'string' || record.length <= TAIL_LENGTH) throw invalid(file, 'record is not a record line');
  const bytes = Buffer.from(record, 'utf8');
  if (sha256Hex(bytes.subarray(0, bytes.length - TAIL_LENGTH)) !== hash) throw invalid(file, 'its record does not hash to its hash');
  let checkpoint;
  try {
    checkpoint = parseAuditRecord(record);
  } catch (error) {
    throw invalid(file, `its record is malformed (${(error as Error).message})`);
  }
  if (checkpoint.type !== 'checkpoint' || checkpoint.seq !== seq || checkpoint.hash !== hash) throw invalid(file, `its record is not the checkpoint at seq ${seq}`);
  return { format: STATE_FORMAT, seq, hash, segment, offset, record, checkpoint };
}

/**
 * Replaces the state file atomically and durably: write a temporary file, sync it,
 * rename it over the old one, sync the directory.
 * @throws ForgeError FO_IO_* when a step fails
 */
export async function writeCheckpointState(file: string, state: Omit<CheckpointState, 'format'>): Promise<void> {
  const temporary = `${file}.tmp`;
  const text = `${JSON.stringify({ format: STATE_FORMAT, seq: state.seq, hash: state.hash, segment: state.segment, offset: state.offset, record: state.record })}\n`;
  try {
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    await syncDirectory(dirname(file));
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw fromFsError(error, 'write the audit checkpoint state', file);
  }
}
