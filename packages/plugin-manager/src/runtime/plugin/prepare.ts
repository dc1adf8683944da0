import type { Permissions } from '../../plugin/index.js';
import {
  CompileCache,
  DEFAULT_MAX_TABLES,
  DEFAULT_MAX_TABLE_ELEMENTS,
  DEFAULT_MAX_TOTAL_TABLE_ELEMENTS,
  analyzeModule,
  checkImports,
  checkThreads,
  instrumentModule,
  type CompiledModule,
  type ModuleInfo,
  type ModuleLimits,
} from '../wasm/index.js';
import { importPolicy } from './import-policy.js';

/** How to prepare a plugin's module. */
export interface PrepareOptions {
  /** The plugin's signed permissions: they decide which imports are allowed. */
  readonly permissions: Permissions;
  /** Inject fuel metering (default true). */
  readonly fuel?: boolean;
  /**
   * The plugin's memory budget, in bytes (the manifest's limits.memory, capped by
   * sandbox.memory_limit): its tables' elements are charged first (TABLE_ELEMENT_BYTES
   * each, at their clamped maxima) and linear memory is capped to what remains.
   */
  readonly maxMemoryBytes: number;
  /** Cap on each table's size, in elements (default DEFAULT_MAX_TABLE_ELEMENTS, 100,000). */
  readonly maxTableElements?: number;
  /** Most tables, imported and defined (sandbox.max_tables; default DEFAULT_MAX_TABLES, 100). */
  readonly maxTables?: number;
  /**
   * Most elements of all tables together, each at its clamped maximum
   * (sandbox.max_table_elements; default DEFAULT_MAX_TOTAL_TABLE_ELEMENTS, 1,000,000).
   */
  readonly maxTotalTableElements?: number;
  /** Decoding limits (default DEFAULT_MODULE_LIMITS). */
  readonly limits?: Partial<ModuleLimits>;
}

/** A module ready to instantiate: analysed, checked, instrumented and compiled (once per digest). */
export interface PreparedModule {
  readonly module: CompiledModule;
  readonly info: ModuleInfo;
  /** The fuel counter's export name, when metered. */
  readonly fuelExport: string | undefined;
  /** The instrumented bytes `module` was compiled from (what a sandbox process compiles). */
  readonly bytes: Uint8Array;
  /** sha256 hex of the instrumented bytes: the compile cache key. */
  readonly digest: string;
}


/**
 * Turns a plugin's module bytes into a compiled module under its limits:
 * analyse (refusing oversize modules) -> refuse shared memories and atomic waits unless
 * permissions.threads grants them -> check imports against the permissions ->
 * instrument (fuel, table caps, the memory budget less the tables) -> compile, through `cache`, so every
 * instance of the same plugin and limits shares one compiled module.
 *
 * @throws ForgeError FO_RUNTIME_* (malformed, unsupported, oversize, import denied,
 *   memory or table over the cap, too many tables or table elements, compile failed,
 *   all before compiling but the last); FO_RUNTIME_SHARED_MEMORY_DENIED and
 *   FO_RUNTIME_ATOMIC_WAIT_DENIED without permissions.threads
 */
export async function prepareModule(bytes: Uint8Array, options: PrepareOptions, cache: CompileCache): Promise<PreparedModule> {
  const info = analyzeModule(bytes, options.limits);
  checkThreads(info, options.permissions.threads === true);
  checkImports(info, importPolicy(options.permissions));
  const instrumented = instrumentModule(bytes, {
    fuel: options.fuel ?? true,
    memoryBudgetBytes: options.maxMemoryBytes,
    maxTableElements: options.maxTableElements ?? DEFAULT_MAX_TABLE_ELEMENTS,
    maxTables: options.maxTables ?? DEFAULT_MAX_TABLES,
    maxTotalTableElements: options.maxTotalTableElements ?? DEFAULT_MAX_TOTAL_TABLE_ELEMENTS,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  const module = await cache.compile(instrumented.bytes);
  return { module, info, fuelExport: instrumented.fuelExport, bytes: instrumented.bytes, digest: CompileCache.digest(instrumented.bytes) };
}
