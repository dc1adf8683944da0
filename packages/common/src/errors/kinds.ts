/**
 * Error kinds: the coarse classes that decide how a failure is reported.
 *
 * Every error code in the catalog has exactly one kind. The CLI turns a kind into a
 * process exit status and the daemon into an HTTP status, so callers can react to
 * the class of failure without knowing every code. `denied` is ForgeOne's policy
 * saying no; `permission` is the operating system saying no (file modes, owners), which
 * a user fixes in a different place.
 */
export const ERROR_KINDS = [
  'usage',
  'invalid',
  'denied',
  'integrity',
  'not_found',
  'conflict',
  'limit',
  'unavailable',
  'unauthenticated',
  'permission',
  'internal',
] as const;

/** One of {@link ERROR_KINDS}. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** What each kind means, for documentation and `--help` output. */
export const ERROR_KIND_MEANING: Readonly<Record<ErrorKind, string>> = {
  usage: 'the command line or API call was malformed',
  invalid: 'an input (file, manifest, package, argument) is well formed but breaks a rule',
  denied: 'policy refused the operation; the input itself may be fine',
  permission: 'the operating system refused access to a file or directory (EACCES, EPERM): check its owner and mode, or choose another path',
  integrity: 'bytes are corrupt, truncated or do not match what was signed or promised',
  not_found: 'a named thing (file, plugin, key) does not exist',
  conflict: 'the operation clashes with current state (already exists, wrong state)',
  limit: 'a configured or built-in limit was reached',
  unavailable: 'a resource or service could not be reached or used right now',
  unauthenticated: 'the caller did not prove who it is',
  internal: 'a bug in ForgeOne; please report it',
};

/** Process exit status per kind, used by the `forge` CLI. 0 means success. */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  internal: 1,
  usage: 2,
  invalid: 3,
  denied: 4,
  integrity: 5,
  not_found: 6,
  conflict: 7,
  limit: 8,
  unavailable: 9,
  unauthenticated: 10,
  permission: 11,
};

/** HTTP status per kind, used by the daemon's API. */
export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  usage: 400,
  invalid: 422,
  denied: 403,
  integrity: 422,
  not_found: 404,
  conflict: 409,
  limit: 429,
  unavailable: 503,
  unauthenticated: 401,
  // The host could not use its own files: the operator's to fix, not the client's, so a
  // server error rather than 403 (which would tell the client it lacks a right).
  permission: 500,
  internal: 500,
};
