/**
 * Which rights each kind of file descriptor can carry, and what a read-only preopen
 * withholds. Rights only ever narrow: a descriptor opened through a directory gets at
 * most that directory's inheriting rights, so nothing below a read-only preopen can
 * ever hold a right to change anything.
 */
import { RIGHTS as R } from './abi.js';

/** Rights that make sense on a regular file. */
export const FILE_RIGHTS =
  R.FD_DATASYNC |
  R.FD_READ |
  R.FD_SEEK |
  R.FD_FDSTAT_SET_FLAGS |
  R.FD_SYNC |
  R.FD_TELL |
  R.FD_WRITE |
  R.FD_ADVISE |
  R.FD_ALLOCATE |
  R.FD_FILESTAT_GET |
  R.FD_FILESTAT_SET_SIZE |
  R.FD_FILESTAT_SET_TIMES |
  R.POLL_FD_READWRITE;

/** Rights that make sense on a directory (no reading, writing or seeking its bytes). */
export const DIRECTORY_RIGHTS =
  R.FD_DATASYNC |
  R.FD_FDSTAT_SET_FLAGS |
  R.FD_SYNC |
  R.PATH_CREATE_DIRECTORY |
  R.PATH_CREATE_FILE |
  R.PATH_LINK_SOURCE |
  R.PATH_LINK_TARGET |
  R.PATH_OPEN |
  R.FD_READDIR |
  R.PATH_READLINK |
  R.PATH_RENAME_SOURCE |
  R.PATH_RENAME_TARGET |
  R.PATH_FILESTAT_GET |
  R.PATH_FILESTAT_SET_SIZE |
  R.PATH_FILESTAT_SET_TIMES |
  R.FD_FILESTAT_GET |
  R.FD_FILESTAT_SET_TIMES |
  R.PATH_SYMLINK |
  R.PATH_REMOVE_DIRECTORY |
  R.PATH_UNLINK_FILE;

/** What a directory can pass on to what is opened through it. */
export const DIRECTORY_INHERITING_RIGHTS = DIRECTORY_RIGHTS | FILE_RIGHTS;

/**
 * Every right that changes the file system or a file (syncing changes nothing, so
 * fd_sync and fd_datasync stay). A read-only preopen is created
 * without any of these, base or inheriting, so no descriptor derived from it has one.
 * Link and rename sources are included: linking or moving a file out of a read-only
 * tree into a writable one would let the guest change it there.
 */
export const WRITE_RIGHTS =
  R.FD_WRITE |
  R.FD_ALLOCATE |
  R.FD_FILESTAT_SET_SIZE |
  R.FD_FILESTAT_SET_TIMES |
  R.PATH_CREATE_DIRECTORY |
  R.PATH_CREATE_FILE |
  R.PATH_LINK_SOURCE |
  R.PATH_LINK_TARGET |
  R.PATH_RENAME_SOURCE |
  R.PATH_RENAME_TARGET |
  R.PATH_FILESTAT_SET_SIZE |
  R.PATH_FILESTAT_SET_TIMES |
  R.PATH_SYMLINK |
  R.PATH_REMOVE_DIRECTORY |
  R.PATH_UNLINK_FILE;

/** Rights that need the host file opened for writing. */
export const WRITE_MODE_RIGHTS = R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE;

/** Rights that need the host file opened for reading. */
export const READ_MODE_RIGHTS = R.FD_READ | R.FD_READDIR;

/** stdin: read, poll, and look at it. No seeking: isatty() stays meaningful. */
export const STDIN_RIGHTS = R.FD_READ | R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE;

/** stdout and stderr. */
export const STDOUT_RIGHTS = R.FD_WRITE | R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE;

/** True when `held` includes every right in `needed`. */
export function hasRights(held: number, needed: number): boolean {
  return (held & needed) === needed;
}
