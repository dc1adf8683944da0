/**
 * The store lock: one file, `.store/lock`, held by the process that changes the store.
 * Readers (list, get) take no lock; they see a state file either before or after a
 * change because every change ends in one rename.
 *
 * The lock file is written in full under another name and then hard-linked into
 * place, so it never exists half-written: link fails with EEXIST when the lock is
 * held. A lock whose holder died (SIGKILL, power loss) is broken by the next
 * process: the holder is dead when it ran on this host and its process is gone, its
 * process id now belongs to a process started at another time, or the machine has
 * rebooted since (Linux boot id). A lock taken on another host (a shared file
 * system) is never broken automatically.
 */
import { readFileSync } from 'node:fs';
import { link, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';
import { removeFile, transactionId, writeNewFile } from './durable.js';

/** Who holds the lock, as written in the lock file. */
export interface StoreLockOwner {
  readonly pid: number;
  readonly host: string;
  /** Linux boot id, or '' where there is none. */
  readonly boot: string;
  /** The holder's start time in clock ticks since boot (Linux), or '' where unknown. */
  readonly start: string;
  /** Unique per acquisition: a lock is released only by the one who took it. */
  readonly token: string;
  /** What the holder is doing, e.g. `install hello`. */
  readonly operation: string;
  /** When it was taken, ISO 8601. */
  readonly since: string;
}

/** Options for {@link StoreLock.acquire}. */
export interface StoreLockOptions {
  /** Shown to whoever finds the lock held, e.g. `install hello`. */
  readonly operation: string;
  /** How long to wait for a held lock, in milliseconds. Default 0: fail at once. */
  readonly waitMs?: number;
  /** Interval between attempts while waiting, in milliseconds. Default 25. */
  readonly pollMs?: number;
  /** Whether a holder is still running; default {@link isOwnerAlive}. For tests. */
  readonly isAlive?: (owner: StoreLockOwner) => boolean;
  /**
   * Called before a dead holder's lock is removed, while it still keeps everyone else
   * out: the store marks itself there for a full recovery (its holder died mid-change).
   */
  readonly onBreak?: () => Promise<void>;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

let bootIdCache: string | undefined;

/** This boot's id (Linux), or ''; read on first use, not at import. */
function bootId(): string {
  bootIdCache ??= readText('/proc/sys/kernel/random/boot_id');
  return bootIdCache;
}

/** A process's start time from /proc/<pid>/stat (field 22), or '' where unknown. */
function startTimeOf(pid: number): string {
  const stat = readText(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may itself hold spaces or ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

/**
 * True unless the holder is provably gone: same host and (another boot, no such
 * process, or a process with that id started at another time).
 */
export function isOwnerAlive(owner: StoreLockOwner): boolean {
  // Process ids 0 and below name process groups, never one holder: a file that says so is not ours.
  if (owner.pid <= 0) return false;
  if (owner.host !== hostname()) return true;
  if (owner.boot !== '' && bootId() !== '' && owner.boot !== bootId()) return false;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if (!isNodeSystemError(error, 'EPERM')) return false;
  }
  const start = startTimeOf(owner.pid);
  return owner.start === '' || start === '' || start === owner.start;
}

function isOwner(value: unknown): value is StoreLockOwner {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(record['pid']) &&
    ['host', 'boot', 'start', 'token', 'operation', 'since'].every((key) => typeof record[key] === 'string')
  );
}

/** The holder written in a lock file; undefined when there is no such file. A file that is not ours reads as a dead holder. */
async function readOwner(path: string): Promise<StoreLockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT')) return undefined;
    throw fromFsError(error, 'read the store lock', path);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isOwner(parsed)) return parsed;
  } catch {
    // fall through: a lock file we did not write
  }
  return { pid: 0, host: hostname(), boot: '', start: '', token: `unreadable:${text.length}:${text.slice(0, 64)}`, operation: 'unknown', since: '' };
}

/** The suffix of the files a lock is written to before it is linked into place. */
export const CANDIDATE_MARK = '.candidate-';

/**
 * Puts `owner` at `path` unless something is there. The file is complete before it
 * appears, so no reader ever sees a half-written owner.
 * @returns true when the lock was taken, false when `path` exists (or the
 *   candidate was swept away by a recovering process: try again)
 */
