import { ForgeError } from '@forgeone/common';
import type { DecodedModule, Limits } from './model.js';

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
 * @returns true when some memory changed
 * @throws ForgeError FO_RUNTIME_MEMORY_LIMIT when a memory's minimum is already above
 *   the cap (details: memory index, minimum and limit in bytes)
 */
export function capMemories(module: DecodedModule, maxBytes: number): boolean {
  const capPages = Math.floor(maxBytes / PAGE_BYTES);
  let changed = false;
  let index = 0;
  const check = (limits: Limits, imported: boolean): Limits => {
    if (limits.min > capPages) {
      const minimumBytes = limits.min * PAGE_BYTES;
      throw new ForgeError(
        'FO_RUNTIME_MEMORY_LIMIT',
        `memory ${index}${imported ? ' (imported)' : ''}: expected a minimum of at most ${capPages} pages (${capPages * PAGE_BYTES} bytes, the memory limit), found ${limits.min} pages (${minimumBytes} bytes)`,
        { details: { memory: index, minimumBytes, limitBytes: maxBytes } },
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

/**
 * Clamps the maximum of every table, imported or defined, to `maxElements`, so
 * `table.grow` past it returns -1. A table without a maximum gets the cap.
 *
 * @returns true when some table changed
 * @throws ForgeError FO_RUNTIME_TABLE_LIMIT when a table's minimum is already above the cap
 */
export function capTables(module: DecodedModule, maxElements: number): boolean {
  let changed = false;
  let index = 0;
  const check = (limits: Limits, imported: boolean): Limits => {
    if (limits.min > maxElements) {
      throw new ForgeError(
        'FO_RUNTIME_TABLE_LIMIT',
        `table ${index}${imported ? ' (imported)' : ''}: expected a minimum of at most ${maxElements} elements (the table limit), found ${limits.min}`,
        { details: { table: index, minimum: limits.min, limit: maxElements } },
      );
    }
    const clamped = clamp(limits, maxElements);
    if (clamped !== limits) changed = true;
    index += 1;
    return clamped;
  };
  module.imports = module.imports.map((entry) =>
    entry.desc.kind === 'table' ? { ...entry, desc: { kind: 'table', type: { ...entry.desc.type, limits: check(entry.desc.type.limits, true) } } } : entry,
  );
  module.tables = module.tables.map((table) => {
    const limits = check(table.limits, false);
    return limits === table.limits ? table : { ...table, limits };
  });
  return changed;
}
