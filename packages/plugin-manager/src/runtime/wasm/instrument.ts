import { ForgeError, checkLimitOption, describeValue } from '@forgeone/common';
import { DEFAULT_MAX_TABLE_ELEMENTS, capMemories, capTables } from './caps.js';
import { decodeModule } from './decode.js';
import { encodeModule } from './encode.js';
import { FuelRewriter } from './fuel-pass.js';
import type { ModuleLimits } from './limits.js';
import { SECTION_ORDER, SectionId, importCounts, type DecodedModule, type KnownSectionId } from './model.js';
import { Op } from './opcodes.js';
import { MAY_BLOCK_SECTION, WaitCollector, describeWaits } from './threads.js';
import { ByteWriter } from './writer.js';

/** The export name of the fuel counter global that instrumentation adds. */
export const FUEL_EXPORT = '__forge_fuel';

/** Names instrumentation reserves; a module that already exports one is refused. */
export const RESERVED_EXPORTS: readonly string[] = [FUEL_EXPORT];

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** What {@link instrumentModule} does to a module. */
export interface InstrumentOptions {
  /** Inject fuel metering: a counter global exported as {@link FUEL_EXPORT}, charged at function entry and loop headers. */
  readonly fuel: boolean;
  /**
   * The counter's value when an instance is created: the budget of the module's start
   * function, if it has one (the host sets the budget of each later call). Default 0n,
   * so a start function that does any work traps with the counter below zero.
   */
  readonly initialFuel?: bigint;
  /** Cap on every memory's size, in bytes, rounded down to 64 KiB pages. Default: no cap. */
  readonly maxMemoryBytes?: number;
  /**
   * The plugin's memory budget, in bytes: its tables are charged against it first (each
   * element at {@link TABLE_ELEMENT_BYTES}, counted at the table's clamped maximum), and
   * every memory is capped to what remains (and to `maxMemoryBytes`, if also given).
   * Tables are then capped at {@link DEFAULT_MAX_TABLE_ELEMENTS} each unless
   * `maxTableElements` says otherwise. Default: no budget.
   */
  readonly memoryBudgetBytes?: number;
  /** Cap on every table's size, in elements. Default: no cap. */
  readonly maxTableElements?: number;
  /** Most tables, imported and defined (FO_RUNTIME_TOO_MANY_TABLES). Default: no limit. */
  readonly maxTables?: number;
  /**
   * Most elements of all tables together, each at its clamped maximum
   * (FO_RUNTIME_TABLE_ELEMENTS_LIMIT). Default: no limit.
   */
  readonly maxTotalTableElements?: number;
  /** Decoding limits; unnamed ones take {@link DEFAULT_MODULE_LIMITS}. */
  readonly limits?: Partial<ModuleLimits>;
}

/** The instrumented module. */
export interface InstrumentResult {
  /** The rewritten module; the input itself when no option asked for a change. */
  readonly bytes: Uint8Array;
  /** The export name of the fuel counter (a mutable i64 global), when fuel was asked for. */
  readonly fuelExport?: string;
}

/**
 * Rewrites a module so it can be run under ForgeOne's limits, without renumbering any
 * function, global, table or memory:
 *
 * - fuel: appends a mutable i64 global exported as {@link FUEL_EXPORT} and charges it
 *   at every function entry and loop header (see docs/runtime.md for what each
 *   instruction costs); an instance traps with `unreachable` once the counter goes
 *   below zero, and {@link FuelMeter} turns that trap into FO_SANDBOX_CPU_LIMIT;
 * - memory and table caps: clamps every maximum, imported or defined, caps the number
 *   of tables and their elements together, and charges the tables' elements to the
 *   memory budget before capping memories to what remains;
 * - a module that can block its thread (a shared memory and an atomic wait) gets the
 *   {@link MAY_BLOCK_SECTION} custom section.
 *
 * The output of a valid module is valid; an invalid one that the decoder lets through
 * stays invalid for the engine.
 *
 * @throws ForgeError the codes of {@link decodeModule}; FO_RUNTIME_RESERVED_EXPORT when
 *   the module already exports {@link FUEL_EXPORT}; FO_RUNTIME_MEMORY_LIMIT or
 *   FO_RUNTIME_TABLE_LIMIT when a minimum is above its cap (FO_RUNTIME_MEMORY_LIMIT also
 *   when the tables alone pass the memory budget); FO_RUNTIME_TOO_MANY_TABLES and
 *   FO_RUNTIME_TABLE_ELEMENTS_LIMIT past the table limits; FO_RUNTIME_FUNCTION_TOO_LARGE
 *   when a body with fuel checks would pass the engine's size limit;
 *   FO_LIMIT_INVALID for a malformed limit; FO_RUNTIME_BAD_OPTION for a malformed
 *   initialFuel.
 */
