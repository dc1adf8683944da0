import {
  COST_PLAIN,
  FEATURE_FC,
  FEATURE_PLAIN,
  Feature,
  IMM_FC,
  IMM_FD,
  IMM_FE,
  IMM_PLAIN,
  Imm,
  Op,
  PREFIXED_COST,
  UNSUPPORTED_PLAIN,
} from './opcodes.js';
import { hex, unsupported, type ByteReader } from './reader.js';
import { readValType } from './valtypes.js';

/** What a function body may refer to; indices at or past these counts are refused. */
export interface ScanContext {
  /** Parameters plus declared locals. */
  readonly localCount: number;
  /** Imported plus defined globals of the original module. */
  readonly globalCount: number;
  readonly typeCount: number;
  /** True when some memory is 64-bit, so memarg offsets are u64. */
  readonly memory64: boolean;
  /** Whether each memory (imports first) is 64-bit, by index; absent means 32-bit. */
  readonly memories64: readonly boolean[];
  /** Whether each table (imports first) is 64-bit, by index; absent means 32-bit. */
  readonly tables64: readonly boolean[];
  /** True when the module has a data count section, which memory.init and data.drop require. */
  readonly hasDataCount: boolean;
}

/** Event code: write a fuel count kept in a local back to the global (before calls, returns, exits). */
export const SYNC = -1;
/** Event code: reload the fuel count from the global into the local (after a call returns). */
export const RELOAD = -2;
/**
 * Event code: a bulk memory operation (memory.init, memory.copy, memory.fill) whose
 * length, an i32, is on top of the operand stack; it is charged by its length.
 */
export const BULK_MEMORY = -3;
/** Event code: a bulk table operation (table.init, table.copy, table.fill), i32 length on top. */
export const BULK_TABLE = -4;
/** Event code: a bulk operation whose length is an i64 (on a 64-bit memory or table). */
export const BULK_WIDE = -5;

/** memory.atomic.wait32 and memory.atomic.wait64: the 0xfe sub-opcodes that can block a thread. */
export const WAIT_OPS: Readonly<Record<number, 'memory.atomic.wait32' | 'memory.atomic.wait64'>> = { 1: 'memory.atomic.wait32', 2: 'memory.atomic.wait64' };

/**
 * The fuel regions of one body and the places around which fuel accounting matters.
 * Region 0 is the function's entry; every loop opens a region of its own, and
 * `costs[i]` is the summed cost of the instructions that belong to region i: those
 * inside it but not inside a nested loop.
 *
 * `events` is a flat list of (absolute byte offset, code) pairs in increasing offset
 * order (ties in the order they happen): code `i >= 0` marks where region i starts (the
 * first instruction, or the one after a loop's block type); {@link SYNC} marks a call,
 * `return`, tail call, branch to the function's own label or the final `end`;
 * {@link RELOAD} marks the point just after a call; {@link BULK_MEMORY},
 * {@link BULK_TABLE} and {@link BULK_WIDE} mark a bulk operation (at its prefix byte).
 *
 * `waits` lists (absolute byte offset, sub-opcode) pairs of the body's atomic waits
 * (see {@link WAIT_OPS}). Reused across bodies.
 */
export interface Regions {
  costs: number[];
  events: number[];
  waits: number[];
}

/** Reads a block type; returns the feature bit it implies (multi-value for a type index). */
function readBlockType(reader: ByteReader, typeCount: number): number {
  const at = reader.pos;
  const byte = reader.bytes[at];
  if (byte === 0x40) {
    reader.pos += 1;
    return 0;
  }
  if (byte !== undefined && byte >= 0x60) {
    readValType(reader, 'a block type');
    return 0;
  }
  const index = reader.s33('a block type');
  if (index < 0) return reader.fail('a block type (0x40, a value type or a type index)', String(index), at);
  if (index >= typeCount) return reader.fail(`a block type index below ${typeCount}`, String(index), at);
  return Feature.multiValue;
}

/**
 * Reads a memarg: alignment flags, an optional memory index (multi-memory), an offset.
 * Flags are below 2^7 (bits 0-5 the alignment exponent, bit 6 a memory index follows);
 * anything above is malformed (align.wast), though the u32 holding them is well formed.
 * A 64-bit memory's offset is a full u64, checked exactly and copied, never rounded.
 */
function readMemarg(reader: ByteReader, memory64: boolean): number {
  const at = reader.pos;
  const flags = reader.u32('a memarg alignment');
  if (flags >= 0x80) reader.fail('memarg flags below 0x80 (an alignment exponent, and bit 6 for a memory index)', String(flags), at);
  let feature = 0;
  if (flags & 0x40) {
    reader.u32('a memarg memory index');
    feature = Feature.multiMemory;
  }
  if (memory64) reader.skipU64('a memarg offset');
  else reader.u32('a memarg offset');
  return feature;
}

