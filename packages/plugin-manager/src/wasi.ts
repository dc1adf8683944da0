/**
 * @forgeone/plugin-manager/wasi: ForgeOne's own WASI preview1, for running a command
 * module the way `forge wasi run` does (docs/wasi.md): the runner and its options, the
 * guest's stdio, the result, and the two module preparations `--fuel` and
 * `--max-memory` use, with the fuel a host call costs.
 */
export { HOST_CALL_FUEL } from './abi/index.js';
export { runWasiCommand, type WasiRunOptions, type WasmImports, type WasmInstance, type WasmModule } from './runtime/index.js';
export { WASI_DEFAULT_MAX_OPEN_FILES, wasiLimitsFromConfig, type WasiOptions, type WasiPreopen } from './runtime/index.js';
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
} from './runtime/index.js';
export { TRAP_EXIT_CODE, type WasiRunResult, type WasiTrap } from './runtime/index.js';
export { FUEL_EXPORT, instrumentModule, isFuelExhausted, type InstrumentOptions, type InstrumentResult, type ModuleLimits } from './runtime/index.js';