export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): InstrumentResult {
  const initialFuel = checkOptions(options);
  let rewriter: FuelRewriter | undefined;
  const waits = new WaitCollector();
  const { module } = decodeModule(bytes, {
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    onBody: (index, body, regions, decoded) => {
      waits.add(index, regions, decoded);
      if (!options.fuel) return;
      rewriter ??= new FuelRewriter(importCounts(decoded).globals + decoded.globals.length, bytes.length);
      rewriter.rewrite(decoded, index, body, regions);
    },
  });
  const { count, first } = waits.summary;
  let changed = first !== undefined && markIfBlocking(module, describeWaits(first, count));
  const budget = options.memoryBudgetBytes;
  const perTable = options.maxTableElements ?? (budget === undefined ? undefined : DEFAULT_MAX_TABLE_ELEMENTS);
  let tableBytes = 0;
  if (perTable !== undefined || options.maxTables !== undefined || options.maxTotalTableElements !== undefined) {
    const tables = capTables(module, {
      maxElements: perTable ?? Number.MAX_SAFE_INTEGER,
      ...(options.maxTables === undefined ? {} : { maxTables: options.maxTables }),
      ...(options.maxTotalTableElements === undefined ? {} : { maxTotalElements: options.maxTotalTableElements }),
    });
    changed = tables.changed || changed;
    tableBytes = tables.bytes;
  }
  const memoryCap = budget === undefined ? options.maxMemoryBytes : Math.min(budget - tableBytes, options.maxMemoryBytes ?? Number.MAX_SAFE_INTEGER);
  if (budget !== undefined && memoryCap !== undefined && memoryCap < 0) {
    throw new ForgeError('FO_RUNTIME_MEMORY_LIMIT', `tables: expected them to fit in the memory budget of ${budget} bytes, found they may take ${tableBytes} bytes`, {
      details: { limitBytes: budget, tableBytes },
    });
  }
  if (memoryCap !== undefined) changed = capMemories(module, memoryCap, budget === undefined ? 0 : tableBytes) || changed;
  if (!options.fuel) return { bytes: changed ? encodeModule(module) : bytes };
  addFuelGlobal(module, initialFuel);
  if (rewriter !== undefined) module.code = rewriter.finish();
  return { bytes: encodeModule(module), fuelExport: FUEL_EXPORT };
}

function checkOptions(options: InstrumentOptions): bigint {
  for (const key of ['maxMemoryBytes', 'memoryBudgetBytes', 'maxTableElements', 'maxTables', 'maxTotalTableElements'] as const) {
    if (options[key] !== undefined) checkLimitOption(key, options[key]);
  }
  const fuel: unknown = options.initialFuel ?? 0n;
  if (typeof fuel !== 'bigint' || fuel < I64_MIN || fuel > I64_MAX) {
    throw new ForgeError('FO_RUNTIME_BAD_OPTION', `initialFuel: expected a bigint within the i64 range, found ${describeValue(fuel)}`, {
      details: { option: 'initialFuel', actual: describeValue(fuel) },
    });
  }
  return fuel;
}

/**
 * Appends the {@link MAY_BLOCK_SECTION} custom section when some memory is shared (the
 * module also waits: `waits` describes where), so a backend that cannot preempt its
 * thread can refuse the compiled module.
 * @returns true when the section was added
 */
function markIfBlocking(module: DecodedModule, waits: string): boolean {
  const limits = [...module.imports.flatMap((entry) => (entry.desc.kind === 'memory' ? [entry.desc.limits] : [])), ...module.memories];
  const shared = limits.findIndex((memory) => memory.shared);
  if (shared === -1) return false;
  const text = new TextEncoder().encode(`memory ${shared} is shared and the module uses ${waits}`);
  const contents = new ByteWriter(text.length + 32).name(MAY_BLOCK_SECTION).bytes(text).finish();
  const raw = new ByteWriter(contents.length + 8).section(SectionId.custom, contents).finish();
  module.sections.push({ id: 0, custom: { name: MAY_BLOCK_SECTION, raw, contentSize: text.length } });
  return true;
}

/** Appends the fuel counter global and its export, adding either section if absent. */
function addFuelGlobal(module: DecodedModule, initialFuel: bigint): void {
  const clash = module.exports.find((entry) => RESERVED_EXPORTS.includes(entry.name));
  if (clash !== undefined) {
    throw new ForgeError('FO_RUNTIME_RESERVED_EXPORT', `export names: expected none of ${RESERVED_EXPORTS.join(', ')} (reserved for instrumentation), found an export named ${describeValue(clash.name)}`, {
      details: { name: clash.name },
    });
  }
  const index = importCounts(module).globals + module.globals.length;
  const init = new ByteWriter(16).u8(Op.i64Const).sleb64(initialFuel).u8(Op.end).finish();
  module.globals.push({ type: { valType: 0x7e, mutable: true }, init });
  module.exports.push({ name: FUEL_EXPORT, kind: 'global', index });
  ensureSection(module, SectionId.global);
  ensureSection(module, SectionId.export);
}

/** Adds an empty known section in its place in the section order, unless present. */
function ensureSection(module: DecodedModule, id: KnownSectionId): void {
  if (module.sections.some((entry) => entry.id === id)) return;
  const order = SECTION_ORDER.indexOf(id);
  const after = module.sections.findIndex((entry) => entry.id !== SectionId.custom && SECTION_ORDER.indexOf(entry.id) > order);
  module.sections.splice(after === -1 ? module.sections.length : after, 0, { id });
}
