/**
 * The volumes a plugin's file calls may touch: guest paths the operator mapped to host
 * directories, read-only or read-write.
 *
 * Each host directory is opened once, when the host functions are created, and every
 * path is resolved from that open directory by the WASI core's resolver
 * (runtime/wasi-p1/resolve.ts): component by component with lstat, never leaving the
 * directory through `..` or a symbolic link, at most 32 links. On Linux the start is
 * `/proc/self/fd/<n>`, so renaming or replacing the host directory afterwards does not
 * redirect the plugin.
 */
import { closeSync } from 'node:fs';
import { ForgeError, isNodeSystemError } from '@forgeone/common';
import { ERRNO } from '../runtime/wasi-p1/abi.js';
import { errnoOf } from '../runtime/wasi-p1/errno.js';
import { openPreopenDirectory, type OpenedDirectory } from '../runtime/wasi-p1/host-dir.js';
import { PathFailure, resolvePath, type Resolution } from '../runtime/wasi-p1/resolve.js';

/**
 * Asks policy about the guest path a file call really reaches (after links), when it
 * differs from the path the request named. Returns when allowed; throws to refuse.
 */
export type ReachedCheck = (reached: string) => void;

/** One volume as the operator mapped it. */
export interface VolumeMapping {
  /** Where the plugin sees it: a canonical absolute guest path, e.g. `/data`. */
  readonly guest: string;
  /** The host directory behind it. */
  readonly host: string;
  /** `ro`: file_write is refused; `rw`: both calls work. */
  readonly mode: 'ro' | 'rw';
}

/** Longest guest path a file call accepts, in bytes. */
export const MAX_GUEST_PATH_BYTES = 4096;

/** An opened volume. */
export interface Volume {
  readonly guest: string;
  readonly mode: 'ro' | 'rw';
  /** Where resolution starts (`/proc/self/fd/<n>` on Linux). */
  readonly root: string;
}

/** A guest path located in its volume. */
export interface Located {
  readonly volume: Volume;
  /** The path below the volume root, without a leading `/`; empty for the root itself. */
  readonly relative: string;
}

/**
 * Why `path` is not a canonical absolute guest path, or undefined when it is:
 * it starts with `/`, has no empty, `.` or `..` components, no trailing `/` (except
 * the root `/` itself) and no NUL.
 */
export function guestPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'it is not absolute';
  if (path.includes('\0')) return 'it holds a NUL character';
  if (path === '/') return undefined;
  for (const part of path.slice(1).split('/')) {
    if (part === '') return 'it has an empty component (// or a trailing /)';
    if (part === '.' || part === '..') return `it has a "${part}" component`;
  }
  return undefined;
}

interface Open extends Volume {
  readonly dir: OpenedDirectory;
}

/** The opened volumes of one plugin. */
export class Volumes {
  readonly #volumes: Open[];

  private constructor(volumes: Open[]) {
    // Longest guest path first, so a nested volume wins over the one containing it.
    this.#volumes = volumes.sort((a, b) => b.guest.length - a.guest.length);
  }

  /**
   * Opens the host directory of every mapping.
   *
   * @throws ForgeError FO_SYSCALL_INVALID_OPTIONS (a guest path that is not canonical,
   *   the same guest path twice, a mode other than ro or rw: all listed),
   *   FO_SYSCALL_VOLUME_UNAVAILABLE (a host directory is missing or not a directory)
   */
  static open(mappings: readonly VolumeMapping[], problems: string[] = []): Volumes {
    const seen = new Set<string>();
    mappings.forEach((mapping, index) => {
      const problem = typeof mapping.guest === 'string' ? guestPathProblem(mapping.guest) : 'it is not a string';
      if (problem !== undefined) problems.push(`volumes[${index}].guest: expected a canonical absolute path, found one where ${problem}`);
      else if (seen.has(mapping.guest)) problems.push(`volumes[${index}].guest: ${mapping.guest} is mapped twice`);
      seen.add(mapping.guest);
      if (mapping.mode !== 'ro' && mapping.mode !== 'rw') problems.push(`volumes[${index}].mode: expected "ro" or "rw", found ${JSON.stringify(mapping.mode)}`);
      if (typeof mapping.host !== 'string' || mapping.host.length === 0) problems.push(`volumes[${index}].host: expected a host directory`);
    });
    if (problems.length > 0) return new Volumes([]);
    const opened: Open[] = [];
    try {
      for (const mapping of mappings) {
        let dir: OpenedDirectory;
        try {
          dir = openPreopenDirectory(mapping.host, mapping.guest);
        } catch (error) {
          throw new ForgeError('FO_SYSCALL_VOLUME_UNAVAILABLE', `volume ${mapping.guest}: the host directory ${mapping.host} cannot be opened (${ForgeError.is(error) ? error.code : String(error)})`, {
            details: { guest: mapping.guest, host: mapping.host },
            cause: error,
          });
        }
        opened.push({ guest: mapping.guest, mode: mapping.mode, root: dir.root, dir });
      }
    } catch (error) {
      for (const volume of opened) closeSync(volume.dir.hostFd);
      throw error;
    }
    return new Volumes(opened);
  }

