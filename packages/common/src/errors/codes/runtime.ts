import type { ErrorSpec } from '../spec.js';

/** Codes for module analysis, instrumentation and compilation. */
export const RUNTIME_CODES = {
  FO_RUNTIME_MALFORMED_MODULE: {
    kind: 'invalid',
    summary:
      'The WebAssembly module is malformed; details.offset is the byte offset, details.expected and details.found say what was wrong.',
  },
  FO_RUNTIME_UNSUPPORTED_FEATURE: {
    kind: 'invalid',
    summary:
      'The module uses a WebAssembly feature ForgeOne does not instrument (exception handling, GC, function references, components); details.feature names it.',
  },
  FO_RUNTIME_MODULE_TOO_LARGE: {
    kind: 'limit',
    summary: 'The module is larger than the module size limit (maxModuleBytes).',
  },
  FO_RUNTIME_TOO_MANY_FUNCTIONS: {
    kind: 'limit',
    summary: 'The module defines or imports more functions than the limit (maxFunctions).',
  },
  FO_RUNTIME_FUNCTION_TOO_LARGE: {
    kind: 'limit',
    summary: 'A function body is larger than the limit (maxFunctionBodyBytes); details.function is its index.',
  },
  FO_RUNTIME_TOO_MANY_LOCALS: {
    kind: 'limit',
    summary: 'A function declares more locals than the limit (maxLocalsPerFunction); details.function is its index.',
  },
  FO_RUNTIME_IMPORT_DENIED: {
    kind: 'denied',
    summary: 'The module imports names that were not granted; details.denied lists every one.',
  },
  FO_RUNTIME_RESERVED_EXPORT: {
    kind: 'invalid',
    summary: 'The module already exports a name that instrumentation reserves (such as `__forge_fuel`).',
  },
  FO_RUNTIME_MEMORY_LIMIT: {
    kind: 'limit',
    summary:
      "A memory's minimum size is already above the memory limit, or above what the module's tables leave of it (details.tableBytes), or the tables alone pass it.",
  },
  FO_RUNTIME_TABLE_LIMIT: {
    kind: 'limit',
    summary: "A table's minimum size is already above the configured table element limit.",
  },
  FO_RUNTIME_TOO_MANY_TABLES: {
    kind: 'limit',
    summary: 'The module imports and defines more tables together than the limit (sandbox.max_tables); details.actual and details.limit say how many.',
  },
  FO_RUNTIME_TABLE_ELEMENTS_LIMIT: {
    kind: 'limit',
    summary:
      "The module's tables together, each counted at its maximum after clamping, hold more elements than the limit (sandbox.max_table_elements).",
  },
  FO_RUNTIME_SHARED_MEMORY_DENIED: {
    kind: 'denied',
    summary:
      "The module declares or imports a shared memory and its manifest does not grant permissions.threads; details.memory is the memory's index, details.imported says whether it is imported.",
  },
  FO_RUNTIME_ATOMIC_WAIT_DENIED: {
    kind: 'denied',
    summary:
      'The module uses memory.atomic.wait32 or wait64, which can block the thread running it, and its manifest does not grant permissions.threads; details.instruction, details.function and details.offset locate the first, details.count counts them.',
  },
  FO_RUNTIME_BAD_OPTION: {
    kind: 'usage',
    summary: 'An option given to the runtime (a limit, a fuel amount, a cache size) is out of range.',
  },
  FO_RUNTIME_NOT_INSTRUMENTED: {
    kind: 'usage',
    summary: 'The instance has no fuel counter export: its module was not instrumented with fuel.',
  },
  FO_RUNTIME_COMPILE_FAILED: {
    kind: 'invalid',
    summary: 'The WebAssembly engine refused to compile the module; the message carries its reason.',
  },
  FO_RUNTIME_TRAP: {
    kind: 'invalid',
    summary:
      "The guest trapped (unreachable, out-of-bounds access, division by zero, stack exhaustion); the message carries the engine's reason.",
  },
} as const satisfies Record<string, ErrorSpec>;
