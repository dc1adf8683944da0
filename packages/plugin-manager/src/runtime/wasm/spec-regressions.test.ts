/**
 * Cases of the official WebAssembly spec suite (WebAssembly/testsuite) that ForgeOne's
 * decoder or instrumenter once got wrong, kept here byte for byte with the .wast file
 * and line they come from, so the fixes stay fixed without fetching the suite.
 * `node scripts/spec-suite.mjs --suite DIR` runs the whole suite (docs/spec-suite.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { decodeModule } from './decode.js';
import { encodeModule } from './encode.js';
import { engine } from './engine.js';
import { instrumentModule, type InstrumentOptions } from './instrument.js';

/** Bytes from the strings of a `(module binary ...)`: `\hh` escapes and plain characters, as the .wast writes them. */
function wastBinary(...parts: readonly string[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    for (let i = 0; i < part.length; i += 1) {
      if (part[i] === '\\') {
        out.push(Number.parseInt(part.slice(i + 1, i + 3), 16));
        i += 2;
      } else out.push(part.charCodeAt(i));
    }
  }
  return Uint8Array.from(out);
}

/** Every option set under which an invalid module must stay refused (the spec-suite script's). */
const OPTION_SETS: readonly InstrumentOptions[] = [
  { fuel: true },
  { fuel: true, maxMemoryBytes: 65_536 * 65_536, maxTableElements: 10_000_000 },
  { fuel: true, maxMemoryBytes: 65_536, maxTableElements: 1 },
  { fuel: false, memoryBudgetBytes: 64 * 65_536 },
];

interface RefusedCase {
  /** The .wast file(s) and line(s) of the assertion. */
  readonly from: string;
  /** The module as the .wast writes it. */
  readonly source: string;
  readonly bytes: Uint8Array;
  /** What the spec says it is. */
  readonly spec: 'assert_invalid' | 'assert_malformed';
}

// `(module (memory 0 N))`: a memory section with one memory, flags 0x01 (a maximum), minimum 0, maximum N.
const memoryMax = (leb: string) => wastBinary('\\00asm\\01\\00\\00\\00', `\\05\\0${(3 + leb.length / 3).toString(16)}\\01\\01\\00${leb}`);

const REFUSED: readonly RefusedCase[] = [
  {
    from: 'memory.wast:65, proposals/threads/memory.wast:71',
    source: '(module (memory 0 65537))',
    bytes: memoryMax('\\81\\80\\04'),
    spec: 'assert_invalid',
  },
  {
    from: 'memory.wast:69, proposals/threads/memory.wast:75',
    source: '(module (memory 0 2147483648))',
    bytes: memoryMax('\\80\\80\\80\\80\\08'),
    spec: 'assert_invalid',
  },
  {
    from: 'memory.wast:73, proposals/threads/memory.wast:79',
    source: '(module (memory 0 4294967295))',
    bytes: memoryMax('\\ff\\ff\\ff\\ff\\0f'),
    spec: 'assert_invalid',
  },
  {
    from: 'memory.wast:49 ("size minimum must not be greater than maximum")',
    source: '(module (memory 1 0))',
    bytes: wastBinary('\\00asm\\01\\00\\00\\00', '\\05\\04\\01\\01\\01\\00'),
    spec: 'assert_invalid',
  },
  {
    from: 'binary.wast:303 ("data count section required")',
    source: 'memory.init 0 in a module with a data segment and no data count section',
    bytes: wastBinary(
      '\\00asm',
      '\\01\\00\\00\\00',
      '\\01\\04\\01\\60\\00\\00',
      '\\03\\02\\01\\00',
      '\\05\\03\\01\\00\\00',
      '\\0a\\0e\\01',
      '\\0c\\00',
      '\\41\\00',
      '\\41\\00',
      '\\41\\00',
      '\\fc\\08\\00\\00',
      '\\0b',
      '\\0b\\03\\01\\01\\00',
    ),
    spec: 'assert_malformed',
  },
  {
    from: 'binary.wast:326 ("data count section required")',
    source: 'data.drop 0 in a module with a data segment and no data count section',
    bytes: wastBinary('\\00asm', '\\01\\00\\00\\00', '\\01\\04\\01\\60\\00\\00', '\\03\\02\\01\\00', '\\05\\03\\01\\00\\00', '\\0a\\07\\01', '\\05\\00', '\\fc\\09\\00', '\\0b', '\\0b\\03\\01\\01\\00'),
    spec: 'assert_malformed',
  },
  {
    from: 'align.wast:968 ("malformed memop flags")',
    source: 'i32.load with memarg flags 0x80 0x01 (2^128 alignment)',
    bytes: wastBinary('\\00asm', '\\01\\00\\00\\00', '\\01\\04\\01\\60\\00\\00', '\\03\\02\\01\\00', '\\05\\03\\01\\00\\01', '\\0a\\0b\\01', '\\09\\00', '\\41\\00', '\\28\\80\\01\\00', '\\1a', '\\0b'),
    spec: 'assert_malformed',
  },
  {
    from: 'align.wast:987 ("malformed memop flags")',
    source: 'i32.load with memarg flags 0x80 0x02 (flags above 0xff whose low byte is 0)',
    bytes: wastBinary('\\00asm', '\\01\\00\\00\\00', '\\01\\04\\01\\60\\00\\00', '\\03\\02\\01\\00', '\\05\\03\\01\\00\\01', '\\0a\\0b\\01', '\\09\\00', '\\41\\00', '\\28\\80\\02\\00', '\\1a', '\\0b'),
    spec: 'assert_malformed',
  },
];

