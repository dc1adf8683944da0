/**
 * Path resolution under a directory descriptor, done by us rather than the kernel so
 * that no path a guest names can reach outside the directory it is relative to.
 *
 * Every directory descriptor is its own root (the capability model of cap-std and
 * wasmtime): resolution starts at its host path, walks one component at a time with
 * lstat, and refuses with ENOTCAPABLE any step that would leave it: an absolute path,
 * a `..` above the start, or a symbolic link whose target is absolute or climbs out
 * (the target is spliced in and walked the same way). At most 32 links are followed
 * (then ELOOP). `..` is always handled here, never passed to the kernel, and every
 * directory on the way is a real directory at the moment it is checked.
 *
 * SECURITY: the kernel later re-walks the host path we return. Between our lstat and
 * its walk another process with write access to the same tree could replace a checked
 * directory with a symlink; docs/wasi.md lists this race. The guest itself cannot race
 * us: it is blocked while its call runs.
 */
import { lstatSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { ERRNO } from './abi.js';
import { WasiErrno, WasiRefusal, errnoOf, fail, refuse } from './errno.js';

/** Most symbolic links one resolution follows before giving up with ELOOP. */
export const MAX_SYMLINK_HOPS = 32;

/** How to treat the final component. */
export interface ResolveOptions {
  /** Follow a symbolic link in the final component (`lookupflags.symlink_follow`). */
  readonly follow: boolean;
  /**
   * The operation acts on the directory entry itself (unlink, rmdir, rename, link or
   * symlink creation, readlink, mkdir): a final symlink is never followed, even with
   * a trailing slash, which instead fails with ENOTDIR as on Linux.
   */
  readonly entry?: boolean;
}

/** The directory a path is resolved in: its host root and its guest path. */
export interface ResolveBase {
  /** Host path resolution starts from (`/proc/self/fd/<n>` or a real path). */
  readonly root: string;
  /** The directory's guest path (`/data/sub`); guest paths of what is reached are built from it. */
  readonly guestPath: string;
}

/** Where a path led. */
export interface Resolution {
  /** Host path of the final object (of the starting directory when `name` is undefined). */
  readonly host: string;
  /**
   * Guest path of the final object as it really is: the base's guest path joined with
   * the components actually walked after every symbolic link was spliced in and every
   * `..` applied (`/data/secrets/key.txt` for `innocent` linking to `secrets/key.txt`).
   * Policy decides on this, never on the name asked for.
   */
  readonly guest: string;
  /** The final component's name; undefined when the path names the start itself (`.`, `a/..`). */
  readonly name: string | undefined;
  /** lstat of the final object; undefined when it does not exist. */
  readonly stat: BigIntStats | undefined;
  /** The path ended in `/`: the final object must be a directory. */
  readonly mustBeDirectory: boolean;
  /** How many directories below the root the final object's directory is (0: in the root). */
  readonly depth: number;
}

/**
 * A resolution that failed on the way (a missing or unreadable component, a file used
 * as a directory, a link loop). `reached` is the guest path of the component it failed
 * at, so that policy can be asked about the place the guest was really probing: a
 * guest must not learn what exists where policy forbids it to look.
 */
export class PathFailure extends WasiErrno {
  constructor(
    errno: number,
    readonly reached: string,
  ) {
    super(errno);
    this.name = 'PathFailure';
  }
}

function lstatOrMissing(path: string): BigIntStats | undefined {
  return lstatSync(path, { bigint: true, throwIfNoEntry: false });
}

/** Splits a path into components, dropping empty ones (`a//b/` -> `a`, `b`). */
function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

/** `base` joined with `parts` (base is absolute in guest terms, parts are plain names). */
function guestJoin(base: string, parts: readonly string[]): string {
  if (parts.length === 0) return base;
  return `${base.endsWith('/') ? base : `${base}/`}${parts.join('/')}`;
}

/**
 * Resolves `path` relative to the directory `base`.
 *
 * @param path a guest path: relative, UTF-8, without NUL (the adapter checks these)
 * @throws WasiRefusal ENOTCAPABLE (absolute path, `..` above the base, a symlink
 *   leaving it; reported to the gate as refusals); PathFailure ENOENT (missing
 *   directory on the way), ELOOP (more than 32 links), ENOTDIR (a file used as a
 *   directory) or the errno of a failing lstat; WasiErrno ENOENT for an empty path
 */
export function resolvePath(base: ResolveBase, path: string, options: ResolveOptions): Resolution {
  if (path.length === 0) fail(ERRNO.ENOENT);
  if (path.startsWith('/')) refuse(ERRNO.ENOTCAPABLE, 'an absolute path names the host\'s file system, not the guest\'s', base.guestPath, path);
  const entryOperation = options.entry === true;
  let mustBeDirectory = path.endsWith('/');
  // Components still to walk, last one first, so pop() takes the next.
  const pending = components(path).reverse();
  const directories = [base.root];
  // The guest names of `directories` below the root, kept in step with it.
  const walked: string[] = [];
  let hops = 0;
  let part = '';

  try {
    while (pending.length > 0) {
      part = pending.pop() as string;
      const last = pending.length === 0;
      const here = directories[directories.length - 1] as string;
      if (part === '.' || part === '..') {
        if (part === '..') {
          if (directories.length === 1) {
            refuse(ERRNO.ENOTCAPABLE, hops === 0 ? `the path climbs above ${base.guestPath}` : `a symbolic link on the way leads above ${base.guestPath}`, base.guestPath, path);
          }
          directories.pop();
          walked.pop();
        }
        if (last) mustBeDirectory = true;
        continue;
      }
      const host = `${here}/${part}`;
      const stat = lstatOrMissing(host);
      if (stat === undefined) {
        if (!last) fail(ERRNO.ENOENT);
        const guest = guestJoin(base.guestPath, [...walked, part]);
        return { host: mustBeDirectory ? `${host}/` : host, guest, name: part, stat: undefined, mustBeDirectory, depth: directories.length - 1 };
      }
      if (stat.isSymbolicLink()) {
        const followLink = !last || (!entryOperation && (options.follow || mustBeDirectory));
        if (followLink) {
          hops += 1;
          if (hops > MAX_SYMLINK_HOPS) fail(ERRNO.ELOOP);
          const target = readlinkSync(host, 'utf8');
          if (target.length === 0) fail(ERRNO.ENOENT);
          // SECURITY: an absolute target names the host's file system, never the guest's.
          if (target.startsWith('/')) refuse(ERRNO.ENOTCAPABLE, 'a symbolic link on the way points to an absolute path', base.guestPath, path);
          if (last && target.endsWith('/')) mustBeDirectory = true;
          const spliced = components(target);
          for (let index = spliced.length - 1; index >= 0; index -= 1) pending.push(spliced[index] as string);
          // A target of only `.` components leaves nothing pending: the link names its own directory.
          continue;
        }
        if (last && mustBeDirectory) fail(ERRNO.ENOTDIR);
        return { host, guest: guestJoin(base.guestPath, [...walked, part]), name: part, stat, mustBeDirectory, depth: directories.length - 1 };
      }
      if (!last) {
        if (!stat.isDirectory()) fail(ERRNO.ENOTDIR);
        directories.push(host);
        walked.push(part);
        continue;
      }
      if (mustBeDirectory && !stat.isDirectory()) fail(ERRNO.ENOTDIR);
      return { host: mustBeDirectory ? `${host}/` : host, guest: guestJoin(base.guestPath, [...walked, part]), name: part, stat, mustBeDirectory, depth: directories.length - 1 };
    }
  } catch (error) {
    if (error instanceof WasiRefusal) throw error;
    const errno = errnoOf(error);
    if (errno === undefined) throw error;
    throw new PathFailure(errno, guestJoin(base.guestPath, part === '' || part === '.' || part === '..' ? walked : [...walked, part]));
  }
  // The path named a directory already on the stack (`.`, `a/..`, or a link to one).
  const here = directories[directories.length - 1] as string;
  return { host: here, guest: guestJoin(base.guestPath, walked), name: undefined, stat: statSync(here, { bigint: true }), mustBeDirectory: true, depth: directories.length - 1 };
}
