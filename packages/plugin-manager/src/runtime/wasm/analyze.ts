import { decodeModule } from './decode.js';
import { WaitCollector } from './threads.js';
import type { ModuleLimits } from './limits.js';
import { SectionId, VALTYPE_NAMES, importCounts, type DecodedModule, type ExternKind, type FuncType, type Limits, type ValType } from './model.js';
import { decodeNameSection } from './names.js';
import { FEATURE_NAMES } from './opcodes.js';

/** A value type by its text-format name. */
export type ValueTypeName = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';

/** A function signature. */
export interface FunctionSignature {
  readonly params: readonly ValueTypeName[];
  readonly results: readonly ValueTypeName[];
}

/** A memory: sizes in 64 KiB pages. */
export interface MemoryInfo {
  readonly imported: boolean;
  readonly minPages: number;
  /** Absent when the memory may grow to the engine's limit. */
  readonly maxPages?: number;
  readonly shared: boolean;
  readonly memory64: boolean;
}

/** A table: sizes in elements. */
export interface TableInfo {
  readonly imported: boolean;
  readonly elementType: 'funcref' | 'externref';
  readonly min: number;
  readonly max?: number;
  readonly table64: boolean;
}

/** Where an atomic wait is: its instruction, the function (by index, imports first) and the byte offset in the module. */
export interface AtomicWaitSite {
  readonly instruction: 'memory.atomic.wait32' | 'memory.atomic.wait64';
  readonly function: number;
  readonly offset: number;
}

/** A global's type. */
export interface GlobalInfo {
  readonly imported: boolean;
  readonly type: ValueTypeName;
  readonly mutable: boolean;
}

/** An import, with the type the module expects for it. */
export type ImportInfo = { readonly module: string; readonly name: string } & (
  | { readonly kind: 'function'; readonly signature: FunctionSignature }
  | { readonly kind: 'table'; readonly table: TableInfo }
  | { readonly kind: 'memory'; readonly memory: MemoryInfo }
  | { readonly kind: 'global'; readonly global: GlobalInfo }
);

/** An export; `signature` is set for functions. */
export interface ExportInfo {
  readonly name: string;
  readonly kind: ExternKind;
  readonly index: number;
  readonly signature?: FunctionSignature;
}

/** What a module declares and how big it is, found without compiling or instantiating it. */
export interface ModuleInfo {
  /** Module size in bytes. */
  readonly size: number;
  readonly imports: readonly ImportInfo[];
  readonly exports: readonly ExportInfo[];
  /** Every memory in index order: imported ones first. */
  readonly memories: readonly MemoryInfo[];
  /** Every table in index order: imported ones first. */
  readonly tables: readonly TableInfo[];
  /** Every global in index order: imported ones first. */
  readonly globals: readonly GlobalInfo[];
  /** Index of the start function, when the module has one. */
  readonly startFunction?: number;
  /** Custom sections in order, with the size of their contents in bytes. */
  readonly customSections: readonly { readonly name: string; readonly size: number }[];
  /** Functions the module defines (not counting imported ones). */
  readonly functionCount: number;
  readonly importedFunctionCount: number;
  /** Size in bytes of the largest function body (locals included), 0 without functions. */
  readonly largestBodyBytes: number;
  /** Most locals one function declares (parameters excluded). */
  readonly mostLocals: number;
  /** Post-MVP features the module uses, e.g. `simd`, `bulk-memory`, `tail-calls`. */
  readonly features: readonly string[];
  /**
   * The module's memory.atomic.wait32 and wait64 instructions, which can block the
   * thread running them when their memory is shared: how many, and the first.
   */
  readonly atomicWaits: { readonly count: number; readonly first?: AtomicWaitSite };
  /** The module's name from the name section, if any. */
  readonly moduleName?: string;
  /** Function names from the name section, by function index. */
  readonly functionNames: ReadonlyMap<number, string>;
}

const name = (type: ValType): ValueTypeName => VALTYPE_NAMES[type] as ValueTypeName;
const signature = (type: FuncType | undefined): FunctionSignature => ({ params: (type?.params ?? []).map(name), results: (type?.results ?? []).map(name) });
const memoryInfo = (limits: Limits, imported: boolean): MemoryInfo => ({
  imported,
  minPages: limits.min,
  ...(limits.max === undefined ? {} : { maxPages: limits.max }),
  shared: limits.shared,
  memory64: limits.index64,
});

