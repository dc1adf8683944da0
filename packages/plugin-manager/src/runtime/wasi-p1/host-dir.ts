/**
 * Host directories held open for the guest. Every directory descriptor keeps a host
 * descriptor open, and on Linux path resolution starts from `/proc/self/fd/<n>`, the
 * kernel's handle on that very directory: it keeps naming the same directory when the
 * directory is renamed or its old path is replaced, as a real `openat` would. Without
 * `/proc` the directory's real path at open time is used instead (docs/wasi.md).
 */
import { closeSync, constants, existsSync, fstatSync, openSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { ForgeError, fromFsError, isNodeSystemError } from '@forgeone/common';

let procFd: boolean | undefined;

/** True when `/proc/self/fd` can name open directories (checked once). */
function procFdAvailable(): boolean {
  procFd ??= process.platform === 'linux' && existsSync('/proc/self/fd');
  return procFd;
}

/** The path resolution starts from for a directory open as `hostFd` at `realPath`. */
export function directoryRoot(hostFd: number, realPath: string): string {
  return procFdAvailable() ? `/proc/self/fd/${hostFd}` : realPath;
}

/** A host directory opened for a preopen. */
export interface OpenedDirectory {
  readonly hostFd: number;
  readonly root: string;
}

/**
 * Opens the host directory of a preopen.
 *
 * @throws ForgeError FO_WASI_PREOPEN_NOT_FOUND, FO_WASI_PREOPEN_NOT_DIRECTORY, FO_IO_*
 */
export function openPreopenDirectory(host: string, guest: string): OpenedDirectory {
  const path = resolve(host);
  let hostFd: number;
  try {
    hostFd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT')) {
      throw new ForgeError('FO_WASI_PREOPEN_NOT_FOUND', `cannot preopen ${path} as ${guest}: it does not exist`, { details: { host: path, guest } });
    }
    if (isNodeSystemError(error, 'ENOTDIR')) {
      throw new ForgeError('FO_WASI_PREOPEN_NOT_DIRECTORY', `cannot preopen ${path} as ${guest}: expected a directory, found a file`, { details: { host: path, guest } });
    }
    throw fromFsError(error, `preopen ${guest}`, path);
  }
  try {
    if (!fstatSync(hostFd).isDirectory()) {
      throw new ForgeError('FO_WASI_PREOPEN_NOT_DIRECTORY', `cannot preopen ${path} as ${guest}: expected a directory`, { details: { host: path, guest } });
    }
    return { hostFd, root: directoryRoot(hostFd, procFdAvailable() ? path : realpathSync(path)) };
  } catch (error) {
    closeSync(hostFd);
    throw error;
  }
}
