import { ForgeError } from '@forgeone/common';
import type { DecodedModule, Limits, TableType } from './model.js';

/** Bytes in one WebAssembly memory page. */
export const PAGE_BYTES = 65_536;

/** Limits with the maximum clamped to `cap`; a missing maximum becomes `cap`. */
function clamp(limits: Limits, cap: number): Limits {
  const max = limits.max === undefined ? cap : Math.min(limits.max, cap);
  return max === limits.max ? limits : { ...limits, max };
}

/**
 * Clamps the maximum of every memory, imported or defined, to `maxBytes` rounded down
 * to whole 64 KiB pages, so `memory.grow` past it returns -1. A memory without a
 * maximum gets the cap as its maximum.
 *
 * @param tableBytes what the tables already took from the plugin's memory budget
 *   (`maxBytes` is the rest), for the error's message and details
 * @returns true when some memory changed
 * @throws ForgeError FO_RUNTIME_MEMORY_LIMIT when a memory's minimum is already above
 *   the cap (details: memory index, minimum and limit in bytes, tableBytes)
 */
export function capMemories(module: DecodedModule, maxBytes: number, tableBytes = 0): boolean {
  const capPages = Math.floor(maxBytes / PAGE_BYTES);
  let changed = false;
  let index = 0;
  const check = (limits: Limits, imported: boolean): Limits => {
    if (limits.min > capPages) {
      const minimumBytes = limits.min * PAGE_BYTES;
      const what = tableBytes > 0 ? `the memory limit less ${tableBytes} bytes for tables` : 'the memory limit';
      throw new ForgeError(
        'FO_RUNTIME_MEMORY_LIMIT',
        `memory ${index}${imported ? ' (imported)' : ''}: expected a minimum of at most ${capPages} pages (${capPages * PAGE_BYTES} bytes, ${what}), found ${limits.min} pages (${minimumBytes} bytes)`,
        { details: { memory: index, minimumBytes, limitBytes: maxBytes, ...(tableBytes > 0 ? { tableBytes } : {}) } },
      );
    }
    const clamped = clamp(limits, capPages);
    if (clamped !== limits) changed = true;
    index += 1;
    return clamped;
  };
  module.imports = module.imports.map((entry) => (entry.desc.kind === 'memory' ? { ...entry, desc: { kind: 'memory', limits: check(entry.desc.limits, true) } } : entry));
  module.memories = module.memories.map((limits) => check(limits, false));
  return changed;
}

/** Most tables (imported and defined) a module may have when nothing else is said. */
export const DEFAULT_MAX_TABLES = 100;
/** Largest maximum of one table, in elements, when nothing else is said. */
export const DEFAULT_MAX_TABLE_ELEMENTS = 100_000;
/** Most elements of all tables together (each at its clamped maximum) when nothing else is said. */
export const DEFAULT_MAX_TOTAL_TABLE_ELEMENTS = 1_000_000;

/**
 * Host memory charged per table element, in bytes, by element type. Measured on V8 11.3
 * (Node 20.20): a funcref table costs 28 bytes per element when instantiated (16 on the JS
 * heap, the rest in its dispatch table) and 34 when grown a thousand elements at a
 * time; an externref table 8 and 12. The charge rounds the worst case up.
 */
export const TABLE_ELEMENT_BYTES: Readonly<Record<'funcref' | 'externref', number>> = Object.freeze({ funcref: 40, externref: 16 });

/** Caps on a module's tables, in elements unless said otherwise. */
export interface TableCaps {
  /** Largest maximum of one table: a larger or missing maximum is lowered to it. */
  readonly maxElements: number;
  /** Most tables, imported and defined. Default: no limit. */
  readonly maxTables?: number;
  /** Most elements of all tables together, each counted at its clamped maximum. Default: no limit. */
  readonly maxTotalElements?: number;
}

/** What {@link capTables} did. */
export interface CappedTables {
  /** True when some table's maximum changed. */
  readonly changed: boolean;
  /** Host memory the tables may take at their clamped maxima ({@link TABLE_ELEMENT_BYTES}), in bytes. */
  readonly bytes: number;
}

/**
 * Clamps the maximum of every table, imported or defined, to the per-table cap (or to
 * the total, when smaller), so `table.grow` past it returns -1; then checks the number
 * of tables and the sum of their clamped maxima, and says how much host memory they
 * may take.
 *
 * @throws ForgeError FO_RUNTIME_TOO_MANY_TABLES past `maxTables`;
 *   FO_RUNTIME_TABLE_LIMIT when a table's minimum is already above the per-table cap;
 *   FO_RUNTIME_TABLE_ELEMENTS_LIMIT when the clamped maxima together pass `maxTotalElements`
 */
export function capTables(module: DecodedModule, caps: TableCaps): CappedTables {
  const count = module.tables.length + module.imports.filter((entry) => entry.desc.kind === 'table').length;
  if (caps.maxTables !== undefined && count > caps.maxTables) {
    throw new ForgeError('FO_RUNTIME_TOO_MANY_TABLES', `tables (imported and defined): expected at most ${caps.maxTables}, found ${count}`, {
      details: { actual: count, limit: caps.maxTables },
    });
  }
  const perTable = Math.min(caps.maxElements, caps.maxTotalElements ?? Number.MAX_SAFE_INTEGER);
  let changed = false;
  let index = 0;
  let elements = 0;
  let bytes = 0;
  const check = (table: TableType, imported: boolean): Limits => {
    const limits = table.limits;
    if (limits.min > perTable) {
      throw new ForgeError(
        'FO_RUNTIME_TABLE_LIMIT',
        `table ${index}${imported ? ' (imported)' : ''}: expected a minimum of at most ${perTable} elements (the table limit), found ${limits.min}`,
        { details: { table: index, minimum: limits.min, limit: perTable } },
      );
    }
    const clamped = clamp(limits, perTable);
    if (clamped !== limits) changed = true;
    const maximum = clamped.max ?? perTable;
    elements += maximum;
    bytes += maximum * TABLE_ELEMENT_BYTES[table.refType === 0x6f ? 'externref' : 'funcref'];
    index += 1;
    return clamped;
  };
  module.imports = module.imports.map((entry) =>
    entry.desc.kind === 'table' ? { ...entry, desc: { kind: 'table', type: { ...entry.desc.type, limits: check(entry.desc.type, true) } } } : entry,
  );
  module.tables = module.tables.map((table) => {
    const limits = check(table, false);
    return limits === table.limits ? table : { ...table, limits };
  });
  if (caps.maxTotalElements !== undefined && elements > caps.maxTotalElements) {
    throw new ForgeError(
      'FO_RUNTIME_TABLE_ELEMENTS_LIMIT',
      `table elements of all ${count} tables, each at its maximum (after clamping to ${perTable}): expected at most ${caps.maxTotalElements}, found ${elements}`,
      { details: { actual: elements, limit: caps.maxTotalElements, tables: count } },
    );
  }
  return { changed, bytes };
}
