import { Op } from './opcodes.js';
import { hex, type ByteReader } from './reader.js';

/** Opcodes allowed in constant expressions: constants, ref.null/ref.func, global.get, extended-const arithmetic. */
const CONST_OPS = new Set([0x41, 0x42, 0x43, 0x44, 0xd0, 0xd2, 0x23, 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e]);

/**
 * Reads a constant expression (a global's initialiser, a segment's offset or element)
 * up to and including its `end`, and returns a view of it.
 * @throws ForgeError FO_RUNTIME_MALFORMED_MODULE for a non-constant instruction or a
 *   global index at or past `globalCount`.
 */
export function readConstExpr(reader: ByteReader, globalCount: number): Uint8Array {
  const start = reader.pos;
  for (;;) {
    const at = reader.pos;
    const op = reader.u8('a constant instruction');
    if (op === Op.end) return reader.bytes.subarray(start, reader.pos);
    if (op === Op.prefixFD) {
      const sub = reader.u32('a sub-opcode');
      if (sub !== 0x0c) reader.fail('a constant instruction', `${hex(op)} ${sub}`, at);
      reader.skip(16, 'a v128 constant');
      continue;
    }
    if (!CONST_OPS.has(op)) reader.fail('a constant instruction', hex(op), at);
    switch (op) {
      case 0x41:
        reader.s32('an i32 constant');
        break;
      case 0x42:
        reader.skipS64('an i64 constant');
        break;
      case 0x43:
        reader.skip(4, 'an f32 constant');
        break;
      case 0x44:
        reader.skip(8, 'an f64 constant');
        break;
      case 0xd0: {
        const heap = reader.u8('a heap type');
        if (heap !== 0x70 && heap !== 0x6f) reader.fail('a heap type (0x70 func or 0x6f extern)', hex(heap), reader.pos - 1);
        break;
      }
      case 0xd2:
        reader.u32('a function index');
        break;
      case 0x23:
        reader.index(globalCount, 'a global index');
        break;
      default:
        break; // extended-const arithmetic has no immediates
    }
  }
}
