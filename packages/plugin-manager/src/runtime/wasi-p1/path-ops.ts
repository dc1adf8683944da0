/**
 * The path_* operations of the core. Each one checks the directory descriptor's
 * rights, resolves its path(s) with {@link resolvePath} (never leaving that
 * directory), asks policy about the guest path each one really reaches (after links,
 * never the name asked for), and only then acts on the host path it got, opening final
 * components with O_NOFOLLOW so a symlink is never followed unless the guest asked.
 *
 * Errno choices (docs/wasi.md): leaving the directory and missing rights are
 * ENOTCAPABLE refusals (reported to the gate, so audited); a policy denial is EACCES
 * (ENOTCAPABLE for a write beyond a read-only grant); everything else is what Linux
 * would say for the same request.
 */
import {
  closeSync,
  constants,
  fstatSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import type { HostCallAccess } from '@forgeone/common';
import { ALL_FDFLAGS, ALL_OFLAGS, CALL, CLOCKID, ERRNO, FDFLAGS, FILETYPE, LOOKUPFLAGS, OFLAGS, RIGHTS, rightNames } from './abi.js';
import type { WasiClock } from './clock.js';
import { fail, refuse } from './errno.js';
import { FdEntry, type FdTable } from './fd-table.js';
import { filetypeOf, type Filestat, type TimeShadow } from './filestat.js';
import { directoryRoot } from './host-dir.js';
import { PathFailure, resolvePath, type Resolution, type ResolveOptions } from './resolve.js';
import { DIRECTORY_RIGHTS, FILE_RIGHTS, READ_MODE_RIGHTS, WRITE_MODE_RIGHTS } from './rights.js';

/**
 * Policy, as the path operations ask it: once per path, about the guest path the path
 * really reaches. Implemented over the host-call gate by the adapter.
 */
export interface PathPolicy {
  /**
   * Decides `call` on `reached` (a guest path) for `access`; `requested` is the path
   * the guest passed. Returns when allowed.
   * @throws WasiErrno EACCES, or ENOTCAPABLE for a write beyond a read-only grant (the gate audited it)
   */
  decide(call: string, reached: string, access: HostCallAccess | undefined, requested: string): void;
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_SYNC, O_DSYNC } = constants;

/** Host open flags for a file opened with `rights` (already narrowed), `oflags` and `fdflags`. */
function hostOpenFlags(rights: number, oflags: number, fdflags: number): number {
  const write = (rights & WRITE_MODE_RIGHTS) !== 0;
  const read = (rights & READ_MODE_RIGHTS) !== 0 || !write;
  let flags = (write ? (read ? O_RDWR : O_WRONLY) : O_RDONLY) | O_NOFOLLOW;
  if ((oflags & OFLAGS.CREAT) !== 0) flags |= O_CREAT;
  if ((oflags & OFLAGS.EXCL) !== 0) flags |= O_EXCL;
  if ((oflags & OFLAGS.TRUNC) !== 0) flags |= O_TRUNC;
  if ((fdflags & FDFLAGS.NONBLOCK) !== 0) flags |= O_NONBLOCK;
  if ((fdflags & (FDFLAGS.SYNC | FDFLAGS.RSYNC)) !== 0) flags |= O_SYNC;
  if ((fdflags & FDFLAGS.DSYNC) !== 0) flags |= O_DSYNC;
  return flags;
}

/** Path operations over one descriptor table. */
export class PathOps {
  constructor(
    private readonly table: FdTable,
    private readonly shadow: TimeShadow,
    private readonly clock: WasiClock,
    private readonly policy: PathPolicy,
  ) {}

  /** The directory `fd` when it holds `rights`. @throws EBADF, ENOTDIR, WasiRefusal ENOTCAPABLE */
  #directory(fd: number, rights: number, path: string): FdEntry {
    const entry = this.table.get(fd);
    if (entry.kind !== 'directory') fail(ERRNO.ENOTDIR);
    const missing = rights & ~entry.rightsBase;
    if (missing !== 0) refuse(ERRNO.ENOTCAPABLE, `the directory descriptor ${fd} lacks the right ${rightNames(missing)}`, entry.guestPath, path);
    return entry;
  }

  /**
   * Resolves `path` under `dir` and asks policy about what it reached. A resolution
   * that fails on the way asks policy about the place it failed at first, so a denied
   * place answers EACCES whether or not something exists there.
   * @throws WasiRefusal (leaving the directory), EACCES/ENOTCAPABLE (policy), every resolution errno
   */
  #reach(call: string, dir: FdEntry, path: string, options: ResolveOptions, access?: HostCallAccess): Resolution {
    let target: Resolution;
    try {
      target = resolvePath(dir, path, options);
    } catch (error) {
      if (error instanceof PathFailure) this.policy.decide(call, error.reached, access, path);
      throw error;
    }
    this.policy.decide(call, target.guest, access, path);
    return target;
  }

  /** mkdir. @throws ENOTDIR, ENOTCAPABLE, EEXIST, every resolution errno */
  createDirectory(fd: number, path: string): void {
    const dir = this.#directory(fd, RIGHTS.PATH_CREATE_DIRECTORY, path);
    const target = this.#reach(CALL.path_create_directory, dir, path, { follow: false, entry: true });
    if (target.name === undefined || target.stat !== undefined) fail(ERRNO.EEXIST);
    mkdirSync(target.host, 0o777);
  }

  /** stat, or lstat unless `symlink_follow`. @throws ENOTDIR, ENOTCAPABLE, ENOENT, every resolution errno */
  filestat(fd: number, lookupflags: number, path: string): Filestat {
    const dir = this.#directory(fd, RIGHTS.PATH_FILESTAT_GET, path);
    const target = this.#reach(CALL.path_filestat_get, dir, path, { follow: (lookupflags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0 });
    if (target.stat === undefined) fail(ERRNO.ENOENT);
    return this.shadow.filestat(target.stat);
  }

  /** utimensat: a symlink's own times unless `symlink_follow`. @throws ENOTDIR, ENOTCAPABLE, ENOENT, EINVAL, every resolution errno */
  setTimes(fd: number, lookupflags: number, path: string, atim: bigint, mtim: bigint, fstflags: number): void {
    const dir = this.#directory(fd, RIGHTS.PATH_FILESTAT_SET_TIMES, path);
    const target = this.#reach(CALL.path_filestat_set_times, dir, path, { follow: (lookupflags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0 });
    if (target.stat === undefined) fail(ERRNO.ENOENT);
    const request = this.shadow.request(target.stat, atim, mtim, fstflags, this.clock.now(CLOCKID.REALTIME));
    // The final component is a symlink only when the guest did not ask to follow it.
    const link = target.stat.isSymbolicLink();
    if (link) {
      lutimesSync(target.host, request.atimeSeconds, request.mtimeSeconds);
      this.shadow.record(lstatSync(target.host, { bigint: true }), request);
    } else {
      // stat, not lstat: the start directory may be named by /proc/self/fd/<n>, a link to it.
      utimesSync(target.host, request.atimeSeconds, request.mtimeSeconds);
      this.shadow.record(statSync(target.host, { bigint: true }), request);
    }
  }

  /** fd_filestat_set_times, which shares the timestamp rules. */
  setTimesByFd(hostFd: number, atim: bigint, mtim: bigint, fstflags: number): void {
    const request = this.shadow.request(fstatSync(hostFd, { bigint: true }), atim, mtim, fstflags, this.clock.now(CLOCKID.REALTIME));
    futimesSync(hostFd, request.atimeSeconds, request.mtimeSeconds);
    this.shadow.record(fstatSync(hostFd, { bigint: true }), request);
  }

  /**
   * Hard-links `oldPath` (under `oldFd`) as `newPath` (under `newFd`). Both paths are
   * resolved inside their directories, so a guest can only link files it can already
   * reach; directories cannot be linked (EPERM, as on Linux).
   */
  link(oldFd: number, oldFlags: number, oldPath: string, newFd: number, newPath: string): void {
    const from = this.#directory(oldFd, RIGHTS.PATH_LINK_SOURCE, oldPath);
    const to = this.#directory(newFd, RIGHTS.PATH_LINK_TARGET, newPath);
    const follow = (oldFlags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0;
    const source = this.#reach(CALL.path_link, from, oldPath, { follow, entry: !follow });
    if (source.stat === undefined) fail(ERRNO.ENOENT);
    if (source.name === undefined || source.stat.isDirectory()) fail(ERRNO.EPERM);
    const target = this.#reach(CALL.path_link, to, newPath, { follow: false, entry: true });
    if (target.name === undefined || target.stat !== undefined) fail(ERRNO.EEXIST);
    linkSync(source.host, target.host);
  }

  /**
   * Opens a file or directory. Rights asked for but not passed on by the directory are
   * dropped silently, except the write right: asking to write through a directory that
   * cannot pass it on (a read-only preopen) is ENOTCAPABLE. Rights that do not apply
   * to what was opened (seeking a directory) are dropped, as preview1 allows.
   *
   * @returns the new descriptor
   */
  open(fd: number, lookupflags: number, path: string, oflags: number, rightsBase: number, rightsInheriting: number, fdflags: number): number {
    const dir = this.#directory(fd, RIGHTS.PATH_OPEN, path);
    if ((oflags & ~ALL_OFLAGS) !== 0 || (fdflags & ~ALL_FDFLAGS) !== 0) fail(ERRNO.EINVAL);
    const create = (oflags & OFLAGS.CREAT) !== 0;
    if (create && (dir.rightsBase & RIGHTS.PATH_CREATE_FILE) === 0) refuse(ERRNO.ENOTCAPABLE, `the directory descriptor ${fd} lacks the right path_create_file`, dir.guestPath, path);
    if ((oflags & OFLAGS.TRUNC) !== 0 && (dir.rightsBase & RIGHTS.PATH_FILESTAT_SET_SIZE) === 0) {
      refuse(ERRNO.ENOTCAPABLE, `the directory descriptor ${fd} lacks the right path_filestat_set_size (for O_TRUNC)`, dir.guestPath, path);
    }
    const withheld = rightsBase & WRITE_MODE_RIGHTS & ~dir.rightsInheriting;
    if (withheld !== 0) refuse(ERRNO.ENOTCAPABLE, `the directory descriptor ${fd} cannot pass on the right ${rightNames(withheld)}`, dir.guestPath, path);
    // Refuse before creating anything, so a full table never leaves a new empty file behind.
    if (this.table.size >= this.table.limit) refuse(ERRNO.EMFILE, `the descriptor table is full (${this.table.limit} descriptors)`, dir.guestPath, path);

    // A use that can change the file is a write; fd_filestat_set_times, which needs no
    // write mode, is decided as a write on the file's path when it is used.
    const writes = (oflags & (OFLAGS.CREAT | OFLAGS.TRUNC)) !== 0 || (rightsBase & WRITE_MODE_RIGHTS) !== 0;
    const target = this.#reach(CALL.path_open, dir, path, { follow: (lookupflags & LOOKUPFLAGS.SYMLINK_FOLLOW) !== 0 }, writes ? 'write' : 'read');
    const stat = target.stat;
    const guestPath = target.guest;
    if (stat === undefined) {
      if (!create) fail(ERRNO.ENOENT);
      if ((oflags & OFLAGS.DIRECTORY) !== 0) fail(ERRNO.EINVAL);
    } else {
      if (stat.isSymbolicLink()) fail(ERRNO.ELOOP);
      if (create && (oflags & OFLAGS.EXCL) !== 0) fail(ERRNO.EEXIST);
      if (stat.isDirectory()) return this.#openDirectory(dir, target.host, target.name === undefined, oflags, rightsBase, rightsInheriting, fdflags, guestPath);
      if ((oflags & OFLAGS.DIRECTORY) !== 0) fail(ERRNO.ENOTDIR);
    }
    const base = rightsBase & dir.rightsInheriting & FILE_RIGHTS;
    const hostFd = openSync(target.host, hostOpenFlags(base, oflags, fdflags), 0o666);
    let filetype: number;
    try {
      const opened = fstatSync(hostFd);
      // Something replaced the path with a directory between our check and the open.
      if (opened.isDirectory()) fail(ERRNO.EISDIR);
      filetype = filetypeOf(opened);
    } catch (error) {
      closeSync(hostFd);
      throw error;
    }
    const entry = new FdEntry({ kind: 'file', filetype, rightsBase: base, rightsInheriting: rightsInheriting & dir.rightsInheriting, fdflags, hostFd, ownsHostFd: true, guestPath });
    return this.#add(entry);
  }

  #openDirectory(dir: FdEntry, host: string, isStart: boolean, oflags: number, rightsBase: number, rightsInheriting: number, fdflags: number, guestPath: string): number {
    if ((rightsBase & WRITE_MODE_RIGHTS) !== 0 || (oflags & OFLAGS.TRUNC) !== 0) fail(ERRNO.EISDIR);
    // The start directory's root may be /proc/self/fd/<n>, itself a (magic) link, checked already.
    const hostFd = openSync(host, O_RDONLY | O_DIRECTORY | (isStart ? 0 : O_NOFOLLOW));
    try {
      if (!fstatSync(hostFd).isDirectory()) fail(ERRNO.ENOTDIR);
    } catch (error) {
      closeSync(hostFd);
      throw error;
    }
    const base = rightsBase & dir.rightsInheriting & DIRECTORY_RIGHTS;
    const root = directoryRoot(hostFd, host.endsWith('/') ? host.slice(0, -1) : host);
    const entry = new FdEntry({
      kind: 'directory',
      filetype: FILETYPE.DIRECTORY,
      rightsBase: base,
      rightsInheriting: rightsInheriting & dir.rightsInheriting,
      fdflags,
      hostFd,
      ownsHostFd: true,
      root,
      guestPath,
    });
    return this.#add(entry);
  }

  #add(entry: FdEntry): number {
    try {
      return this.table.add(entry);
    } catch (error) {
      closeSync(entry.hostFd);
      throw error;
    }
  }

  /** The contents of symlink `path`, all of it: the adapter truncates to the guest's buffer. */
  readlink(fd: number, path: string): Buffer {
    const dir = this.#directory(fd, RIGHTS.PATH_READLINK, path);
    const target = this.#reach(CALL.path_readlink, dir, path, { follow: false, entry: true });
    if (target.stat === undefined) fail(ERRNO.ENOENT);
    if (!target.stat.isSymbolicLink()) fail(ERRNO.EINVAL);
    return readlinkSync(target.host, 'buffer');
  }

  /** rmdir. @throws ENOTDIR, ENOTCAPABLE, ENOENT, ENOTEMPTY, EINVAL (`.`), every resolution errno */
  removeDirectory(fd: number, path: string): void {
    const dir = this.#directory(fd, RIGHTS.PATH_REMOVE_DIRECTORY, path);
    const target = this.#reach(CALL.path_remove_directory, dir, path, { follow: false, entry: true });
    if (target.name === undefined) fail(ERRNO.EINVAL);
    if (target.stat === undefined) fail(ERRNO.ENOENT);
    rmdirSync(target.host);
  }

  /** rename, both paths resolved inside their directories. @throws ENOTDIR, ENOTCAPABLE, ENOENT, EINVAL, the host's rename errnos */
  rename(fd: number, oldPath: string, newFd: number, newPath: string): void {
    const from = this.#directory(fd, RIGHTS.PATH_RENAME_SOURCE, oldPath);
    const to = this.#directory(newFd, RIGHTS.PATH_RENAME_TARGET, newPath);
    const source = this.#reach(CALL.path_rename, from, oldPath, { follow: false, entry: true });
    if (source.name === undefined) fail(ERRNO.EINVAL);
    if (source.stat === undefined) fail(ERRNO.ENOENT);
    const target = this.#reach(CALL.path_rename, to, newPath, { follow: false, entry: true });
    if (target.name === undefined) fail(ERRNO.EINVAL);
    renameSync(source.host, target.host);
    // Descriptors opened at or below the old path now name the new one, so decisions
    // and audit records about what is reached through them name the real file.
    this.table.moved(source.guest, target.guest);
  }

  /**
   * Creates symlink `path` holding `contents`. Contents that are absolute, or whose
   * `..` steps climb above the descriptor's directory, are refused with ENOTCAPABLE:
   * the guest could never follow them, and a host program that later did would be
   * led outside the tree.
   */
  symlink(contents: string, fd: number, path: string): void {
    const dir = this.#directory(fd, RIGHTS.PATH_SYMLINK, path);
    if (contents.length === 0) fail(ERRNO.ENOENT);
    if (contents.startsWith('/')) refuse(ERRNO.ENOTCAPABLE, 'a symbolic link to an absolute path names the host\'s file system', dir.guestPath, `${path} -> ${contents}`);
    const target = this.#reach(CALL.path_symlink, dir, path, { follow: false, entry: true });
    if (target.name === undefined || target.stat !== undefined) fail(ERRNO.EEXIST);
    let depth = target.depth;
    for (const part of contents.split('/')) {
      if (part === '..') depth -= 1;
      else if (part !== '' && part !== '.') depth += 1;
      if (depth < 0) refuse(ERRNO.ENOTCAPABLE, `a symbolic link whose target climbs above ${dir.guestPath}`, target.guest, `${path} -> ${contents}`);
    }
    symlinkSync(contents, target.host);
  }

  /** unlink a file or symlink (never its target). @throws ENOTDIR, ENOTCAPABLE, ENOENT, EISDIR, every resolution errno */
  unlink(fd: number, path: string): void {
    const dir = this.#directory(fd, RIGHTS.PATH_UNLINK_FILE, path);
    const target = this.#reach(CALL.path_unlink_file, dir, path, { follow: false, entry: true });
    if (target.name === undefined) fail(ERRNO.EISDIR);
    if (target.stat === undefined) fail(ERRNO.ENOENT);
    if (target.stat.isDirectory()) fail(ERRNO.EISDIR);
    unlinkSync(target.host);
  }
}
