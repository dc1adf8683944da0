import type { ValType } from './model.js';
import { hex, unsupported, type ByteReader } from './reader.js';

/**
 * Reads a value type.
 * @throws ForgeError FO_RUNTIME_UNSUPPORTED_FEATURE for typed references (function
 *   references, GC); FO_RUNTIME_MALFORMED_MODULE for any other unknown byte.
 */
export function readValType(reader: ByteReader, what: string): ValType {
  const at = reader.pos;
  const byte = reader.u8(what);
  switch (byte) {
    case 0x7f:
    case 0x7e:
    case 0x7d:
    case 0x7c:
    case 0x7b:
    case 0x70:
    case 0x6f:
      return byte;
    case 0x63:
    case 0x64:
      return unsupported(at, 'function references', `the typed reference ${hex(byte)}`);
    case 0x69:
    case 0x74:
      return unsupported(at, 'exception handling', `the reference type ${hex(byte)}`);
    default:
      if (byte >= 0x65 && byte <= 0x73) return unsupported(at, 'garbage collection', `the reference type ${hex(byte)}`);
      return reader.fail(`${what} (a value type)`, hex(byte), at);
  }
}