  /**
   * The volume holding `path`.
   *
   * @throws ForgeError FO_SYSCALL_FILE_BAD_PATH (not canonical), FO_SYSCALL_FILE_NO_VOLUME
   */
  locate(call: string, path: string): Located {
    const problem = guestPathProblem(path);
    if (problem !== undefined) {
      throw new ForgeError('FO_SYSCALL_FILE_BAD_PATH', `${call}: expected a canonical absolute guest path, found ${JSON.stringify(path)}, where ${problem}`, { details: { call, path } });
    }
    for (const volume of this.#volumes) {
      if (path === volume.guest) return { volume, relative: '' };
      const prefix = volume.guest === '/' ? '/' : `${volume.guest}/`;
      if (path.startsWith(prefix)) return { volume, relative: path.slice(prefix.length) };
    }
    throw new ForgeError('FO_SYSCALL_FILE_NO_VOLUME', `${call}: ${path} is in no volume mapped for this plugin`, { details: { call, path } });
  }

  /**
   * Resolves a located path inside its volume and has policy decide on what it
   * reaches: `check` is asked about the guest path of the object reached whenever it
   * differs from `path` (a link was followed), and about the place a resolution failed
   * at, so the guest learns nothing about what exists where it may not look.
   * @param follow follow a symbolic link in the last component (inside the volume only)
   * @throws ForgeError as {@link fileError} maps the resolver's refusals, or what `check` throws
   */
  resolve(call: string, path: string, located: Located, follow: boolean, check: ReachedCheck): Resolution {
    let target: Resolution;
    try {
      target = resolvePath({ root: located.volume.root, guestPath: located.volume.guest }, located.relative, { follow });
    } catch (error) {
      if (error instanceof PathFailure && error.reached !== path) check(error.reached);
      throw fileError(call, path, error);
    }
    if (target.guest !== path) check(target.guest);
    return target;
  }

  /** Closes every host directory. Idempotent. */
  close(): void {
    for (const volume of this.#volumes.splice(0)) closeSync(volume.dir.hostFd);
  }
}

/**
 * Maps a failure of a file call to the guest's code. A ForgeError passes through; a
 * resolver errno or Node error becomes FO_SYSCALL_FILE_*. Messages name the guest
 * path only, never a host path.
 */
export function fileError(call: string, path: string, error: unknown): ForgeError {
  if (error instanceof ForgeError) return error;
  const details = { call, path };
  const errno = errnoOf(error);
  const node = isNodeSystemError(error) ? error.code : undefined;
  // Neither a refusal nor a system error: a bug, which the ABI logs and answers FO_INTERNAL_UNEXPECTED.
  if (errno === undefined && node === undefined) throw error;
  if (errno === ERRNO.ENOTCAPABLE) {
    return new ForgeError('FO_SYSCALL_FILE_ESCAPE', `${call}: ${path} leads outside its volume through a symbolic link`, { details });
  }
  if (errno === ERRNO.ELOOP && node === undefined) {
    return new ForgeError('FO_SYSCALL_FILE_BAD_PATH', `${call}: ${path} passes through more than 32 symbolic links`, { details });
  }
  if (errno === ERRNO.ENOENT || errno === ERRNO.ENOTDIR) {
    return new ForgeError('FO_SYSCALL_FILE_NOT_FOUND', `${call}: ${path} does not exist (or a directory on its way is missing)`, { details });
  }
  // O_NOFOLLOW met a symbolic link (one created after resolution), or a directory.
  if (node === 'ELOOP' || node === 'EISDIR') {
    return new ForgeError('FO_SYSCALL_FILE_NOT_REGULAR', `${call}: ${path} is not a regular file`, { details });
  }
  if (node === 'EEXIST') return new ForgeError('FO_SYSCALL_FILE_EXISTS', `${call}: ${path} already exists`, { details });
  if (node === 'EFBIG') return new ForgeError('FO_SYSCALL_FILE_TOO_LARGE', `${call}: ${path} would be larger than the file system allows`, { details });
  const reason = node ?? `WASI errno ${errno}`;
  return new ForgeError('FO_SYSCALL_FILE_FAILED', `${call}: the host could not complete the operation on ${path} (${reason})`, {
    details: { ...details, errno: reason, error: error instanceof Error ? error.message : String(error) },
    cause: error,
  });
}
