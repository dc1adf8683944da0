/**
 * The memory-agnostic core of WASI preview1: the descriptor table with its rights,
 * preopens, clocks, random bytes and every fd_* operation. It never sees guest
 * memory as such: it takes and fills host byte arrays (reads and writes take an iovec
 * list the adapter checked, in the array it names: host-io.ts), returns values, and throws a
 * {@link WasiErrno} to refuse. Path operations live in {@link PathOps}, polling in
 * `poll.ts`; the marshalling adapter (`imports.ts`) turns guest pointers into calls
 * here. Every method is synchronous: the guest is blocked while it runs.
 */
import { fdatasyncSync, fstatSync, fsyncSync, ftruncateSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import type { HostCallGate } from '@forgeone/common';
import { ADVICE_MAX, ALL_FDFLAGS, CALL, ERRNO, FDFLAGS, FILETYPE, RIGHTS, SIGNAL_MAX, WHENCE, rightNames } from './abi.js';
import { WasiClock } from './clock.js';
import { fail, refuse } from './errno.js';
import { FdEntry, FdTable } from './fd-table.js';
import { TimeShadow, type Filestat } from './filestat.js';
import { openPreopenDirectory } from './host-dir.js';
import { eachVector, readVectors, writeVectors } from './host-io.js';
import type { NormalizedWasiOptions } from './options.js';
import { PathOps, type PathPolicy } from './path-ops.js';
import { entryAt, listingFor, type DirectoryEntry } from './readdir.js';
import { DIRECTORY_INHERITING_RIGHTS, DIRECTORY_RIGHTS, STDIN_RIGHTS, STDOUT_RIGHTS, WRITE_RIGHTS } from './rights.js';
import type { StdioFiletype, WasiInput, WasiOutput } from './stdio.js';

/** preview1 `fdstat`. */
export interface Fdstat {
  readonly filetype: number;
  readonly flags: number;
  readonly rightsBase: number;
  readonly rightsInheriting: number;
}

/** NUL-terminated strings packed one after another, as args_get and environ_get lay them out. */
export interface PackedStrings {
  readonly count: number;
  /** Every string's bytes followed by NUL. */
  readonly bytes: Uint8Array;
  /** Where each string starts in `bytes`. */
  readonly offsets: readonly number[];
}

function pack(strings: readonly string[]): PackedStrings {
  const encoded = strings.map((text) => Buffer.from(`${text}\0`, 'utf8'));
  const offsets: number[] = [];
  let at = 0;
  for (const bytes of encoded) {
    offsets.push(at);
    at += bytes.length;
  }
  return { count: strings.length, bytes: Buffer.concat(encoded), offsets };
}

const STDIO_FILETYPE: Readonly<Record<StdioFiletype, number>> = {
  unknown: FILETYPE.UNKNOWN,
  character_device: FILETYPE.CHARACTER_DEVICE,
  regular_file: FILETYPE.REGULAR_FILE,
};

function stdinEntry(input: WasiInput): FdEntry {
  return new FdEntry({ kind: 'stdin', filetype: STDIO_FILETYPE[input.filetype ?? 'unknown'], rightsBase: STDIN_RIGHTS, input });
}

function stdoutEntry(output: WasiOutput): FdEntry {
  return new FdEntry({ kind: 'stdout', filetype: STDIO_FILETYPE[output.filetype ?? 'unknown'], rightsBase: STDOUT_RIGHTS, output });
}

/** Largest file offset or size the core handles (2^53 - 1 bytes). */
const MAX_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

/** Converts a guest u64 offset or size to a number. @throws EFBIG beyond 2^53 - 1 */
function toOffset(value: bigint): number {
  if (value < 0n || value > MAX_OFFSET) fail(ERRNO.EFBIG);
  return Number(value);
}

/** Path policy over the host-call gate: a denial is EACCES, or ENOTCAPABLE beyond a capability. */
function gatePolicy(gate: HostCallGate): PathPolicy {
  return {
    decide(call, reached, access, requested) {
      const denial = gate.check(call, reached, access, requested);
      // The gate audited the denial; a plain (shared) errno is not reported again.
      if (denial !== undefined) fail(denial.capability === true ? ERRNO.ENOTCAPABLE : ERRNO.EACCES);
    },
  };
}

/** One guest's WASI state. */
export class WasiCore {
  readonly table: FdTable;
  readonly clock: WasiClock;
  readonly shadow = new TimeShadow();
  readonly paths: PathOps;
  readonly policy: PathPolicy;
  readonly args: PackedStrings;
  readonly env: PackedStrings;

  /**
   * Opens the preopens and lays out the descriptor table.
   *
   * @throws ForgeError FO_WASI_PREOPEN_NOT_FOUND, FO_WASI_PREOPEN_NOT_DIRECTORY, FO_IO_*
   */
  constructor(options: NormalizedWasiOptions) {
    this.clock = new WasiClock(options.sleep);
    this.table = new FdTable(options.maxOpenFiles);
    this.policy = gatePolicy(options.gate);
    this.paths = new PathOps(this.table, this.shadow, this.clock, this.policy);
    this.args = pack(options.args);
    this.env = pack(options.env.map(([name, value]) => `${name}=${value}`));
    this.table.place(0, stdinEntry(options.stdin));
    this.table.place(1, stdoutEntry(options.stdout));
    this.table.place(2, stdoutEntry(options.stderr));
    try {
      options.preopens.forEach((preopen, index) => {
        const opened = openPreopenDirectory(preopen.host, preopen.guest);
        const withheld = preopen.readOnly ? WRITE_RIGHTS : 0;
        const entry = new FdEntry({
          kind: 'directory',
          filetype: FILETYPE.DIRECTORY,
          rightsBase: DIRECTORY_RIGHTS & ~withheld,
          rightsInheriting: DIRECTORY_INHERITING_RIGHTS & ~withheld,
          hostFd: opened.hostFd,
          ownsHostFd: true,
          root: opened.root,
          guestPath: preopen.guest,
          preopenName: Buffer.from(preopen.guest, 'utf8'),
        });
        this.table.place(3 + index, entry);
      });
    } catch (error) {
      this.table.closeAll();
      throw error;
    }
  }

  /** Closes every host descriptor the guest held. Safe to call twice. */
  close(): void {
    this.table.closeAll();
  }

  /** Fills `length` bytes of `into` at `offset` with cryptographically secure random bytes. */
  random(into: Uint8Array, offset: number, length: number): void {
    randomFillSync(into, offset, length);
  }

  /** Checks advice (0..5) for a range in bytes. @throws EBADF, ENOTCAPABLE, EINVAL */
  fdAdvise(fd: number, offset: bigint, length: bigint, advice: number): void {
    this.table.require(fd, RIGHTS.FD_ADVISE);
    if (advice > ADVICE_MAX || offset < 0n || length < 0n) fail(ERRNO.EINVAL);
    // Advice is only a hint; Node has no posix_fadvise, and ignoring it is always correct.
  }

  /**
   * Extends the file so [offset, offset + length) bytes lies inside it (posix_fallocate's
   * size effect; no blocks are reserved). @throws EBADF, ENOTCAPABLE, EINVAL (empty range), EFBIG
   */
  fdAllocate(fd: number, offset: bigint, length: bigint): void {
    const entry = this.table.require(fd, RIGHTS.FD_ALLOCATE);
    if (length === 0n) fail(ERRNO.EINVAL);
    const end = toOffset(offset + length);
    if (fstatSync(entry.hostFd).size < end) ftruncateSync(entry.hostFd, end);
  }

  /** @throws EBADF */
  fdClose(fd: number): void {
    this.table.close(fd);
  }

  /** fdatasync(2). @throws EBADF, ENOTCAPABLE, EINVAL (in-memory stream) */
  fdDatasync(fd: number): void {
    const entry = this.table.require(fd, RIGHTS.FD_DATASYNC);
    if (entry.hostFd < 0) fail(ERRNO.EINVAL);
    fdatasyncSync(entry.hostFd);
  }

  /** fsync(2). @throws EBADF, ENOTCAPABLE, EINVAL (in-memory stream) */
  fdSync(fd: number): void {
    const entry = this.table.require(fd, RIGHTS.FD_SYNC);
    if (entry.hostFd < 0) fail(ERRNO.EINVAL);
    fsyncSync(entry.hostFd);
  }

  /** The descriptor's type, flags and rights; needs no right. @throws EBADF */
  fdFdstat(fd: number): Fdstat {
    const entry = this.table.get(fd);
    return { filetype: entry.filetype, flags: entry.fdflags, rightsBase: entry.rightsBase, rightsInheriting: entry.rightsInheriting };
  }

  /**
   * Changes APPEND and NONBLOCK. The synchronisation flags are fixed when a file is
   * opened (the host descriptor cannot change them): changing them is ENOTSUP.
   */
  fdSetFlags(fd: number, flags: number): void {
    const entry = this.table.require(fd, RIGHTS.FD_FDSTAT_SET_FLAGS);
    if ((flags & ~ALL_FDFLAGS) !== 0) fail(ERRNO.EINVAL);
    const fixed = FDFLAGS.DSYNC | FDFLAGS.RSYNC | FDFLAGS.SYNC;
    if (((entry.fdflags ^ flags) & fixed) !== 0) fail(ERRNO.ENOTSUP);
    entry.fdflags = flags;
  }

  /** Narrows the rights of `fd`. @throws WasiRefusal ENOTCAPABLE when asked to add any right */
  fdSetRights(fd: number, base: number, inheriting: number): void {
    const entry = this.table.get(fd);
    const added = (base & ~entry.rightsBase) | (inheriting & ~entry.rightsInheriting);
    if (added !== 0) refuse(ERRNO.ENOTCAPABLE, `fd_fdstat_set_rights can only narrow rights; descriptor ${fd} asked to add ${rightNames(added)}`, this.table.resourceOf(fd));
    entry.rightsBase = base;
    entry.rightsInheriting = inheriting;
  }

  /** The open file's attributes. @throws EBADF, ENOTCAPABLE */
  fdFilestat(fd: number): Filestat {
    const entry = this.table.require(fd, RIGHTS.FD_FILESTAT_GET);
    if (entry.kind === 'stdin' || entry.kind === 'stdout') {
      // Standard streams report no host identity (inode, device, times) to the guest.
      return { dev: 0n, ino: 0n, filetype: entry.filetype, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };
    }
    return this.shadow.filestat(fstatSync(entry.hostFd, { bigint: true }));
  }

  /** Truncates or zero-extends to `size` bytes. @throws EBADF, ENOTCAPABLE, EFBIG */
  fdSetSize(fd: number, size: bigint): void {
    const entry = this.table.require(fd, RIGHTS.FD_FILESTAT_SET_SIZE);
    ftruncateSync(entry.hostFd, toOffset(size));
  }

  /**
   * Sets access and modification times (nanoseconds) as `fstflags` says. Changing a
   * file's times is a write: besides the descriptor's right, policy decides it as a
   * write on the file's guest path as it is now (so a descriptor opened for reading
   * cannot touch a file policy keeps read-only).
   * @throws EBADF, WasiRefusal ENOTCAPABLE, EACCES (policy), EINVAL
   */
  fdSetTimes(fd: number, atim: bigint, mtim: bigint, fstflags: number): void {
    const entry = this.table.require(fd, RIGHTS.FD_FILESTAT_SET_TIMES);
    if (entry.hostFd < 0) fail(ERRNO.EBADF);
    this.policy.decide(CALL.fd_filestat_set_times, entry.guestPath === '' ? this.table.resourceOf(fd) : entry.guestPath, 'write', this.table.resourceOf(fd));
    this.paths.setTimesByFd(entry.hostFd, atim, mtim, fstflags);
  }

  /**
   * Reads into the iovec list at `iovs` in `memory` ({@link readVectors}: bounds checked by
   * the caller) at the descriptor's offset. @returns bytes read, 0 at the end
   */
  fdRead(fd: number, memory: Uint8Array, iovs: number, count: number): number {
    const entry = this.table.require(fd, RIGHTS.FD_READ);
    const input = entry.input;
    if (input !== undefined) return eachVector(memory, iovs, count, false, (into, offset, length) => input.read(into, offset, length));
    const read = readVectors(entry.hostFd, memory, iovs, count, entry.offset);
    entry.offset += read;
    return read;
  }

  /** Reads the iovec list at `position` without moving the offset. */
  fdPread(fd: number, memory: Uint8Array, iovs: number, count: number, position: bigint): number {
    const entry = this.table.require(fd, RIGHTS.FD_READ | RIGHTS.FD_SEEK);
    if (entry.kind !== 'file') fail(ERRNO.ESPIPE);
    return readVectors(entry.hostFd, memory, iovs, count, toOffset(position));
  }

  /** Writes the iovec list at the offset, or at the end with APPEND. @returns bytes written */
  fdWrite(fd: number, memory: Uint8Array, iovs: number, count: number): number {
    const entry = this.table.require(fd, RIGHTS.FD_WRITE);
    const output = entry.output;
    if (output !== undefined) {
      return eachVector(memory, iovs, count, false, (from, offset, length) => {
        output.write(from.subarray(offset, offset + length));
        return length;
      });
    }
    // APPEND is kept by us, not on the host descriptor, so fd_fdstat_set_flags can change it.
    const at = (entry.fdflags & FDFLAGS.APPEND) !== 0 ? fstatSync(entry.hostFd).size : entry.offset;
    const written = writeVectors(entry.hostFd, memory, iovs, count, at);
    entry.offset = at + written;
    return written;
  }

  /** Writes the iovec list at `position` without moving the offset (also with APPEND, as POSIX says). */
  fdPwrite(fd: number, memory: Uint8Array, iovs: number, count: number, position: bigint): number {
    const entry = this.table.require(fd, RIGHTS.FD_WRITE | RIGHTS.FD_SEEK);
    if (entry.kind !== 'file') fail(ERRNO.ESPIPE);
    return writeVectors(entry.hostFd, memory, iovs, count, toOffset(position));
  }

  /** The name of preopen `fd`, UTF-8. @throws EBADF when `fd` is not a preopen */
  fdPrestatName(fd: number): Uint8Array {
    const entry = this.table.get(fd);
    if (entry.preopenName === undefined) fail(ERRNO.EBADF);
    return entry.preopenName;
  }

  /** Entry `index` (from `cookie`) of directory `fd`, or undefined past the end. */
  fdReaddir(fd: number, cookie: bigint): (index: number) => DirectoryEntry | undefined {
    const entry = this.table.require(fd, RIGHTS.FD_READDIR);
    if (entry.kind !== 'directory') fail(ERRNO.ENOTDIR);
    const listing = listingFor(entry, cookie);
    const start = cookie > BigInt(listing.names.length) ? listing.names.length : Number(cookie);
    return (index) => entryAt(entry, listing, start + index);
  }

  /** Moves `from` onto `to` (both open), closing what `to` held. @throws EBADF */
  fdRenumber(from: number, to: number): void {
    this.table.renumber(from, to);
  }

  /** Moves the offset. `fd_tell` rights suffice for a zero move from the current offset. */
  fdSeek(fd: number, delta: bigint, whence: number): bigint {
    const entry = this.table.get(fd);
    const tellOnly = whence === WHENCE.CUR && delta === 0n;
    if ((entry.rightsBase & RIGHTS.FD_SEEK) === 0 && !(tellOnly && (entry.rightsBase & RIGHTS.FD_TELL) !== 0)) {
      refuse(ERRNO.ENOTCAPABLE, `descriptor ${fd} lacks the right fd_seek`, this.table.resourceOf(fd));
    }
    if (entry.kind !== 'file') fail(ERRNO.ESPIPE);
    let base: bigint;
    if (whence === WHENCE.SET) base = 0n;
    else if (whence === WHENCE.CUR) base = BigInt(entry.offset);
    else if (whence === WHENCE.END) base = fstatSync(entry.hostFd, { bigint: true }).size;
    else fail(ERRNO.EINVAL);
    const target = base + delta;
    if (target < 0n) fail(ERRNO.EINVAL);
    if (target > MAX_OFFSET) fail(ERRNO.EOVERFLOW);
    entry.offset = Number(target);
    return target;
  }

  /** The offset in bytes; the tell or seek right suffices. @throws EBADF, ENOTCAPABLE, ESPIPE */
  fdTell(fd: number): number {
    const entry = this.table.get(fd);
    if ((entry.rightsBase & (RIGHTS.FD_TELL | RIGHTS.FD_SEEK)) === 0) refuse(ERRNO.ENOTCAPABLE, `descriptor ${fd} lacks the right fd_tell`, this.table.resourceOf(fd));
    if (entry.kind !== 'file') fail(ERRNO.ESPIPE);
    return entry.offset;
  }

  /** Signals are not supported: a plugin cannot kill its host. @throws EINVAL, ENOSYS */
  procRaise(signal: number): never {
    if (signal > SIGNAL_MAX) fail(ERRNO.EINVAL);
    fail(ERRNO.ENOSYS);
  }

  /**
   * Every socket call: there are no sockets (no socket preopens, no sock_open), so a
   * valid descriptor is never one. @throws EBADF, ENOTSOCK
   */
  sock(fd: number): never {
    this.table.get(fd);
    fail(ERRNO.ENOTSOCK);
  }
}
