import type { ErrorSpec } from '../spec.js';

/** Codes for the forge/1 call ABI and forge.* host functions. */
export const ABI_CODES = {
  FO_ABI_MISSING_EXPORT: {
    kind: 'invalid',
    summary:
      'The module lacks an export forge/1 requires (memory, forge_alloc, forge_free) or one the manifest names as an entry point; details.problems lists every one.',
  },
  FO_ABI_NO_SUCH_EXPORT: {
    kind: 'not_found',
    summary: 'The caller asked for a function the plugin does not export.',
  },
  FO_ABI_BAD_SIGNATURE: {
    kind: 'invalid',
    summary:
      'An export or a forge.* import has the wrong kind, parameter count or result type for forge/1 (see docs/reference/abi.md).',
  },
  FO_ABI_UNRESOLVED_IMPORT: {
    kind: 'not_found',
    summary: 'The module imports a forge.* function the host does not define, or a module the host was given no imports for.',
  },
  FO_ABI_INPUT_TOO_LARGE: {
    kind: 'limit',
    summary: 'A call input, or a forge.* request from the guest, is larger than its configured limit.',
  },
  FO_ABI_OUTPUT_TOO_LARGE: {
    kind: 'limit',
    summary: 'The plugin returned an output or error payload larger than the configured limit.',
  },
  FO_ABI_GUEST_OUT_OF_MEMORY: {
    kind: 'limit',
    summary: "The plugin's forge_alloc returned 0: it could not allocate the bytes the host had to pass in.",
  },
  FO_ABI_BAD_ALLOC: {
    kind: 'invalid',
    summary: "The plugin's forge_alloc returned a region that does not fit in its memory.",
  },
  FO_ABI_BAD_POINTER: {
    kind: 'invalid',
    summary: 'A pointer and length from the plugin name bytes outside its memory.',
  },
  FO_ABI_BAD_ERROR_PAYLOAD: {
    kind: 'invalid',
    summary: 'The plugin flagged an error but its payload is not a well-formed code, a newline and a UTF-8 message.',
  },
  FO_ABI_GUEST_ERROR: {
    kind: 'invalid',
    summary: "The plugin returned an error payload; details.guestCode and details.guestMessage carry the plugin's own code and message.",
  },
  FO_ABI_GUEST_TRAP: {
    kind: 'unavailable',
    summary: 'The plugin trapped (unreachable, out-of-bounds access, stack overflow); the instance is poisoned.',
  },
  FO_ABI_INSTANCE_POISONED: {
    kind: 'conflict',
    summary: 'The instance trapped or broke the ABI in an earlier call and takes no more calls; details.fault says how.',
  },
  FO_ABI_REENTRANT_CALL: {
    kind: 'conflict',
    summary: 'A call entered a plugin that was already running one, or its forge_alloc/forge_free called back into the host.',
  },
  FO_ABI_LIFECYCLE_FAILED: {
    kind: 'unavailable',
    summary: 'A lifecycle export (init, start, stop, pause, resume, unload) returned a non-zero status.',
  },
  FO_ABI_HOST_DENIED: {
    kind: 'denied',
    summary: 'Host policy denied a forge.* call; the guest receives this code in an error payload.',
  },
  FO_ABI_BAD_REQUEST: {
    kind: 'invalid',
    summary: 'A forge.* request from the guest is malformed (for forge.log: empty, or an unknown level byte).',
  },
  FO_ABI_HOST_CALL_IN_START: {
    kind: 'invalid',
    summary: "The module's start function called a forge.* function, before the host could bind its memory and allocator.",
  },
  FO_ABI_HOST_FUNCTION_DEFINITION: {
    kind: 'usage',
    summary:
      'A host function definition is malformed or repeats a name, or the imports given beside the registry already hold a forge module.',
  },
} as const satisfies Record<string, ErrorSpec>;
