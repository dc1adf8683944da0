import { readConstExpr } from './const-expr.js';
import { readValType } from './valtypes.js';
import type { Export, ExternKind, FuncType, Global, GlobalType, Import, ImportDesc, Limits, RefType, TableType, ValType } from './model.js';
import { hex, unsupported, type ByteReader } from './reader.js';

/**
 * Decoders of the sections that declare things (types, imports, tables, memories,
 * globals, exports, element and data segments). Each reads its section's payload from
 * `reader.pos` up to `reader.end`; the caller checks nothing is left over.
 */

/** Reads a vector's length and calls `item` that many times. */
export function readVec<T>(reader: ByteReader, what: string, item: (index: number) => T): T[] {
  const count = reader.u32(`the number of ${what}`);
  // No preallocation from the count: a hostile count runs out of bytes, not of memory.
  const out: T[] = [];
  for (let index = 0; index < count; index += 1) out.push(item(index));
  return out;
}

/** Reads a function type (form 0x60, parameters, results). */
export function readFuncType(reader: ByteReader): FuncType {
  const at = reader.pos;
  const form = reader.u8('a type form');
  if (form !== 0x60) {
    if (form === 0x4e || form === 0x4f || form === 0x50 || form === 0x5e || form === 0x5f) {
      return unsupported(at, 'garbage collection', `the type form ${hex(form)}`);
    }
    return reader.fail('a function type (0x60)', hex(form), at);
  }
  const params = readVec(reader, 'parameters', () => readValType(reader, 'a parameter type'));
  const results = readVec(reader, 'results', () => readValType(reader, 'a result type'));
  return { params, results };
}

/** Reads limits: a flag byte (0x01 max, 0x02 shared, 0x04 64-bit), a minimum, an optional maximum. */
export function readLimits(reader: ByteReader): Limits {
  const at = reader.pos;
  const flags = reader.u8('a limits flag');
  if (flags & 0x08) return unsupported(at, 'custom page sizes', 'a limits flag with bit 0x08');
  if (flags > 0x07) return reader.fail('a limits flag (0x00 to 0x07)', hex(flags), at);
  const index64 = (flags & 0x04) !== 0;
  const shared = (flags & 0x02) !== 0;
  const read = (what: string, saturate = false): number => (index64 ? reader.u64(what, saturate) : reader.u32(what));
  const min = read('a minimum size');
  // A maximum above 2^53 reads as 2^53 - 1 (ByteReader.u64): still at least the minimum, still past every cap.
  if (flags & 0x01) return { min, max: read('a maximum size', true), shared, index64 };
  if (shared) return reader.fail('a maximum size for shared limits', 'shared limits without one', at);
  return { min, shared, index64 };
}

/** Most pages a memory's limits may name: 2^16 (4 GiB) for a 32-bit memory, 2^48 for a 64-bit one. */
export const MAX_MEMORY_PAGES = { memory32: 65_536, memory64: 2 ** 48 } as const;

/**
 * Reads a memory type: limits whose minimum and maximum are at most
 * {@link MAX_MEMORY_PAGES} and whose minimum is at most the maximum.
 *
 * SECURITY: these are validation rules, checked here because instrumentation clamps
 * maxima to the memory cap: `(memory 0 65537)` is invalid, and clamped to the cap it
 * would become valid (memory.wast). Invalid in, refused out.
 */
export function readMemoryType(reader: ByteReader): Limits {
  const at = reader.pos;
  const limits = readLimits(reader);
  const most = limits.index64 ? MAX_MEMORY_PAGES.memory64 : MAX_MEMORY_PAGES.memory32;
  const largest = Math.max(limits.min, limits.max ?? 0);
  if (largest > most) reader.fail(`a memory size of at most ${most} pages (${limits.index64 ? '64' : '32'}-bit memory)`, `${largest} pages`, at);
  if (limits.max !== undefined && limits.min > limits.max) reader.fail('a memory minimum no greater than its maximum', `minimum ${limits.min}, maximum ${limits.max}`, at);
  return limits;
}

/** Reads a table type: a reference type and limits. */
export function readTableType(reader: ByteReader): TableType {
  const at = reader.pos;
  if (reader.bytes[at] === 0x40) return unsupported(at, 'function references', 'a table with an initialiser');
  const refType = readValType(reader, 'a table element type');
  if (refType !== 0x70 && refType !== 0x6f) return reader.fail('a reference type (0x70 or 0x6f)', hex(refType), at);
  return { refType, limits: readLimits(reader) };
}

