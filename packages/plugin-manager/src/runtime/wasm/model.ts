/**
 * The decoded form of a module: every section's structure as plain data, with the
 * instruction sequences (function bodies, constant expressions) and the segments'
 * contents kept as views of the original bytes. Nothing is decoded into a
 * per-instruction tree; rewriting streams over the bodies instead.
 */

/** Section ids of the binary format (custom sections are id 0). */
export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** The id of a non-custom section. */
export type KnownSectionId = Exclude<(typeof SectionId)[keyof typeof SectionId], 0>;

/** One entry of a module's section list: a known section by id, or a custom section. */
export type SectionEntry = { readonly id: KnownSectionId } | { readonly id: 0; readonly custom: CustomSection };

/** The order known sections must appear in (the data count section sits before code). */
export const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/** Value type codes: i32 0x7f, i64 0x7e, f32 0x7d, f64 0x7c, v128 0x7b, funcref 0x70, externref 0x6f. */
export type ValType = 0x7f | 0x7e | 0x7d | 0x7c | 0x7b | 0x70 | 0x6f;

/** Reference type codes: funcref 0x70, externref 0x6f. */
export type RefType = 0x70 | 0x6f;

/** A function signature. */
export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/**
 * Limits of a memory (in 64 KiB pages) or a table (in elements). `shared` and
 * `index64` come from the limits' flag byte (threads and memory64).
 */
export interface Limits {
  readonly min: number;
  readonly max?: number;
  readonly shared: boolean;
  readonly index64: boolean;
}

/** A table's element type and limits. */
export interface TableType {
  readonly refType: RefType;
  readonly limits: Limits;
}

/** A global's value type and mutability. */
export interface GlobalType {
  readonly valType: ValType;
  readonly mutable: boolean;
}

/** What an import or export names. */
export type ExternKind = 'function' | 'table' | 'memory' | 'global';

/** An import's kind-specific description. */
export type ImportDesc =
  | { readonly kind: 'function'; readonly typeIndex: number }
  | { readonly kind: 'table'; readonly type: TableType }
  | { readonly kind: 'memory'; readonly limits: Limits }
  | { readonly kind: 'global'; readonly type: GlobalType };

/** An import: the module and name it asks for, and what kind of thing with what type. */
export interface Import {
  readonly module: string;
  readonly name: string;
  readonly desc: ImportDesc;
}

/** An export: its name and the index of what it exports in that kind's index space. */
export interface Export {
  readonly name: string;
  readonly kind: ExternKind;
  readonly index: number;
}

/** A defined global: its type and its initialiser, a constant expression ending in `end`. */
export interface Global {
  readonly type: GlobalType;
  readonly init: Uint8Array;
}

/** One local declaration of a body: `count` locals of type `type`. */
export interface LocalGroup {
  readonly count: number;
  readonly type: ValType;
}

/** A function body: its local declarations and its instructions, ending in `end`. */
export interface FunctionBody {
  readonly locals: readonly LocalGroup[];
  /** Total locals declared (not counting parameters). */
  readonly localCount: number;
  /** Size of the body in bytes, local declarations included. */
  readonly size: number;
  readonly code: Uint8Array;
  /** Byte offset of `code` in the original module, for error messages. */
  readonly offset: number;
}

/** A custom section, kept byte for byte (header included). */
export interface CustomSection {
  readonly name: string;
  /** The whole section as it appeared: id, size, name and contents. */
  readonly raw: Uint8Array;
  /** Size of the contents after the name, in bytes. */
  readonly contentSize: number;
}

/**
 * A decoded module. Element and data segments are kept whole (`raw`) after their
 * structure has been checked: nothing ForgeOne does changes them.
 */
export interface DecodedModule {
  types: FuncType[];
  imports: Import[];
  /** Type index of each defined function. */
  functions: number[];
  tables: TableType[];
  memories: Limits[];
  globals: Global[];
  exports: Export[];
  start: number | undefined;
  elements: Uint8Array[];
  dataCount: number | undefined;
  code: FunctionBody[];
  data: Uint8Array[];
  /**
   * Every section in order: a known section by id, or a custom section. The encoder
   * walks this list, so sections keep their places and empty ones survive.
   */
  sections: SectionEntry[];
}

/** Counts of each import kind, which offset the defined items' indices. */
export interface ImportCounts {
  readonly functions: number;
  readonly tables: number;
  readonly memories: number;
  readonly globals: number;
}

/** Counts the imports of each kind. */
export function importCounts(module: Pick<DecodedModule, 'imports'>): ImportCounts {
  let functions = 0;
  let tables = 0;
  let memories = 0;
  let globals = 0;
  for (const { desc } of module.imports) {
    if (desc.kind === 'function') functions += 1;
    else if (desc.kind === 'table') tables += 1;
    else if (desc.kind === 'memory') memories += 1;
    else globals += 1;
  }
  return { functions, tables, memories, globals };
}

/** Text names of value types, as in the text format. */
export const VALTYPE_NAMES: Readonly<Record<ValType, string>> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};
