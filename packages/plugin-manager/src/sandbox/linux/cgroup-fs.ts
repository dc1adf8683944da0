import { closeSync, constants, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { ForgeError, isNodeSystemError } from '@forgeone/common';

/**
 * The file operations cgroup code needs, behind one seam: production uses the kernel's
 * cgroup file systems through node:fs; the v2 unit tests use a fake tree in a temporary
 * directory whose `mkdir` creates interface files the way the kernel does.
 */
export interface CgroupFs {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  read(path: string): Promise<string>;
  /** One write(2) of `text` to an existing file (cgroup files take one value per write). */
  write(path: string, text: string): Promise<void>;
  /** Names of the sub-directories of `path` (child groups). */
  subdirs(path: string): Promise<string[]>;
  /** Opens an existing file to keep (the freezer's: cgroup-freezer.ts); without it, those files are used by path. */
  open?(path: string, access: 'r' | 'w' | 'rw'): CgroupFile;
}

/** A cgroup file held open: each read from offset 0 (the kernel generates it again), one write(2) per value. */
export interface CgroupFile {
  read(): string;
  write(text: string): void;
  close(): void;
}

/** `work()`'s result as a promise, its exception as a rejection. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * {@link CgroupFs} over the real file system. Reads and writes are synchronous system
 * calls behind the promise: cgroup files are kernel pseudo-files that answer at once and
 * never wait for a disk, so a thread-pool round trip per open, write and close (about
 * 0.1 ms each) would be most of a pause or resume (bench/freeze.mjs).
 */
export const NODE_CGROUP_FS: CgroupFs = {
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  read: (path) => settle(() => readFileSync(path, 'utf8')),
  write: (path, text) =>
    settle(() => {
      // O_WRONLY without O_CREAT: a missing interface file means a controller is not enabled,
      // and must say ENOENT rather than create a plain file; without O_RDONLY because some
      // files (cgroup.kill) cannot be opened for reading.
      const fd = openSync(path, constants.O_WRONLY);
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
    }),
  subdirs: async (path) => (await readdir(path, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name),
  open: (path, access) => {
    // Never O_CREAT, as write: a missing interface file says ENOENT.
    const fd = openSync(path, access === 'r' ? constants.O_RDONLY : access === 'w' ? constants.O_WRONLY : constants.O_RDWR);
    const buffer = Buffer.allocUnsafe(4096);
    return {
      read: () => buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0)),
      write: (text) => void writeSync(fd, text),
      close: () => closeSync(fd),
    };
  },
};

/**
 * The error for a cgroup file or directory the host could not use.
 *
 * @param action what was being done, e.g. "set the memory limit"
 */
export function cgroupUnavailable(action: string, path: string, error: unknown): ForgeError {
  if (error instanceof ForgeError) return error;
  const errno = isNodeSystemError(error) ? error.code : 'UNKNOWN';
  const reason = error instanceof Error ? error.message : String(error);
  const hint = errno === 'ENOENT' ? ' (the controller is not enabled there, or the group is gone)' : '';
  return new ForgeError('FO_SANDBOX_UNAVAILABLE', `cannot ${action}: ${path} is not usable${hint}: ${reason}`, { details: { path, errno }, cause: error });
}

/** Reads a cgroup file; failures become FO_SANDBOX_UNAVAILABLE. */
export async function readCgroupFile(fs: CgroupFs, path: string, action: string): Promise<string> {
  try {
    return await fs.read(path);
  } catch (error) {
    throw cgroupUnavailable(action, path, error);
  }
}

/** Writes a cgroup file; failures become FO_SANDBOX_UNAVAILABLE. */
export async function writeCgroupFile(fs: CgroupFs, path: string, text: string, action: string): Promise<void> {
  try {
    await fs.write(path, text);
  } catch (error) {
    throw cgroupUnavailable(action, path, error);
  }
}

/**
 * Parses a flat keyed file ("key value" per line: cpu.stat, memory.events,
 * memory.oom_control, cgroup.events) into numbers. Lines that are not a key and an
 * integer are left out.
 */
export function parseKeyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], Number(match[2]));
  }
  return values;
}

