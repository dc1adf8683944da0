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
  const key = rememberKey(bytes, options);
  let done = key === undefined ? undefined : recall(cache, key);
  if (done === undefined) {
    done = instrumented(bytes, options);
    if (key !== undefined) remember(cache, key, done);
  }
  // A copy for each load, so no caller can change what a later load of the same module gets.
  const bytesNow = new Uint8Array(done.bytes);
  const module = await cache.compile(bytesNow);
  return { module, ...done, bytes: bytesNow };
}

/** What analysing, checking and instrumenting made of one module under one set of options. */
type Instrumented = Omit<PreparedModule, 'module'>;

function instrumented(bytes: Uint8Array, options: PrepareOptions): Instrumented {
  const info = analyzeModule(bytes, options.limits);
  checkThreads(info, options.permissions.threads === true);
  checkImports(info, importPolicy(options.permissions));
  const result = instrumentModule(bytes, {
    fuel: options.fuel ?? true,
    memoryBudgetBytes: options.maxMemoryBytes,
    maxTableElements: options.maxTableElements ?? DEFAULT_MAX_TABLE_ELEMENTS,
    maxTables: options.maxTables ?? DEFAULT_MAX_TABLES,
    maxTotalTableElements: options.maxTotalTableElements ?? DEFAULT_MAX_TOTAL_TABLE_ELEMENTS,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  return Object.freeze({ info, fuelExport: result.fuelExport, bytes: result.bytes, digest: CompileCache.digest(result.bytes) });
}

/**
 * Loading the same plugin again (a restart, a reload, another instance) skips the
 * analysis and instrumentation (1-2 ms for a small module): their outcome is remembered
 * per compile cache, keyed by the sha256 of the module's bytes and every option that
 * decides it (the permissions whole: they decide which imports pass). A refusal is never
 * remembered, so it is decided again each time.
 */
const REMEMBERED = 64;
const rememberedBy = new WeakMap<CompileCache, Map<string, Instrumented>>();

/** The key of `bytes` under `options`, or undefined when the options cannot be written as JSON. */
function rememberKey(bytes: Uint8Array, options: PrepareOptions): string | undefined {
  let decisive: string;
  try {
    decisive = JSON.stringify([options.fuel ?? true, options.maxMemoryBytes, options.maxTableElements ?? null, options.maxTables ?? null, options.maxTotalTableElements ?? null, options.limits ?? null, options.permissions]);
  } catch {
    return undefined;
  }
  return `${CompileCache.digest(bytes)} ${decisive}`;
}

function recall(cache: CompileCache, key: string): Instrumented | undefined {
  const entries = rememberedBy.get(cache);
  const found = entries?.get(key);
  if (entries === undefined || found === undefined) return undefined;
  entries.delete(key);
  entries.set(key, found);
  return found;
}

function remember(cache: CompileCache, key: string, done: Instrumented): void {
  let entries = rememberedBy.get(cache);
  if (entries === undefined) rememberedBy.set(cache, (entries = new Map<string, Instrumented>()));
  entries.set(key, done);
  for (const oldest of entries.keys()) {
    if (entries.size <= REMEMBERED) break;
    entries.delete(oldest);
  }
}
