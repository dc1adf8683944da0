import { ForgeError } from './forge-error.js';

/** A Node.js system error (`fs`, `net`), which carries an errno `code`. */
export interface NodeSystemError extends Error {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
}

/** True when `error` is a Node.js system error, optionally with the given errno code. */
export function isNodeSystemError(error: unknown, code?: string): error is NodeSystemError {
  return (
    error instanceof Error &&
    typeof (error as Partial<NodeSystemError>).code === 'string' &&
    (code === undefined || (error as NodeSystemError).code === code)
  );
}

/**
 * Turns a file-system failure into a ForgeError that names the file and what was
 * being done: ENOENT -> FO_IO_NOT_FOUND, EACCES/EPERM -> FO_IO_PERMISSION (kind
 * `permission`, never the policy kind `denied`), EEXIST -> FO_IO_EXISTS, ENOSPC/EDQUOT ->
 * FO_IO_NO_SPACE, EROFS -> FO_IO_READ_ONLY, anything else -> FO_IO_FAILED. A ForgeError
 * passes through.
 *
 * @param action what was being attempted, e.g. "read the package"
 */
export function fromFsError(error: unknown, action: string, path: string): ForgeError {
  if (error instanceof ForgeError) return error;
  const errno = isNodeSystemError(error) ? error.code : 'UNKNOWN';
  const details = { path, errno };
  const reason = error instanceof Error ? error.message : String(error);
  switch (errno) {
    case 'ENOENT':
      return new ForgeError('FO_IO_NOT_FOUND', `cannot ${action}: ${path} does not exist`, { details, cause: error });
    case 'EACCES':
    case 'EPERM':
      return new ForgeError('FO_IO_PERMISSION', `cannot ${action}: permission denied on ${path}`, { details, cause: error });
    case 'EEXIST':
      return new ForgeError('FO_IO_EXISTS', `cannot ${action}: ${path} already exists`, { details, cause: error });
    case 'ENOSPC':
    case 'EDQUOT':
      // A full disk is the operator's to fix; naming it saves them reading the errno.
      return new ForgeError('FO_IO_NO_SPACE', `cannot ${action}: no space left on the file system holding ${path} (${errno})`, { details, cause: error });
    case 'EROFS':
      return new ForgeError('FO_IO_READ_ONLY', `cannot ${action}: ${path} is on a read-only file system`, { details, cause: error });
    default:
      return new ForgeError('FO_IO_FAILED', `cannot ${action} (${path}): ${reason}`, { details, cause: error });
  }
}