async function publish(path: string, owner: StoreLockOwner): Promise<boolean> {
  const candidate = `${path}${CANDIDATE_MARK}${owner.pid}-${owner.token}`;
  // Not flushed: the lock keeps out live processes, and a power cut leaves none (a lock
  // from another boot, half-written or gone, is broken or absent; docs/store.md).
  await writeNewFile(candidate, `${JSON.stringify(owner)}\n`, 0o644, false);
  try {
    await link(candidate, path);
    return true;
  } catch (error) {
    if (isNodeSystemError(error, 'EEXIST') || isNodeSystemError(error, 'ENOENT')) return false;
    throw fromFsError(error, 'take the store lock', path);
  } finally {
    await removeFile(candidate);
  }
}

/**
 * Removes a dead holder's lock. A second lock file, `<lock>.break`, makes sure that
 * of two processes finding the same dead holder only one removes the lock, and never
 * a fresh lock the other has just taken in its place.
 */
async function breakDeadLock(path: string, dead: StoreLockOwner, self: StoreLockOwner, options: StoreLockOptions & { readonly isAlive: (owner: StoreLockOwner) => boolean }): Promise<void> {
  const { isAlive } = options;
  const breaker = `${path}${BREAKER_SUFFIX}`;
  if (!(await publish(breaker, self))) {
    const other = await readOwner(breaker);
    // A breaker left by a process killed while breaking (a window of microseconds).
    if (other !== undefined && !isAlive(other)) await removeFile(breaker);
    return;
  }
  try {
    const current = await readOwner(path);
    if (current?.token === dead.token) {
      await options.onBreak?.();
      await removeFile(path);
    }
  } finally {
    await removeFile(breaker);
  }
}

/** The suffix of the breaker a process writes while it removes a dead holder's lock. */
export const BREAKER_SUFFIX = '.break';

/**
 * Removes the breaker at `path` when the process that wrote it is dead (killed while it
 * broke a lock, after removing the lock itself: nothing else would ever remove it). The
 * caller holds the lock. A live breaker is left: its process removes it.
 * @returns true when it was removed
 */
export async function removeDeadBreaker(path: string, isAlive: (owner: StoreLockOwner) => boolean = isOwnerAlive): Promise<boolean> {
  const owner = await readOwner(path);
  if (owner === undefined || isAlive(owner)) return false;
  await removeFile(path);
  return true;
}

/** An acquired store lock. Release it in a `finally`. */
export class StoreLock {
  private constructor(
    readonly path: string,
    readonly owner: StoreLockOwner,
  ) {}

  /**
   * Takes the lock, breaking it first when its holder is dead.
   * @throws ForgeError FO_STORE_LOCKED (with `details.holder`) when a live process
   *   still holds it after `waitMs`; FO_IO_*
   */
  static async acquire(path: string, options: StoreLockOptions): Promise<StoreLock> {
    const isAlive = options.isAlive ?? isOwnerAlive;
    const self: StoreLockOwner = {
      pid: process.pid,
      host: hostname(),
      boot: bootId(),
      start: startTimeOf(process.pid),
      token: transactionId(),
      operation: options.operation,
      since: new Date().toISOString(),
    };
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (let attempt = 1; ; attempt += 1) {
      if (await publish(path, self)) return new StoreLock(path, self);
      const holder = await readOwner(path);
      // A lock released or broken meanwhile is retried at once, a few times; after
      // that, and while a live process holds it, wait between attempts.
      const quick = attempt < 8;
      if (holder !== undefined && !isAlive(holder)) {
        await breakDeadLock(path, holder, self, { ...options, isAlive });
        if (quick) continue;
      } else if (holder === undefined && quick) continue;
      if (Date.now() >= deadline) throw lockedError(path, holder);
      await sleep(options.pollMs ?? 25);
    }
  }

  /** Releases the lock if it is still this one's (never a lock someone else took). */
  async release(): Promise<void> {
    const current = await readOwner(this.path);
    if (current?.token === this.owner.token) await removeFile(this.path);
  }
}

function lockedError(path: string, holder: StoreLockOwner | undefined): ForgeError {
  const who = holder === undefined ? 'another process' : `process ${holder.pid} on ${holder.host} (${holder.operation}, since ${holder.since})`;
  return new ForgeError('FO_STORE_LOCKED', `expected the plugin store to be free, found it locked by ${who}; try again when it finishes (lock file ${path})`, {
    details: { lock: path, ...(holder === undefined ? {} : { holder }) },
  });
}
