import type { ErrorSpec } from '../spec.js';

/** Codes for the CLI, configuration, file I/O and internal failures. */
export const CORE_CODES = {
  FO_INTERNAL_UNEXPECTED: {
    kind: 'internal',
    summary: 'An unexpected internal failure; the message names what broke. Please report it.',
  },
  FO_CLI_UNKNOWN_COMMAND: {
    kind: 'usage',
    summary: 'The command line names a command that does not exist.',
  },
  FO_CLI_UNKNOWN_FLAG: {
    kind: 'usage',
    summary: 'The command line has a flag the command does not accept.',
  },
  FO_CLI_MISSING_ARGUMENT: {
    kind: 'usage',
    summary: 'A required positional argument or flag is missing.',
  },
  FO_CLI_EXTRA_ARGUMENT: {
    kind: 'usage',
    summary: 'The command line has more positional arguments than the command accepts.',
  },
  FO_CLI_ARGUMENT_VALUE: {
    kind: 'usage',
    summary: 'A positional argument has a malformed value (the message says what was expected).',
  },
  FO_CLI_FLAG_VALUE: {
    kind: 'usage',
    summary: 'A flag is missing its value, repeated when it may not be, or has a malformed value.',
  },
  FO_CLI_NOT_BUILT: {
    kind: 'unavailable',
    summary: 'The forge command was run before `npm run build` made the CLI it launches (packages/forge/dist).',
  },
  FO_IO_NOT_FOUND: {
    kind: 'not_found',
    summary: 'A file or directory does not exist.',
  },
  FO_IO_PERMISSION: {
    kind: 'permission',
    summary: 'The operating system refused access to a file or directory.',
  },
  FO_IO_EXISTS: {
    kind: 'conflict',
    summary: 'A file or directory that must not exist already exists.',
  },
  FO_IO_FAILED: {
    kind: 'unavailable',
    summary: 'A file system operation failed (I/O error, wrong file type); details.errno names the system error.',
  },
  FO_IO_NO_SPACE: {
    kind: 'unavailable',
    summary: 'The file system is full (ENOSPC) or the user is over its disk quota (EDQUOT); free space and try again. Store, key-value and audit writes that fail this way change nothing.',
  },
  FO_IO_READ_ONLY: {
    kind: 'permission',
    summary: 'The file system holding the file is mounted read-only (EROFS); reading still works, changes need it mounted read-write.',
  },
  FO_IDENTITY_INVALID: {
    kind: 'invalid',
    summary: 'An identity (host, user or plugin) has an empty, overlong or malformed field.',
  },
  FO_TELEMETRY_INVALID: {
    kind: 'invalid',
    summary: 'A telemetry event has a malformed name, a non-finite value or malformed labels.',
  },
  FO_CONFIG_NOT_FOUND: {
    kind: 'not_found',
    summary: 'No configuration file was found where one was named or expected.',
  },
  FO_CONFIG_SYNTAX: {
    kind: 'invalid',
    summary: 'The configuration file is not valid YAML (the message gives line and column).',
  },
  FO_CONFIG_INVALID: {
    kind: 'invalid',
    summary:
      'The configuration has unknown keys or bad values; details.issues lists every one with its key path.',
  },
  FO_CONFIG_NO_STATE_DIRECTORY: {
    kind: 'invalid',
    summary: 'A default path is needed for a user other than root, but neither XDG_STATE_HOME nor HOME is an absolute path.',
  },
  FO_CONFIG_TOO_LARGE: {
    kind: 'limit',
    summary: 'The configuration file is larger than the 1 MiB the loader accepts.',
  },
  FO_LIMIT_INVALID: {
    kind: 'usage',
    summary:
      'A limit given to a component as an option (a size, a count, a ratio) is malformed: not a safe integer within its range, or not a positive number; details.problems lists every one.',
  },
} as const satisfies Record<string, ErrorSpec>;
