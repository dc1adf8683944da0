import type { ErrorSpec } from '../spec.js';

/** Codes for the syscall bridge and the forge.* host calls. */
export const SYSCALL_CODES = {
  FO_SYSCALL_INVALID_NAME: {
    kind: 'invalid',
    summary: 'A host call being registered is not named forge.<lower_case_name>.',
  },
  FO_SYSCALL_UNKNOWN: {
    kind: 'not_found',
    summary: 'No host call with that name is registered with the syscall bridge.',
  },
  FO_SYSCALL_ASYNC_HANDLER: {
    kind: 'internal',
    summary: 'A host call a plugin made returned a promise; host calls plugins make must answer synchronously.',
  },
  FO_SYSCALL_INVALID_ARGS: {
    kind: 'invalid',
    summary: 'A host call got arguments its schema refuses; details.issues lists every problem.',
  },
  FO_SYSCALL_INVALID_OPTIONS: {
    kind: 'invalid',
    summary:
      'The options given to createForgeHostFunctions are malformed (a limit out of range, a wildcard among the explicit private hosts, a volume path that is not canonical); details.problems lists each.',
  },
  FO_SYSCALL_NOT_CONFIGURED: {
    kind: 'unavailable',
    summary: 'The host offers this forge.* call but was not configured for it (no key-value directory, no I/O bridge, no event sink).',
  },
  FO_SYSCALL_RATE_LIMITED: {
    kind: 'limit',
    summary: "A plugin called a rate-limited forge.* function (log, emit_event) faster than its token bucket allows; the call did nothing and details.retryAfterMs says when a token is back.",
  },
  FO_SYSCALL_PAYLOAD_TOO_LARGE: {
    kind: 'limit',
    summary: 'A field of a forge.* request (event payload, HTTP request body, random byte count) is larger than its limit; details.limit and details.actual give both sizes.',
  },
  FO_SYSCALL_CONFIG_NOT_FOUND: {
    kind: 'not_found',
    summary: 'forge.config_get asked for a key the operator did not configure for this plugin.',
  },
  FO_SYSCALL_KV_BAD_KEY: {
    kind: 'invalid',
    summary: 'A key-value key is empty, not well-formed UTF-8, or holds a control character.',
  },
  FO_SYSCALL_KV_KEY_TOO_LARGE: {
    kind: 'limit',
    summary: 'A key-value key is longer than the per-key limit (default 512 bytes).',
  },
  FO_SYSCALL_KV_VALUE_TOO_LARGE: {
    kind: 'limit',
    summary: 'A key-value value is larger than the per-value limit (default 1 MiB).',
  },
  FO_SYSCALL_KV_QUOTA_EXCEEDED: {
    kind: 'limit',
    summary: "Storing the value would take the plugin's key-value store past its total quota (keys plus values, default 64 MiB); nothing was written.",
  },
  FO_SYSCALL_KV_NOT_FOUND: {
    kind: 'not_found',
    summary: "forge.kv_get asked for a key that is not in the plugin's store.",
  },
  FO_SYSCALL_KV_UNAVAILABLE: {
    kind: 'unavailable',
    summary: "The plugin's key-value store could not be opened or used (locked, corrupt, an I/O error; a full disk is FO_SYSCALL_KV_NO_SPACE); the host log has the SQLite error.",
  },
  FO_SYSCALL_KV_NO_SPACE: {
    kind: 'unavailable',
    summary: "The file system holding the plugin's key-value store is full (SQLITE_FULL, ENOSPC); the write changed nothing and every earlier write is kept.",
  },
  FO_SYSCALL_HTTP_BAD_URL: {
    kind: 'invalid',
    summary: 'An HTTP request or redirect names a URL that is not absolute http(s) without credentials, or a redirect downgrades https to http.',
  },
  FO_SYSCALL_HTTP_BAD_REQUEST: {
    kind: 'invalid',
    summary: 'An HTTP request uses a method or header the host does not send for plugins (CONNECT, Host, Transfer-Encoding, a malformed name or value).',
  },
  FO_SYSCALL_HTTP_PRIVATE_ADDRESS: {
    kind: 'denied',
    summary:
      'An HTTP request (or one of its redirects) would connect to a loopback, private, link-local, unspecified or otherwise non-public address that the operator did not grant by exact host.',
  },
  FO_SYSCALL_HTTP_REDIRECT_DENIED: {
    kind: 'denied',
    summary: "An HTTP redirect points to a host the plugin's policy does not allow; the redirect was not followed.",
  },
  FO_SYSCALL_HTTP_TOO_MANY_REDIRECTS: {
    kind: 'limit',
    summary: 'An HTTP request was redirected more times than the limit (default 5).',
  },
  FO_SYSCALL_HTTP_TIMEOUT: {
    kind: 'unavailable',
    summary: 'An HTTP request (name resolution, connection, every redirect and the whole response) did not complete within its timeout.',
  },
  FO_SYSCALL_HTTP_RESPONSE_TOO_LARGE: {
    kind: 'limit',
    summary: 'An HTTP response body or header block is larger than its limit (default 4 MiB of body); the connection was closed.',
  },
  FO_SYSCALL_HTTP_FAILED: {
    kind: 'unavailable',
    summary: 'An HTTP request failed: the name did not resolve, the connection was refused or reset, or TLS failed; details.reason has the cause.',
  },
  FO_SYSCALL_FILE_BAD_PATH: {
    kind: 'invalid',
    summary: 'A file path is not a canonical absolute guest path (empty, relative, `.` or `..` components, `//`, a trailing `/`, NUL) or resolves through too many symbolic links.',
  },
  FO_SYSCALL_FILE_NO_VOLUME: {
    kind: 'denied',
    summary: 'A file path lies in no volume the operator mapped for this plugin.',
  },
  FO_SYSCALL_FILE_ESCAPE: {
    kind: 'denied',
    summary: 'A file path leaves its volume through a symbolic link (absolute, or climbing above the volume root).',
  },
  FO_SYSCALL_FILE_READ_ONLY: {
    kind: 'denied',
    summary: 'forge.file_write targets a volume mapped read-only.',
  },
  FO_SYSCALL_FILE_NOT_FOUND: {
    kind: 'not_found',
    summary: 'The file, or a directory on its path, does not exist in the volume.',
  },
  FO_SYSCALL_FILE_NOT_REGULAR: {
    kind: 'invalid',
    summary: 'The path names a directory, a device, a FIFO or (for writes) a symbolic link; forge.file_read and file_write handle regular files only.',
  },
  FO_SYSCALL_FILE_EXISTS: {
    kind: 'conflict',
    summary: 'forge.file_write in create mode found the file already there.',
  },
  FO_SYSCALL_FILE_TOO_LARGE: {
    kind: 'limit',
    summary: 'A file to read, or data to write, is larger than the limit (default 16 MiB).',
  },
  FO_SYSCALL_FILE_FAILED: {
    kind: 'unavailable',
    summary: 'The host file system refused or failed a file operation (permission, disk full, I/O error); details.errno has the cause.',
  },
  FO_SYSCALL_VOLUME_UNAVAILABLE: {
    kind: 'unavailable',
    summary: 'The host directory mapped to a volume does not exist or is not a directory.',
  },
  FO_SYSCALL_EVENT_BAD_NAME: {
    kind: 'invalid',
    summary: 'An event name is not 1-128 of a-z 0-9 . _ - starting with a letter or digit.',
  },
  FO_SYSCALL_BRIDGE_TIMEOUT: {
    kind: 'unavailable',
    summary: 'The I/O worker behind a synchronous host call did not answer in time; the worker was replaced.',
  },
  FO_SYSCALL_BRIDGE_CLOSED: {
    kind: 'unavailable',
    summary: 'A synchronous host call was made through an I/O bridge that is closed (the host is shutting down).',
  },
} as const satisfies Record<string, ErrorSpec>;
