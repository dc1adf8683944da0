/**
 * Our own WASI preview1 (`wasi_snapshot_preview1`): a memory-agnostic core (descriptor
 * table with rights, preopens, path resolution that never leaves a preopen, clocks,
 * random, poll, the open-file limit) under a thin marshalling adapter, with every call
 * passing the host-call gate. docs/wasi.md is the user's guide.
 */
export {
  ALL_RIGHTS as WASI_ALL_RIGHTS,
  ERRNO as WASI_ERRNO,
  FILETYPE as WASI_FILETYPE,
  RIGHTS as WASI_RIGHTS,
  WASI_MODULE,
  WASI_P1_FUNCTIONS,
  errnoName as wasiErrnoName,
  type WasiFunctionName,
} from './abi.js';
export { MAX_SYMLINK_HOPS as WASI_MAX_SYMLINK_HOPS } from './resolve.js';
export { DEFAULT_MAX_OPEN_FILES as WASI_DEFAULT_MAX_OPEN_FILES, wasiLimitsFromConfig, type WasiOptions, type WasiPreopen } from './options.js';
export {
  DISCARD_OUTPUT,
  EMPTY_INPUT,
  bytesInput,
  collectOutput,
  hostFdInput,
  hostFdOutput,
  lineOutput,
  type CollectedOutput,
  type FlushableOutput,
  type StdioFiletype,
  type WasiInput,
  type WasiOutput,
} from './stdio.js';
export { TRAP_EXIT_CODE, WasiExit, outcomeOf as wasiOutcomeOf, type WasiRunResult, type WasiTrap } from './outcome.js';
export { WasiPreview1 } from './wasi.js';
export type { WasmImports, WasmInstance, WasmModule } from './engine.js';
export { runWasiCommand, type WasiRunOptions } from './run.js';
