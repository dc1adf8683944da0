/**
 * What follows each opcode in the binary format (its immediates), the proposal it
 * comes from, and its fuel cost. Tables indexed by opcode keep the scanner's hot loop
 * to one lookup per instruction.
 */

/** The shape of an instruction's immediates. */
export const Imm = {
  none: 0,
  blockType: 1,
  label: 2,
  brTable: 3,
  func: 4,
  callIndirect: 5,
  local: 6,
  global: 7,
  table: 8,
  memarg: 9,
  memory: 10,
  i32: 11,
  i64: 12,
  f32: 13,
  f64: 14,
  selectTyped: 15,
  heapType: 16,
  memargLane: 17,
  lane: 18,
  bytes16: 19,
  dataMemory: 20,
  data: 21,
  memoryMemory: 22,
  elemTable: 23,
  elem: 24,
  tableTable: 25,
  fence: 26,
  /** Not an instruction we know. */
  unknown: 255,
} as const;

/** Proposals an instruction can come from, as bits of {@link ModuleFeatures}. */
export const Feature = {
  signExtension: 1 << 0,
  saturatingConversions: 1 << 1,
  bulkMemory: 1 << 2,
  referenceTypes: 1 << 3,
  multiValue: 1 << 4,
  tailCalls: 1 << 5,
  simd: 1 << 6,
  relaxedSimd: 1 << 7,
  threads: 1 << 8,
  multiMemory: 1 << 9,
  memory64: 1 << 10,
  /** Not a proposal: the module uses memory.atomic.wait32 or wait64 (part of threads). */
  atomicWait: 1 << 11,
} as const;

/** Names of {@link Feature} bits, as reported by analysis (`atomicWait` is reported as `threads`). */
export const FEATURE_NAMES: readonly (readonly [number, string])[] = [
  [Feature.signExtension, 'sign-extension'],
  [Feature.saturatingConversions, 'saturating-float-to-int'],
  [Feature.bulkMemory, 'bulk-memory'],
  [Feature.referenceTypes, 'reference-types'],
  [Feature.multiValue, 'multi-value'],
  [Feature.tailCalls, 'tail-calls'],
  [Feature.simd, 'simd'],
  [Feature.relaxedSimd, 'relaxed-simd'],
  [Feature.threads, 'threads'],
  [Feature.multiMemory, 'multi-memory'],
  [Feature.memory64, 'memory64'],
];

/** Opcodes with structure the scanner handles itself. */
export const Op = {
  unreachable: 0x00,
  nop: 0x01,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  returnCall: 0x12,
  returnCallIndirect: 0x13,
  drop: 0x1a,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Const: 0x41,
  i64Const: 0x42,
  i64LtS: 0x53,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64ShrU: 0x88,
  i64ExtendI32U: 0xad,
  prefixFC: 0xfc,
  prefixFD: 0xfd,
  prefixFE: 0xfe,
} as const;

function table(size: number, fill: number, entries: readonly (readonly [number, number, number])[]): Uint8Array {
  const out = new Uint8Array(size).fill(fill);
  for (const [from, to, value] of entries) out.fill(value, from, to + 1);
  return out;
}

/** Immediates of one-byte opcodes (prefixes and block structure are handled apart). */
export const IMM_PLAIN: Uint8Array = table(256, Imm.unknown, [
  [0x00, 0x01, Imm.none], // unreachable, nop
  [0x0c, 0x0d, Imm.label], // br, br_if
  [0x0e, 0x0e, Imm.brTable],
  [0x0f, 0x0f, Imm.none], // return
  [0x10, 0x10, Imm.func], // call
  [0x11, 0x11, Imm.callIndirect],
  [0x12, 0x12, Imm.func], // return_call
  [0x13, 0x13, Imm.callIndirect], // return_call_indirect
  [0x1a, 0x1b, Imm.none], // drop, select
  [0x1c, 0x1c, Imm.selectTyped],
  [0x20, 0x22, Imm.local],
  [0x23, 0x24, Imm.global],
  [0x25, 0x26, Imm.table], // table.get, table.set
  [0x28, 0x3e, Imm.memarg], // loads and stores
  [0x3f, 0x40, Imm.memory], // memory.size, memory.grow
  [0x41, 0x41, Imm.i32],
  [0x42, 0x42, Imm.i64],
  [0x43, 0x43, Imm.f32],
  [0x44, 0x44, Imm.f64],
  [0x45, 0xc4, Imm.none], // numeric, including sign extension (0xc0-0xc4)
  [0xd0, 0xd0, Imm.heapType], // ref.null
  [0xd1, 0xd1, Imm.none], // ref.is_null
  [0xd2, 0xd2, Imm.func], // ref.func
]);

/** The proposal of one-byte opcodes, 0 for the MVP. */
export const FEATURE_PLAIN: Uint16Array = (() => {
  const out = new Uint16Array(256);
  out.fill(Feature.tailCalls, 0x12, 0x14);
  out[0x1c] = Feature.referenceTypes;
  out.fill(Feature.referenceTypes, 0x25, 0x27);
  out.fill(Feature.signExtension, 0xc0, 0xc5);
  out.fill(Feature.referenceTypes, 0xd0, 0xd3);
  return out;
})();

