import type { ErrorSpec } from '../spec.js';

/** Codes for our WASI preview1 implementation and forge wasi run. */
export const WASI_CODES = {
  FO_WASI_INVALID_OPTIONS: {
    kind: 'invalid',
    summary:
      'WASI options are malformed (NUL in an argument or variable, an empty or `=`-holding variable name, an empty preopen name, an open-file limit outside 3..65536); details.problems lists each.',
  },
  FO_WASI_PREOPEN_NOT_FOUND: {
    kind: 'not_found',
    summary: 'A host directory to preopen for the guest does not exist.',
  },
  FO_WASI_PREOPEN_NOT_DIRECTORY: {
    kind: 'invalid',
    summary: 'A host path to preopen for the guest exists but is not a directory.',
  },
  FO_WASI_TOO_MANY_FILES: {
    kind: 'limit',
    summary: 'The standard streams and preopened directories alone need more descriptors than the open-file limit (sandbox.file_descriptor_limit).',
  },
  FO_WASI_MODULE_INVALID: {
    kind: 'invalid',
    summary: 'The bytes to run are not a valid WebAssembly module.',
  },
  FO_WASI_UNRESOLVED_IMPORT: {
    kind: 'invalid',
    summary:
      'The module imports something neither WASI preview1 nor the host provides, or with the wrong type; details.imports lists what is missing.',
  },
  FO_WASI_NOT_A_COMMAND: {
    kind: 'invalid',
    summary: 'The module does not export a `_start` function, so it cannot be run as a WASI command.',
  },
  FO_WASI_NO_MEMORY: {
    kind: 'invalid',
    summary: 'The module does not export its linear memory as `memory`, or made a WASI call before its memory was bound.',
  },
  FO_WASI_ALREADY_BOUND: {
    kind: 'conflict',
    summary: 'A WASI context was bound to a second instance or started twice; each context serves one instance once.',
  },
  FO_WASI_CALL_DENIED: {
    kind: 'denied',
    summary: 'The host-call gate refused proc_exit, which has no errno to return, so the guest was stopped instead.',
  },
} as const satisfies Record<string, ErrorSpec>;
