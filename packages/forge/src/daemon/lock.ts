/**
 * One daemon per state: a lock file beside the daemon's database, created exclusively
 * and holding the owner's pid and start time. A second daemon finds it and refuses
 * (FO_DAEMON_RUNNING) while that process lives; a lock left by a daemon that died
 * (SIGKILL, power loss) is taken over, and saying so is the caller's business.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';

/** The lock a running daemon holds. */
export interface DaemonLock {
  readonly path: string;
  /** The pid of a dead daemon whose lock was taken over; undefined when the lock was free. */
  readonly tookOverFrom: number | undefined;
  release(): void;
}

interface Holder {
  readonly pid: number;
  readonly since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return isNodeSystemError(error, 'EPERM');
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' && Number.isSafeInteger(parsed.pid) && parsed.pid > 0 ? { pid: parsed.pid, since: String(parsed.since ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the daemon lock at `path` for this process.
 * @throws ForgeError FO_DAEMON_RUNNING (details: pid, since), FO_IO_*
 */
export function takeDaemonLock(path: string): DaemonLock {
  let tookOverFrom: number | undefined;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if (!isNodeSystemError(error, 'EEXIST')) throw fromFsError(error, 'create the daemon lock', path);
      const holder = readHolder(path);
      if (holder !== undefined && alive(holder.pid)) {
        throw new ForgeError('FO_DAEMON_RUNNING', `another daemon (pid ${holder.pid}, since ${holder.since}) already serves this state; stop it first`, { details: { pid: holder.pid, since: holder.since, lock: path } });
      }
      // A dead daemon's lock, or an unreadable one (a crash while writing it): take it over.
      tookOverFrom = holder?.pid;
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if (!isNodeSystemError(unlinkError, 'ENOENT')) throw fromFsError(unlinkError, 'remove a stale daemon lock', path);
      }
      continue;
    }
    try {
      writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      path,
      tookOverFrom,
      release(): void {
        if (released) return;
        released = true;
        // Only our own lock: a lock another daemon took over after we were presumed dead stays.
        if (readHolder(path)?.pid === process.pid) unlinkSync(path);
      },
    };
  }
  throw new ForgeError('FO_DAEMON_RUNNING', 'another daemon took the daemon lock while this one was starting', { details: { lock: path } });
}