/** Reads a global type: a value type and a mutability byte. */
export function readGlobalType(reader: ByteReader): GlobalType {
  const valType: ValType = readValType(reader, 'a global type');
  const at = reader.pos;
  const mutability = reader.u8('a global mutability');
  if (mutability > 1) return reader.fail('a global mutability (0x00 or 0x01)', hex(mutability), at);
  return { valType, mutable: mutability === 1 };
}

const KINDS: readonly ExternKind[] = ['function', 'table', 'memory', 'global'];

function readKind(reader: ByteReader, what: string): ExternKind {
  const at = reader.pos;
  const byte = reader.u8(what);
  const kind = KINDS[byte];
  if (kind !== undefined) return kind;
  if (byte === 4) return unsupported(at, 'exception handling', `a tag ${what.replace(/^an? /, '')}`);
  return reader.fail(`${what} (0 to 3)`, hex(byte), at);
}

/** Reads one import; a function import's type index must be below `typeCount`. */
export function readImport(reader: ByteReader, typeCount: number): Import {
  const module = reader.name('an import module name');
  const name = reader.name('an import name');
  const kind = readKind(reader, 'an import kind');
  let desc: ImportDesc;
  switch (kind) {
    case 'function': {
      const at = reader.pos;
      const typeIndex = reader.u32('a type index');
      if (typeIndex >= typeCount) reader.fail(`a type index below ${typeCount}`, String(typeIndex), at);
      desc = { kind, typeIndex };
      break;
    }
    case 'table':
      desc = { kind, type: readTableType(reader) };
      break;
    case 'memory':
      desc = { kind, limits: readMemoryType(reader) };
      break;
    case 'global':
      desc = { kind, type: readGlobalType(reader) };
      break;
  }
  return { module, name, desc };
}

/** Reads one defined global: its type and its initialiser. */
export function readGlobal(reader: ByteReader, globalCount: number): Global {
  const type = readGlobalType(reader);
  return { type, init: readConstExpr(reader, globalCount) };
}

/** Reads one export; a global export's index must be below `globalCount`. */
export function readExport(reader: ByteReader, globalCount: number): Export {
  const name = reader.name('an export name');
  const kind = readKind(reader, 'an export kind');
  const at = reader.pos;
  const index = reader.u32('an export index');
  // SECURITY: an out-of-range global export would name the fuel global once it exists.
  if (kind === 'global' && index >= globalCount) reader.fail(`a global index below ${globalCount}`, String(index), at);
  return { name, kind, index };
}

function readRefType(reader: ByteReader): RefType {
  const at = reader.pos;
  const type = readValType(reader, 'a reference type');
  if (type !== 0x70 && type !== 0x6f) return reader.fail('a reference type (0x70 or 0x6f)', hex(type), at);
  return type;
}

/** Reads one element segment (flags 0 to 7) and returns a view of it, whole. */
export function readElementSegment(reader: ByteReader, globalCount: number): Uint8Array {
  const start = reader.pos;
  const flags = reader.u32('an element segment flag');
  if (flags > 7) return reader.fail('an element segment flag (0 to 7)', String(flags), start);
  const passiveOrDeclarative = (flags & 0x01) !== 0;
  const explicitTable = (flags & 0x02) !== 0;
  const usesExpressions = (flags & 0x04) !== 0;
  if (!passiveOrDeclarative) {
    if (explicitTable) reader.u32('a table index');
    readConstExpr(reader, globalCount);
  }
  // Flags 0 and 4 imply funcref; the others name an element kind or a reference type.
  if (passiveOrDeclarative || explicitTable) {
    if (usesExpressions) readRefType(reader);
    else {
      const at = reader.pos;
      const elemKind = reader.u8('an element kind');
      if (elemKind !== 0) reader.fail('an element kind (0x00)', hex(elemKind), at);
    }
  }
  if (usesExpressions) readVec(reader, 'element expressions', () => readConstExpr(reader, globalCount));
  else readVec(reader, 'element function indices', () => reader.u32('a function index'));
  return reader.bytes.subarray(start, reader.pos);
}

/** Reads one data segment (flags 0 to 2) and returns a view of it, whole. */
export function readDataSegment(reader: ByteReader, globalCount: number): Uint8Array {
  const start = reader.pos;
  const flags = reader.u32('a data segment flag');
  if (flags > 2) return reader.fail('a data segment flag (0 to 2)', String(flags), start);
  if (flags === 2) reader.u32('a memory index');
  if (flags !== 1) readConstExpr(reader, globalCount);
  reader.skip(reader.u32('a data segment length'), 'the data segment bytes');
  return reader.bytes.subarray(start, reader.pos);
}