/**
 * Reads one function body's instructions, from `reader.pos` to `reader.end`, which must
 * be the position just after its final `end`. Checks the binary structure (known opcodes,
 * well-formed immediates, balanced blocks, local and global indices in range) and
 * records the fuel regions; the engine validates types afterwards.
 *
 * @returns the {@link Feature} bits the body uses
 * @throws ForgeError FO_RUNTIME_MALFORMED_MODULE with the offset of the first bad byte;
 *   FO_RUNTIME_UNSUPPORTED_FEATURE for exception handling, GC or function references.
 */
export function scanBody(reader: ByteReader, context: ScanContext, regions: Regions): number {
  const { localCount, globalCount, typeCount, memory64 } = context;
  const end = reader.end;
  const bytes = reader.bytes;
  const costs = regions.costs;
  const events = regions.events;
  const waits = regions.waits;
  // The index immediates of the last prefixed instruction (memory or table indices).
  const indices: number[] = [];
  costs.length = 0;
  events.length = 0;
  waits.length = 0;
  costs.push(0);
  events.push(reader.pos, 0);
  // frames[i] is the fuel region inside the i-th open block; the function body is frame 0.
  const frames: number[] = [0];
  let region = 0;
  // The cost gathered for `region` since it was last flushed into costs[region].
  let cost = 0;
  let features = 0;
  for (;;) {
    const at = reader.pos;
    if (at >= end) return reader.fail('an instruction or the `end` of the function body', 'the end of the body');
    const op = bytes[at] as number;
    reader.pos = at + 1;
    switch (op) {
      case Op.block:
      case Op.if:
        features |= readBlockType(reader, typeCount);
        frames.push(region);
        if (op === Op.if) cost += 1;
        continue;
      case Op.loop:
        features |= readBlockType(reader, typeCount);
        costs[region] = (costs[region] as number) + cost;
        cost = 0;
        region = costs.length;
        costs.push(0);
        events.push(reader.pos, region);
        frames.push(region);
        continue;
      case Op.else:
        continue;
      case Op.end: {
        frames.pop();
        if (frames.length === 0) {
          costs[region] = (costs[region] as number) + cost;
          events.push(at, SYNC);
          if (reader.pos !== end) return reader.fail('the function body to end after its final `end`', `${end - reader.pos} more bytes`);
          return features;
        }
        const outer = frames[frames.length - 1] as number;
        if (outer !== region) {
          costs[region] = (costs[region] as number) + cost;
          cost = 0;
          region = outer;
        }
        continue;
      }
      case Op.prefixFC:
      case Op.prefixFD:
      case Op.prefixFE: {
        const sub = reader.u32('a sub-opcode');
        // The spec makes these malformed without a data count section (binary.wast), so a one-pass engine knows the segment count.
        if (op === Op.prefixFC && (sub === 8 || sub === 9) && !context.hasDataCount) {
          reader.fail(`a data count section before the code (${sub === 8 ? 'memory.init' : 'data.drop'} needs one)`, 'none', at);
        }
        features |= readPrefixed(reader, op, sub, at, memory64, indices);
        cost += PREFIXED_COST;
        if (op === Op.prefixFE && WAIT_OPS[sub] !== undefined) {
          waits.push(at, sub);
          features |= Feature.atomicWait;
        } else if (op === Op.prefixFC) {
          const bulk = bulkEvent(sub, indices, context);
          if (bulk !== 0) events.push(at, bulk);
        }
        continue;
      }
      default:
        break;
    }
    cost += COST_PLAIN[op] as number;
    features |= FEATURE_PLAIN[op] as number;
    switch (IMM_PLAIN[op] as number) {
      case Imm.none:
        if (op === Op.return) events.push(at, SYNC);
        break;
      case Imm.label:
        // The function's own label is the outermost frame's: a branch there returns.
        if (reader.u32('a label index') === frames.length - 1) events.push(at, SYNC);
        break;
      case Imm.func:
        if (op === Op.call) {
          events.push(at, SYNC);
          reader.u32('a function index');
          events.push(reader.pos, RELOAD);
        } else {
          if (op === Op.returnCall) events.push(at, SYNC);
          reader.u32('a function index');
        }
        break;
      case Imm.table:
      case Imm.memory:
        reader.u32('an index');
        break;
      case Imm.local:
        reader.index(localCount, 'a local index');
        break;
      case Imm.global:
        reader.index(globalCount, 'a global index');
        break;
      case Imm.brTable: {
        const count = reader.u32('a br_table label count');
        const outermost = frames.length - 1;
        let exits = false;
        for (let index = 0; index <= count; index += 1) if (reader.u32('a br_table label') === outermost) exits = true;
        if (exits) events.push(at, SYNC);
        break;
      }
      case Imm.callIndirect: {
        events.push(at, SYNC);
        reader.index(typeCount, 'a type index');
        const tableAt = reader.pos;
        if (reader.u32('a table index') !== 0 || reader.pos - tableAt > 1) features |= Feature.referenceTypes;
        if (op === Op.callIndirect) events.push(reader.pos, RELOAD);
        break;
      }
      case Imm.memarg:
        features |= readMemarg(reader, memory64);
        break;
      case Imm.i32:
        reader.s32('an i32 constant');
        break;
      case Imm.i64:
        reader.skipS64('an i64 constant');
        break;
      case Imm.f32:
        reader.skip(4, 'an f32 constant');
        break;
      case Imm.f64:
        reader.skip(8, 'an f64 constant');
        break;
      case Imm.selectTyped: {
        const count = reader.u32('a select type count');
        for (let index = 0; index < count; index += 1) readValType(reader, 'a select type');
        break;
      }
      case Imm.heapType: {
        const heapAt = reader.pos;
        const heap = reader.u8('a heap type');
        if (heap !== 0x70 && heap !== 0x6f) {
          if (heap < 0x60) unsupported(heapAt, 'function references', 'a typed ref.null');
          reader.fail('a heap type (0x70 func or 0x6f extern)', hex(heap), heapAt);
        }
        break;
      }
      default: {
        const refused = UNSUPPORTED_PLAIN.get(op);
        if (refused !== undefined) unsupported(at, refused[0], refused[1]);
        reader.fail('an instruction opcode', hex(op), at);
      }
    }
  }
}