/** The pids listed in a cgroup.procs file. */
export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

/**
 * Polls `done` until it answers true: freezing takes effect asynchronously (tasks stop at
 * their next return to user space), and the kernel exposes the result only as a file.
 * The first few reads follow each other at once (a running task usually stops within
 * microseconds, and a 1 ms timer would be most of a pause: bench/freeze.mjs), then for
 * 3 ms one read per turn of the event loop (a sandbox blocked in a read takes a few
 * hundred microseconds to reach the freezer); then it waits 1 ms, doubling up to 50 ms
 * between reads.
 *
 * @param timeoutMs how long to wait in total (default 10 s)
 * @param quick false: no quick reads, timers from the first wait on (the freezer's wait, which has its own: cgroup-freezer.ts)
 * @throws FO_SANDBOX_UNAVAILABLE when it is still not done after `timeoutMs`
 */
export async function pollUntil(done: () => Promise<boolean>, what: string, path: string, timeoutMs = 10_000, quick = true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const quickUntil = quick ? performance.now() + QUICK_MS : 0;
  let delay = 1;
  for (let reads = 1; !(await done()); reads += 1) {
    if (Date.now() > deadline) throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `${what}: ${path} did not change within ${timeoutMs} ms`, { details: { path, timeoutMs } });
    if (quick && reads <= QUICK_READS) continue;
    if (performance.now() < quickUntil) {
      // A freeze usually completes within a few hundred microseconds: re-read after
      // letting the event loop run, rather than sleep a whole millisecond.
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Reads {@link pollUntil} makes back to back before it starts waiting between them. */
const QUICK_READS = 8;
/** For this long, in ms, {@link pollUntil} re-reads at each turn of the event loop before it sleeps between reads. */
const QUICK_MS = 3;

/**
 * True for the errors of a cgroup file whose group is gone: ENOENT once its directory is
 * removed, ENODEV while the kernel tears it down (a read racing another remover's rmdir).
 */
export function isGroupGone(error: unknown): boolean {
  return isNodeSystemError(error, 'ENOENT') || isNodeSystemError(error, 'ENODEV');
}

/**
 * Removes an empty cgroup directory, retrying while the kernel still counts exiting tasks
 * in it (EBUSY right after SIGKILL, until they are reaped). A directory already gone is fine.
 *
 * @throws FO_SANDBOX_UNAVAILABLE when it stays busy for 10 s or cannot be removed
 */
export async function removeGroupDir(fs: CgroupFs, path: string): Promise<void> {
  await pollUntil(
    async () => {
      try {
        await fs.rmdir(path);
        return true;
      } catch (error) {
        if (isNodeSystemError(error, 'ENOENT')) return true;
        if (!isNodeSystemError(error, 'EBUSY')) throw cgroupUnavailable('remove the cgroup', path, error);
        return false;
      }
    },
    'removing the cgroup: it still holds tasks or child groups (EBUSY)',
    path,
  );
}

/**
 * Sends SIGKILL to every pid `list` reports until it reports none (a task may fork
 * between the read and the kill; the pids limit bounds how often). A pid already gone is
 * skipped.
 *
 * @throws FO_SANDBOX_UNAVAILABLE when tasks remain after 10 s
 */
export async function killAll(list: () => Promise<number[]>, path: string): Promise<void> {
  await pollUntil(
    async () => {
      const pids = await list();
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch (error) {
          if (!isNodeSystemError(error, 'ESRCH')) throw cgroupUnavailable(`kill task ${pid} of the cgroup`, path, error);
        }
      }
      return pids.length === 0;
    },
    'killing the tasks of the cgroup',
    path,
  );
}

/**
 * One removal of a group however often it is asked for: callers while it runs, and after
 * it succeeded, wait for the same one (a sandbox's kill may race its host's close); after a
 * failure the next call tries again.
 */
export class OnceRemoval {
  #running: Promise<void> | undefined;

  run(remove: () => Promise<void>): Promise<void> {
    this.#running ??= remove().catch((error: unknown) => {
      this.#running = undefined;
      throw error;
    });
    return this.#running;
  }
}