describe('spec suite regressions: invalid in, refused out', () => {
  for (const { from, source, bytes, spec } of REFUSED) {
    it(`${from}: ${source} is refused as FO_RUNTIME_MALFORMED_MODULE by the decoder and under every instrumentation`, () => {
      assert.equal(engine.validate(bytes), false, `the engine refuses it too (${spec})`);
      assert.throws(() => decodeModule(bytes), hasCode('FO_RUNTIME_MALFORMED_MODULE'));
      for (const options of OPTION_SETS) assert.throws(() => instrumentModule(bytes, options), hasCode('FO_RUNTIME_MALFORMED_MODULE'));
    });
  }

  it('an imported memory declaring a maximum above 65536 pages is refused, not clamped into a valid import', () => {
    // (module (import "m" "mem" (memory 0 65537))): not in the suite, the same rule on an import.
    const bytes = wastBinary('\\00asm\\01\\00\\00\\00', '\\02\\0d\\01\\01m\\03mem\\02\\01\\00\\81\\80\\04');
    assert.equal(engine.validate(bytes), false);
    assert.throws(() => instrumentModule(bytes, { fuel: true, maxMemoryBytes: 65_536 }), hasCode('FO_RUNTIME_MALFORMED_MODULE'));
  });

  it('a memory of exactly 65536 pages, and a 64-bit one of 2^48 (memory64.wast:9), stay valid', () => {
    const memory32 = memoryMax('\\80\\80\\04');
    assert.equal(engine.validate(memory32), true);
    assert.doesNotThrow(() => instrumentModule(memory32, { fuel: true, maxMemoryBytes: 65_536 * 65_536 }));
    // (module (memory i64 0 0x1_0000_0000_0000)): flags 0x05, minimum 0, maximum 2^48.
    const memory64 = wastBinary('\\00asm\\01\\00\\00\\00', '\\05\\0a\\01\\05\\00\\80\\80\\80\\80\\80\\80\\40');
    assert.deepEqual(decodeModule(memory64).module.memories, [{ min: 0, max: 2 ** 48, shared: false, index64: true }]);
  });

  it('a 64-bit memory of 2^48 + 1 pages is refused (memory64.wast, "memory size must be at most 2^48 pages")', () => {
    const bytes = wastBinary('\\00asm\\01\\00\\00\\00', '\\05\\0a\\01\\05\\00\\81\\80\\80\\80\\80\\80\\40');
    assert.throws(() => decodeModule(bytes), hasCode('FO_RUNTIME_MALFORMED_MODULE'));
  });
});

describe('spec suite regressions: valid in, accepted', () => {
  // binary_leb128_64.wast:1: i32.load on a 64-bit memory with the offset 2^64 - 1 (10-byte LEB128).
  const offsetMax = wastBinary(
    '\\00asm',
    '\\01\\00\\00\\00',
    '\\01\\04\\01\\60\\00\\00',
    '\\03\\02\\01\\00',
    '\\05\\03\\01\\04\\00',
    '\\0a\\13\\01',
    '\\11\\00',
    '\\42\\00',
    '\\28',
    '\\02',
    '\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\01',
    '\\1a',
    '\\0b',
  );

  it('binary_leb128_64.wast:1: a memory64 offset of 2^64 - 1 decodes, re-encodes byte for byte and instruments', () => {
    // Node 20's engine does not run memory64, so the module cannot be run against the original here.
    const { module } = decodeModule(offsetMax);
    assert.deepEqual(encodeModule(module), offsetMax);
    const { bytes } = instrumentModule(offsetMax, { fuel: true });
    const body = decodeModule(bytes).module.code[0];
    assert.ok(body !== undefined);
    const text = Array.from(body.code, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
    assert.match(text, /28 02 ff ff ff ff ff ff ff ff ff 01 1a/, 'the load and its offset are copied as they were');
  });

  // table64.wast:10: (module (table i64 0 0xffff_ffff_ffff_ffff funcref)): flags 0x05, minimum 0, maximum 2^64 - 1.
  const table64Max = wastBinary('\\00asm\\01\\00\\00\\00', '\\04\\0e\\01\\70\\05\\00\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\01');

  it('table64.wast:10: a table64 maximum of 2^64 - 1 decodes (read as 2^53 - 1) and instruments, clamped to the table cap', () => {
    assert.deepEqual(decodeModule(table64Max).module.tables, [{ refType: 0x70, limits: { min: 0, max: Number.MAX_SAFE_INTEGER, shared: false, index64: true } }]);
    const { bytes } = instrumentModule(table64Max, { fuel: true, maxTableElements: 10 });
    assert.deepEqual(decodeModule(bytes).module.tables.map((table) => table.limits.max), [10]);
  });

  it('a table64 minimum above 2^53 is still refused (no engine makes such a table)', () => {
    // (table i64 0x100_0000_0000_0000 0xffff_ffff_ffff_ffff funcref): minimum 2^56 (a 9-byte LEB128).
    const huge = wastBinary('\\00asm\\01\\00\\00\\00', '\\04\\16\\01\\70\\05\\80\\80\\80\\80\\80\\80\\80\\80\\01\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\01');
    assert.throws(() => decodeModule(huge), (error: unknown) => hasCode('FO_RUNTIME_MALFORMED_MODULE')(error) && /at most 2\^53/.test((error as Error).message));
  });

  it('binary_leb128_64.wast:16: the same offset with a bit past 2^64 is still malformed', () => {
    const tooWide = offsetMax.slice();
    tooWide[tooWide.length - 3] = 0x02;
    assert.throws(() => decodeModule(tooWide), hasCode('FO_RUNTIME_MALFORMED_MODULE'));
  });
});