/**
 * The event of a 0xfc instruction that moves or fills a length of bytes or elements
 * given at run time, or 0 for any other. `indices` holds its memory or table indices.
 * The length is an i64 only when every memory (or table) it names is 64-bit;
 * memory.init and table.init always take an i32.
 */
function bulkEvent(sub: number, indices: readonly number[], context: ScanContext): number {
  const wide = (flags: readonly boolean[]) => indices.every((index) => flags[index] === true);
  switch (sub) {
    case 8: // memory.init
      return BULK_MEMORY;
    case 10: // memory.copy
    case 11: // memory.fill
      return wide(context.memories64) ? BULK_WIDE : BULK_MEMORY;
    case 12: // table.init
      return BULK_TABLE;
    case 14: // table.copy
    case 17: // table.fill
      return wide(context.tables64) ? BULK_WIDE : BULK_TABLE;
    default:
      return 0;
  }
}

/**
 * Reads a 0xfc, 0xfd or 0xfe instruction's immediates after its sub-opcode; returns
 * its feature bits. The memory or table indices it names are left in `indices`.
 */
function readPrefixed(reader: ByteReader, prefix: number, sub: number, at: number, memory64: boolean, indices: number[]): number {
  indices.length = 0;
  const imm = prefix === Op.prefixFC ? IMM_FC[sub] : prefix === Op.prefixFD ? IMM_FD[sub] : IMM_FE[sub];
  let features = prefix === Op.prefixFC ? (FEATURE_FC[sub] ?? 0) : prefix === Op.prefixFD ? (sub >= 0x100 ? Feature.relaxedSimd : Feature.simd) : Feature.threads;
  switch (imm as number) {
    case Imm.none:
      break;
    case Imm.memarg:
      features |= readMemarg(reader, memory64);
      break;
    case Imm.memargLane:
      features |= readMemarg(reader, memory64);
      reader.u8('a lane index');
      break;
    case Imm.lane:
      reader.u8('a lane index');
      break;
    case Imm.bytes16:
      reader.skip(16, 'a 16-byte immediate');
      break;
    case Imm.data:
    case Imm.elem:
      reader.u32('an index');
      break;
    case Imm.memory:
    case Imm.table:
      indices.push(reader.u32('an index'));
      break;
    case Imm.dataMemory:
    case Imm.elemTable:
      reader.u32('an index');
      indices.push(reader.u32('an index'));
      break;
    case Imm.memoryMemory:
    case Imm.tableTable:
      indices.push(reader.u32('an index'), reader.u32('an index'));
      break;
    case Imm.fence: {
      const flagAt = reader.pos;
      const flags = reader.u8('the atomic.fence flags');
      if (flags !== 0) reader.fail('atomic.fence flags 0x00', hex(flags), flagAt);
      break;
    }
    default:
      reader.fail('an instruction opcode', `${hex(prefix)} ${sub}`, at);
  }
  return features;
}
