/**
 * File attributes as preview1 reports them, and setting timestamps exactly.
 *
 * Node can only set file times as a double number of seconds (libuv's utime), which
 * at today's dates is precise to about 240 ns, while preview1 timestamps are exact
 * nanoseconds and guests (and the conformance suite) set a time and expect to read
 * the same value back. {@link TimeShadow} bridges this: after setting times it
 * remembers, per file (device + inode), the exact values asked for and the values the
 * host actually stored; while the host still holds exactly what we stored, stats
 * report the exact values. Any other change to the file's times (a write, another
 * process) makes the host value differ and the shadow is dropped.
 */
import type { BigIntStats } from 'node:fs';
import { ERRNO, FILETYPE, FSTFLAGS } from './abi.js';
import { fail } from './errno.js';

/** preview1 `filestat`. Times are nanoseconds since the Unix epoch. */
export interface Filestat {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly filetype: number;
  readonly nlink: bigint;
  readonly size: bigint;
  readonly atim: bigint;
  readonly mtim: bigint;
  readonly ctim: bigint;
}

/** The preview1 filetype of a host file. FIFOs have no preview1 type and are `unknown`. */
export function filetypeOf(stats: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): number {
  if (stats.isFile()) return FILETYPE.REGULAR_FILE;
  if (stats.isDirectory()) return FILETYPE.DIRECTORY;
  if (stats.isSymbolicLink()) return FILETYPE.SYMBOLIC_LINK;
  if (stats.isCharacterDevice()) return FILETYPE.CHARACTER_DEVICE;
  if (stats.isBlockDevice()) return FILETYPE.BLOCK_DEVICE;
  if (stats.isSocket()) return FILETYPE.SOCKET_STREAM;
  return FILETYPE.UNKNOWN;
}

interface ShadowEntry {
  readonly atim: bigint;
  readonly hostAtim: bigint;
  readonly mtim: bigint;
  readonly hostMtim: bigint;
}

/** What the guest asked a set_times call to store, before it reaches the host. */
export interface TimesRequest {
  /** Seconds to pass to Node's utimes family. */
  readonly atimeSeconds: number;
  readonly mtimeSeconds: number;
  /** The exact nanoseconds the guest should read back. */
  readonly atim: bigint;
  readonly mtim: bigint;
}

const NS_PER_S = 1_000_000_000n;

/** Files whose exact times are remembered; the oldest is forgotten beyond this. */
const MAX_SHADOWED_FILES = 4096;

function toSeconds(ns: bigint): number {
  return Number(ns / NS_PER_S) + Number(ns % NS_PER_S) / 1e9;
}

/** Exact timestamps for files whose times the guest set (see the module comment). */
export class TimeShadow {
  readonly #entries = new Map<string, ShadowEntry>();

  /** The guest's view of `stats`. */
  filestat(stats: BigIntStats): Filestat {
    let atim = stats.atimeNs;
    let mtim = stats.mtimeNs;
    if (this.#entries.size > 0) {
      const key = `${stats.dev}:${stats.ino}`;
      const shadow = this.#entries.get(key);
      if (shadow !== undefined) {
        if (shadow.hostAtim === atim && shadow.hostMtim === mtim) {
          atim = shadow.atim;
          mtim = shadow.mtim;
        } else this.#entries.delete(key);
      }
    }
    return { dev: stats.dev, ino: stats.ino, filetype: filetypeOf(stats), nlink: stats.nlink, size: stats.size, atim, mtim, ctim: stats.ctimeNs };
  }

  /**
   * Works out what a set_times call stores: the given time, now, or (when the flag is
   * absent) the time the guest currently sees, so an untouched time reads back unchanged.
   *
   * @param current the file's stats before the change
   * @param now the realtime clock, nanoseconds
   * @throws WasiErrno EINVAL when both a time and `_NOW` are asked for one field, or on unknown flags
   */
  request(current: BigIntStats, atim: bigint, mtim: bigint, fstflags: number, now: bigint): TimesRequest {
    if ((fstflags & ~15) !== 0) fail(ERRNO.EINVAL);
    if ((fstflags & FSTFLAGS.ATIM) !== 0 && (fstflags & FSTFLAGS.ATIM_NOW) !== 0) fail(ERRNO.EINVAL);
    if ((fstflags & FSTFLAGS.MTIM) !== 0 && (fstflags & FSTFLAGS.MTIM_NOW) !== 0) fail(ERRNO.EINVAL);
    const seen = this.filestat(current);
    const a = (fstflags & FSTFLAGS.ATIM) !== 0 ? atim : (fstflags & FSTFLAGS.ATIM_NOW) !== 0 ? now : seen.atim;
    const m = (fstflags & FSTFLAGS.MTIM) !== 0 ? mtim : (fstflags & FSTFLAGS.MTIM_NOW) !== 0 ? now : seen.mtim;
    return { atimeSeconds: toSeconds(a), mtimeSeconds: toSeconds(m), atim: a, mtim: m };
  }

  /** Remembers what `request` asked for, given the file's stats after the host stored it. */
  record(after: BigIntStats, request: TimesRequest): void {
    const key = `${after.dev}:${after.ino}`;
    if (after.atimeNs === request.atim && after.mtimeNs === request.mtim) {
      this.#entries.delete(key);
      return;
    }
    this.#entries.delete(key);
    this.#entries.set(key, { atim: request.atim, hostAtim: after.atimeNs, mtim: request.mtim, hostMtim: after.mtimeNs });
    if (this.#entries.size > MAX_SHADOWED_FILES) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }
}
