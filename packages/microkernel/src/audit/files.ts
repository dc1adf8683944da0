/**
 * The files of one audit log, all next to the configured path `P`:
 *
 * - `P`: the active segment, the only file written to;
 * - `P.000001`, `P.000002`, ...: rotated segments, oldest first (`P` follows the last);
 * - `P.checkpoint`: the checkpoint state file (state.ts);
 * - `P.lock`: the writer's lock, holding its process id;
 * - `P.torn-<seq>-<time>`: bytes cut from a torn tail on recovery, kept for inspection.
 */
import { open, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';

/** One segment file, in chain order. */
export interface SegmentFile {
  /** 1-based position of the segment in the log. */
  readonly index: number;
  readonly path: string;
  /** True for the active file (the configured path itself). */
  readonly active: boolean;
}

/** The name of rotated segment `index` of the log at `logPath`: `audit.log.000003`. */
export function segmentPath(logPath: string, index: number): string {
  return `${logPath}.${String(index).padStart(6, '0')}`;
}

/** The checkpoint state file of the log at `logPath`. */
export function statePathFor(logPath: string): string {
  return `${logPath}.checkpoint`;
}

/** The lock file of the log at `logPath`. */
export function lockPathFor(logPath: string): string {
  return `${logPath}.lock`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Every segment of the log at `logPath`, oldest first: the rotated segments by index,
 * then the active file if it exists. The active file's index is one more than the last
 * rotated segment's. Gaps in the numbering are kept (verification reports them).
 *
 * @throws ForgeError FO_IO_PERMISSION, FO_IO_FAILED when the directory cannot be read
 */
export async function listSegments(logPath: string): Promise<SegmentFile[]> {
  const dir = dirname(logPath);
  const name = basename(logPath);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT')) return [];
    throw fromFsError(error, 'list the audit log segments', dir);
  }
  const pattern = new RegExp(`^${escapeRegExp(name)}\\.(\\d{6,})$`);
  const rotated: SegmentFile[] = [];
  for (const entry of entries) {
    const match = pattern.exec(entry);
    if (match !== null) rotated.push({ index: Number(match[1]), path: join(dir, entry), active: false });
  }
  rotated.sort((a, b) => a.index - b.index);
  if (!entries.includes(name)) return rotated;
  return [...rotated, { index: (rotated.at(-1)?.index ?? 0) + 1, path: logPath, active: true }];
}

/** Makes a rename or create in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return !isNodeSystemError(error, 'ESRCH');
  }
}

/**
 * Takes the single-writer lock of the log at `logPath`: creates `P.lock` holding this
 * process id. A lock left by a process that is gone is taken over.
 *
 * @returns a function that releases the lock
 * @throws ForgeError FO_AUDIT_LOCKED when a live process holds it; FO_IO_* on other failures
 */
export async function acquireLock(logPath: string): Promise<() => Promise<void>> {
  const lockPath = lockPathFor(logPath);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await unlink(lockPath).catch(() => undefined);
      };
    } catch (error) {
      if (!isNodeSystemError(error, 'EEXIST')) throw fromFsError(error, 'create the audit log lock', lockPath);
    }
    const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
      throw new ForgeError('FO_AUDIT_LOCKED', `audit log ${logPath} is held by process ${holder} (lock file ${lockPath}); one writer at a time`, {
        details: { path: logPath, lock: lockPath, pid: holder },
      });
    }
    await unlink(lockPath).catch(() => undefined);
  }
  throw new ForgeError('FO_AUDIT_LOCKED', `audit log ${logPath}: could not take the lock ${lockPath}`, { details: { path: logPath, lock: lockPath } });
}

/** The system error code behind a write failure (ENOSPC, EIO...), also when fromFsError already wrapped it. */
export function writeErrno(error: unknown): string {
  if (error instanceof ForgeError) return typeof error.details['errno'] === 'string' ? error.details['errno'] : error.code;
  return isNodeSystemError(error) ? error.code : 'UNKNOWN';
}