/**
 * Fuel cost of one-byte opcodes: 1 unit each, except those that compile to no work of
 * their own (nop, drop, block, loop, else, end, unreachable, return), which cost 0, as
 * in wasmtime. Every prefixed (0xfc, 0xfd, 0xfe) instruction costs 1.
 */
export const COST_PLAIN: Uint8Array = (() => {
  const out = new Uint8Array(256).fill(1);
  for (const op of [Op.unreachable, Op.nop, Op.block, Op.loop, Op.else, Op.end, Op.return, Op.drop]) out[op] = 0;
  return out;
})();

/** One-byte opcodes of proposals we refuse, with the proposal's name. */
export const UNSUPPORTED_PLAIN: ReadonlyMap<number, readonly [string, string]> = new Map([
  [0x06, ['exception handling', 'try']],
  [0x07, ['exception handling', 'catch']],
  [0x08, ['exception handling', 'throw']],
  [0x09, ['exception handling', 'rethrow']],
  [0x0a, ['exception handling', 'throw_ref']],
  [0x18, ['exception handling', 'delegate']],
  [0x19, ['exception handling', 'catch_all']],
  [0x1f, ['exception handling', 'try_table']],
  [0x14, ['function references', 'call_ref']],
  [0x15, ['function references', 'return_call_ref']],
  [0xd3, ['function references', 'ref.as_non_null']],
  [0xd4, ['function references', 'br_on_null']],
  [0xd6, ['function references', 'br_on_non_null']],
  [0xd5, ['garbage collection', 'ref.eq']],
  [0xfb, ['garbage collection', 'the 0xfb instruction prefix']],
]);

/** Immediates of 0xfc sub-opcodes: saturating conversions (0-7), bulk memory and table ops (8-17). */
export const IMM_FC: Uint8Array = table(18, Imm.unknown, [
  [0, 7, Imm.none],
  [8, 8, Imm.dataMemory], // memory.init
  [9, 9, Imm.data], // data.drop
  [10, 10, Imm.memoryMemory], // memory.copy
  [11, 11, Imm.memory], // memory.fill
  [12, 12, Imm.elemTable], // table.init
  [13, 13, Imm.elem], // elem.drop
  [14, 14, Imm.tableTable], // table.copy
  [15, 17, Imm.table], // table.grow, table.size, table.fill
]);

/** The proposal of 0xfc sub-opcodes. */
export const FEATURE_FC: Uint16Array = (() => {
  const out = new Uint16Array(18);
  out.fill(Feature.saturatingConversions, 0, 8);
  out.fill(Feature.bulkMemory, 8, 15);
  out.fill(Feature.referenceTypes, 15, 18);
  return out;
})();

/** Unassigned opcodes inside the SIMD range. */
const SIMD_GAPS = [0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee];

/** Immediates of 0xfd sub-opcodes: SIMD (0x00-0xff) and relaxed SIMD (0x100-0x113). */
export const IMM_FD: Uint8Array = (() => {
  const out = table(0x114, Imm.none, [
    [0x00, 0x0b, Imm.memarg], // v128.load*, v128.store
    [0x0c, 0x0d, Imm.bytes16], // v128.const, i8x16.shuffle
    [0x15, 0x22, Imm.lane], // extract_lane, replace_lane
    [0x54, 0x5b, Imm.memargLane], // v128.load*_lane, v128.store*_lane
    [0x5c, 0x5d, Imm.memarg], // v128.load32_zero, v128.load64_zero
  ]);
  for (const gap of SIMD_GAPS) out[gap] = Imm.unknown;
  return out;
})();

/** Immediates of 0xfe sub-opcodes (threads): notify and waits (0-2), fence (3), atomic accesses (0x10-0x4e). */
export const IMM_FE: Uint8Array = table(0x4f, Imm.unknown, [
  [0x00, 0x02, Imm.memarg],
  [0x03, 0x03, Imm.fence],
  [0x10, 0x4e, Imm.memarg],
]);

/** Fuel cost of an instruction charged at a region's entry; see {@link COST_PLAIN}. */
export const PREFIXED_COST = 1;

/**
 * Bulk memory operations (memory.fill, memory.copy, memory.init) are also charged by
 * their length, right before they run: one unit per 2^BULK_MEMORY_SHIFT bytes, rounded
 * up. Calibrated with bench/fuel-calibrate.mjs so a unit of bulk work takes about as
 * long as a unit of ordinary code (docs/runtime.md has the figures): 1 byte per unit.
 */
export const BULK_MEMORY_SHIFT: number = 0;

/**
 * Bulk table operations (table.fill, table.copy, table.init) are charged this many units
 * per element, right before they run: V8 spends 17-22 ns on each element, several
 * hundred units of ordinary code (bench/fuel-calibrate.mjs).
 */
export const BULK_TABLE_UNITS: number = 512;
