/**
 * WebAssembly module analysis, instrumentation (fuel, memory and table caps) and the
 * compile cache. See docs/runtime.md.
 */
export { analyzeModule, type AtomicWaitSite, type ExportInfo, type FunctionSignature, type GlobalInfo, type ImportInfo, type MemoryInfo, type ModuleInfo, type TableInfo, type ValueTypeName } from './analyze.js';
export {
  DEFAULT_MAX_TABLES,
  DEFAULT_MAX_TABLE_ELEMENTS,
  DEFAULT_MAX_TOTAL_TABLE_ELEMENTS,
  PAGE_BYTES as WASM_PAGE_BYTES,
  TABLE_ELEMENT_BYTES,
} from './caps.js';
export { CompileCache, type CompileCacheOptions, type CompileCacheStats } from './compile-cache.js';
export { decodeModule, type DecodeOptions, type DecodeResult } from './decode.js';
export { encodeModule } from './encode.js';
export type { CompiledModule } from './engine.js';
export { FuelMeter, classifyTrap, isFuelExhausted, type MeteredResult } from './fuel-meter.js';
export { checkImports, type CheckImportsOptions, type DeniedImport, type ImportPredicate } from './imports.js';
export { FUEL_EXPORT, RESERVED_EXPORTS, instrumentModule, type InstrumentOptions, type InstrumentResult } from './instrument.js';
export { DEFAULT_MODULE_LIMITS, type ModuleLimits } from './limits.js';
export type { DecodedModule, ExternKind } from './model.js';
export { decodeNameSection, type NameSection } from './names.js';
export { MAY_BLOCK_SECTION, checkThreads, threadBlockingReason } from './threads.js';
