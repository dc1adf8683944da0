import type { ErrorCode } from '@forgeone/common';
import { body, moduleOf, moduleWithBodies, name, section, uleb, vec } from './binary.js';

/** A module the decoder must refuse, with the code and (when it matters) the offset. */
export interface HostileModule {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly code: ErrorCode;
  /** The byte offset the error must report. */
  readonly offset?: number;
  /** For FO_RUNTIME_UNSUPPORTED_FEATURE, the feature named. */
  readonly feature?: string;
}

const TYPE_VOID = section(1, vec([[0x60, 0x00, 0x00]]));
const ONE_FUNCTION = section(3, vec([[0x00]]));
/**
 * A one-function module whose body is `code` (after `locals`), and the offset of the
 * body's first instruction: the code section comes last, so it is the length less the code.
 */
function withCode(code: readonly number[], locals: readonly (readonly [number, number])[] = []): { bytes: Uint8Array; at: number } {
  const bytes = moduleWithBodies([body(locals, code)]);
  return { bytes, at: bytes.length - code.length };
}

function bodyCase(caseName: string, code: readonly number[], offsetInCode: number, extra: Partial<HostileModule> = {}, locals: readonly (readonly [number, number])[] = []): HostileModule {
  const { bytes, at } = withCode(code, locals);
  return { name: caseName, bytes, code: 'FO_RUNTIME_MALFORMED_MODULE', offset: at + offsetInCode, ...extra };
}

/** Modules that are malformed: the engine refuses them too. */
export const MALFORMED_MODULES: readonly HostileModule[] = [
  { name: 'no bytes at all', bytes: new Uint8Array(0), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 0 },
  { name: 'a wrong magic number', bytes: Uint8Array.from([0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0]), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 3 },
  { name: 'binary format version 2', bytes: Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 4 },
  { name: 'a section longer than the module', bytes: moduleOf([0x01, 0x05, 0x01, 0x60]), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 8 },
  { name: 'an unknown section id', bytes: moduleOf(section(14, [])), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 8 },
  { name: 'sections out of order', bytes: moduleOf(section(5, vec([[0x00, 0x01]])), section(4, vec([[0x70, 0x00, 0x01]]))), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 13 },
  { name: 'a repeated section', bytes: moduleOf(TYPE_VOID, TYPE_VOID), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 14 },
  { name: 'bytes left over in a section', bytes: moduleOf(section(1, [...vec([[0x60, 0x00, 0x00]]), 0x00])), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 14 },
  { name: 'a type vector claiming 2^32-1 entries', bytes: moduleOf(section(1, [0xff, 0xff, 0xff, 0xff, 0x0f, 0x60, 0x00, 0x00])), code: 'FO_RUNTIME_MALFORMED_MODULE' },
  { name: 'a function section without code', bytes: moduleOf(TYPE_VOID, ONE_FUNCTION), code: 'FO_RUNTIME_MALFORMED_MODULE' },
  { name: 'more bodies than functions', bytes: moduleOf(TYPE_VOID, ONE_FUNCTION, section(10, vec([body([], [0x0b]), body([], [0x0b])]))), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 20 },
  bodyCase('a body without its final end', [0x01], 1),
  bodyCase('bytes after a body’s final end', [0x0b, 0x01], 1),
  bodyCase('an else-less end too many', [0x02, 0x40, 0x0b, 0x0b, 0x0b], 4),
  bodyCase('an unassigned opcode', [0x27, 0x0b], 0),
  bodyCase('an unassigned SIMD opcode', [0xfd, 0x9a, 0x01, 0x0b], 0),
  bodyCase('an i32.const with a 6-byte LEB128', [0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b], 1),
  bodyCase('atomic.fence with a non-zero flag', [0xfe, 0x03, 0x01, 0x0b], 2),
  bodyCase('a block type naming a missing type', [0x02, 0x05, 0x0b, 0x0b], 1),
  // SECURITY: once the fuel global is appended, this index would name it.
  bodyCase('global.get of the first global index past the module’s globals', [0x23, 0x00, 0x1a, 0x0b], 1),
  bodyCase('global.set of the first global index past the module’s globals', [0x42, 0x00, 0x24, 0x00, 0x0b], 3),
  // Once the fuel local is appended, this index would name it.
  bodyCase('local.get of the first local index past the function’s locals', [0x20, 0x01, 0x1a, 0x0b], 1, {}, [[1, 0x7e]]),
  {
    name: 'an export of a global index past the module’s globals',
    bytes: moduleOf(section(7, vec([[...name('g'), 0x03, 0x00]]))),
    code: 'FO_RUNTIME_MALFORMED_MODULE',
    offset: 14,
  },
  {
    name: 'a global initialiser that is not constant',
    bytes: moduleOf(section(6, vec([[0x7f, 0x00, 0x41, 0x01, 0x41, 0x01, 0x71, 0x0b]]))),
    code: 'FO_RUNTIME_MALFORMED_MODULE',
    offset: 17,
  },
  { name: 'an unknown limits flag', bytes: moduleOf(section(5, vec([[0x10, 0x01]]))), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 11 },
  { name: 'shared memory without a maximum', bytes: moduleOf(section(5, vec([[0x02, 0x01]]))), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 11 },
  { name: 'a data count that disagrees with the data section', bytes: moduleOf(section(5, vec([[0x00, 0x01]])), section(12, uleb(2)), section(11, vec([[0x01, 0x00]]))), code: 'FO_RUNTIME_MALFORMED_MODULE' },
  { name: 'an import name that is not UTF-8', bytes: moduleOf(TYPE_VOID, section(2, [0x01, 0x01, 0xff, ...name('f'), 0x00, 0x00])), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 18 },
  { name: 'an element segment flag past 7', bytes: moduleOf(section(9, vec([[0x08]]))), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 11 },
  { name: 'an unknown value type', bytes: moduleOf(section(1, vec([[0x60, 0x01, 0x40, 0x00]]))), code: 'FO_RUNTIME_MALFORMED_MODULE', offset: 13 },
];

/** Valid or nearly valid modules of proposals ForgeOne does not instrument. */
export const UNSUPPORTED_MODULES: readonly HostileModule[] = [
  { name: 'a component', bytes: Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'the component model' },
  { name: 'a tag section', bytes: moduleOf(TYPE_VOID, section(13, vec([[0x00, 0x00]]))), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'exception handling', offset: 14 },
  bodyCase('a try block', [0x06, 0x40, 0x0b, 0x0b], 0, { code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'exception handling' }),
  { name: 'a tag import', bytes: moduleOf(TYPE_VOID, section(2, vec([[...name('m'), ...name('t'), 0x04, 0x00, 0x00]]))), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'exception handling' },
  { name: 'call_ref', bytes: moduleWithBodies([body([], [0x14, 0x00, 0x0b])]), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'function references' },
  { name: 'a typed reference local', bytes: moduleWithBodies([body([[1, 0x63]], [0x0b])]), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'function references' },
  { name: 'a struct type', bytes: moduleOf(section(1, vec([[0x5f, 0x00]]))), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'garbage collection' },
  { name: 'a GC instruction', bytes: moduleWithBodies([body([], [0xfb, 0x00, 0x0b])]), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'garbage collection' },
  { name: 'a custom page size', bytes: moduleOf(section(5, vec([[0x08, 0x01, 0x00]]))), code: 'FO_RUNTIME_UNSUPPORTED_FEATURE', feature: 'custom page sizes' },
];