/**
 * Decodes a module without compiling or instantiating it and describes what it
 * imports, exports and declares, and how big it is.
 *
 * @param limits size limits; unnamed ones take {@link DEFAULT_MODULE_LIMITS}
 * @throws ForgeError the codes of {@link decodeModule}: FO_RUNTIME_MALFORMED_MODULE,
 *   FO_RUNTIME_UNSUPPORTED_FEATURE, FO_RUNTIME_MODULE_TOO_LARGE,
 *   FO_RUNTIME_TOO_MANY_FUNCTIONS, FO_RUNTIME_FUNCTION_TOO_LARGE,
 *   FO_RUNTIME_TOO_MANY_LOCALS, FO_LIMIT_INVALID.
 */
export function analyzeModule(bytes: Uint8Array, limits: Partial<ModuleLimits> = {}): ModuleInfo {
  let largestBodyBytes = 0;
  let mostLocals = 0;
  const waits = new WaitCollector();
  const { module, features } = decodeModule(bytes, {
    limits,
    onBody: (index, body, regions, decoded) => {
      largestBodyBytes = Math.max(largestBodyBytes, body.size);
      mostLocals = Math.max(mostLocals, body.localCount);
      waits.add(index, regions, decoded);
    },
  });
  const names = findNames(module);
  return {
    size: bytes.length,
    imports: module.imports.map((entry): ImportInfo => {
      const base = { module: entry.module, name: entry.name };
      switch (entry.desc.kind) {
        case 'function':
          return { ...base, kind: 'function', signature: signature(module.types[entry.desc.typeIndex]) };
        case 'table':
          return { ...base, kind: 'table', table: tableInfo(entry.desc.type.refType, entry.desc.type.limits, true) };
        case 'memory':
          return { ...base, kind: 'memory', memory: memoryInfo(entry.desc.limits, true) };
        case 'global':
          return { ...base, kind: 'global', global: { imported: true, type: name(entry.desc.type.valType), mutable: entry.desc.type.mutable } };
      }
    }),
    exports: module.exports.map((entry) => (entry.kind === 'function' ? { ...entry, signature: signature(functionType(module, entry.index)) } : { ...entry })),
    memories: [...module.imports.flatMap((i) => (i.desc.kind === 'memory' ? [memoryInfo(i.desc.limits, true)] : [])), ...module.memories.map((m) => memoryInfo(m, false))],
    tables: [
      ...module.imports.flatMap((i) => (i.desc.kind === 'table' ? [tableInfo(i.desc.type.refType, i.desc.type.limits, true)] : [])),
      ...module.tables.map((t) => tableInfo(t.refType, t.limits, false)),
    ],
    globals: [
      ...module.imports.flatMap((i) => (i.desc.kind === 'global' ? [{ imported: true, type: name(i.desc.type.valType), mutable: i.desc.type.mutable }] : [])),
      ...module.globals.map((g) => ({ imported: false, type: name(g.type.valType), mutable: g.type.mutable })),
    ],
    ...(module.start === undefined ? {} : { startFunction: module.start }),
    customSections: module.sections.flatMap((entry) => (entry.id === SectionId.custom ? [{ name: entry.custom.name, size: entry.custom.contentSize }] : [])),
    functionCount: module.functions.length,
    importedFunctionCount: importCounts(module).functions,
    largestBodyBytes,
    mostLocals,
    features: FEATURE_NAMES.filter(([bit]) => (features & bit) !== 0).map(([, featureName]) => featureName),
    atomicWaits: waits.summary,
    ...(names?.module === undefined ? {} : { moduleName: names.module }),
    functionNames: names?.functions ?? new Map(),
  };
}

function tableInfo(refType: ValType, limits: Limits, imported: boolean): TableInfo {
  return {
    imported,
    elementType: refType === 0x6f ? 'externref' : 'funcref',
    min: limits.min,
    ...(limits.max === undefined ? {} : { max: limits.max }),
    table64: limits.index64,
  };
}

/** The type of function `index` in the function index space (imports first). */
function functionType(module: DecodedModule, index: number): FuncType | undefined {
  let imported = 0;
  for (const entry of module.imports) {
    if (entry.desc.kind !== 'function') continue;
    if (imported === index) return module.types[entry.desc.typeIndex];
    imported += 1;
  }
  const typeIndex = module.functions[index - imported];
  return typeIndex === undefined ? undefined : module.types[typeIndex];
}

function findNames(module: DecodedModule): ReturnType<typeof decodeNameSection> {
  for (const entry of module.sections) {
    if (entry.id === SectionId.custom && entry.custom.name === 'name') {
      return decodeNameSection(entry.custom.raw.subarray(entry.custom.raw.length - entry.custom.contentSize));
    }
  }
  return undefined;
}
