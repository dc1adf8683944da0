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
import { fail } from './errno.js';

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

/** Where a path led. */
export interface Resolution {
  /** Host path of the final object (of the starting directory when `name` is undefined). */
  readonly host: string;
  /** The final component's name; undefined when the path names the start itself (`.`, `a/..`). */
  readonly name: string | undefined;
  /** lstat of the final object; undefined when it does not exist. */
  readonly stat: BigIntStats | undefined;
  /** The path ended in `/`: the final object must be a directory. */
  readonly mustBeDirectory: boolean;
  /** How many directories below the root the final object's directory is (0: in the root). */
  readonly depth: number;
}

function lstatOrMissing(path: string): BigIntStats | undefined {
  return lstatSync(path, { bigint: true, throwIfNoEntry: false });
}

/** Splits a path into components, dropping empty ones (`a//b/` -> `a`, `b`). */
function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

/**
 * Resolves `path` relative to the directory whose host path is `root`.
 *
 * @param path a guest path: relative, UTF-8, without NUL (the adapter checks these)
 * @throws WasiErrno ENOENT (empty path, missing directory on the way), ENOTCAPABLE
 *   (absolute path, `..` above the root, symlink leaving it), ELOOP (more than 32
 *   links), ENOTDIR (a file used as a directory), or the errno of a failing lstat
 */
export function resolvePath(root: string, path: string, options: ResolveOptions): Resolution {
  if (path.length === 0) fail(ERRNO.ENOENT);
  if (path.startsWith('/')) fail(ERRNO.ENOTCAPABLE);
  const entryOperation = options.entry === true;
  let mustBeDirectory = path.endsWith('/');
  // Components still to walk, last one first, so pop() takes the next.
  const pending = components(path).reverse();
  const directories = [root];
  let hops = 0;

  while (pending.length > 0) {
    const part = pending.pop() as string;
    const last = pending.length === 0;
    const here = directories[directories.length - 1] as string;
    if (part === '.' || part === '..') {
      if (part === '..') {
        if (directories.length === 1) fail(ERRNO.ENOTCAPABLE);
        directories.pop();
      }
      if (last) mustBeDirectory = true;
      continue;
    }
    const host = `${here}/${part}`;
    const stat = lstatOrMissing(host);
    if (stat === undefined) {
      if (!last) fail(ERRNO.ENOENT);
      return { host: mustBeDirectory ? `${host}/` : host, name: part, stat: undefined, mustBeDirectory, depth: directories.length - 1 };
    }
    if (stat.isSymbolicLink()) {
      const followLink = !last || (!entryOperation && (options.follow || mustBeDirectory));
      if (followLink) {
        hops += 1;
        if (hops > MAX_SYMLINK_HOPS) fail(ERRNO.ELOOP);
        const target = readlinkSync(host, 'utf8');
        if (target.length === 0) fail(ERRNO.ENOENT);
        // SECURITY: an absolute target names the host's file system, never the guest's.
        if (target.startsWith('/')) fail(ERRNO.ENOTCAPABLE);
        if (last && target.endsWith('/')) mustBeDirectory = true;
        const spliced = components(target);
        for (let index = spliced.length - 1; index >= 0; index -= 1) pending.push(spliced[index] as string);
        // A target of only `.` components leaves nothing pending: the link names its own directory.
        continue;
      }
      if (last && mustBeDirectory) fail(ERRNO.ENOTDIR);
      return { host, name: part, stat, mustBeDirectory, depth: directories.length - 1 };
    }
    if (!last) {
      if (!stat.isDirectory()) fail(ERRNO.ENOTDIR);
      directories.push(host);
      continue;
    }
    if (mustBeDirectory && !stat.isDirectory()) fail(ERRNO.ENOTDIR);
    return { host: mustBeDirectory ? `${host}/` : host, name: part, stat, mustBeDirectory, depth: directories.length - 1 };
  }
  // The path named a directory already on the stack (`.`, `a/..`, or a link to one).
  const here = directories[directories.length - 1] as string;
  return { host: here, name: undefined, stat: statSync(here, { bigint: true }), mustBeDirectory: true, depth: directories.length - 1 };
}
