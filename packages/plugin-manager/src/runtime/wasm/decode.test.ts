import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import { decodeModule } from './decode.js';
import { encodeModule } from './encode.js';
import { engine } from './engine.js';
import { DEFAULT_MODULE_LIMITS } from './limits.js';
import { Feature } from './opcodes.js';
import { body, moduleOf, moduleWithBodies, name, section, vec } from './test-support/binary.js';
import { MALFORMED_MODULES, UNSUPPORTED_MODULES } from './test-support/hostile.js';
import { wat } from './test-support/wat.js';

describe('decodeModule refuses malformed modules', () => {
  for (const hostile of MALFORMED_MODULES) {
    it(`refuses ${hostile.name} as ${hostile.code}${hostile.offset === undefined ? '' : ` at byte ${hostile.offset}`}, as the engine does`, () => {
      assert.equal(engine.validate(hostile.bytes), false, 'the engine refuses it too');
      assert.throws(() => decodeModule(hostile.bytes), hasCode(hostile.code, hostile.offset === undefined ? {} : { offset: hostile.offset }));
    });
  }

  it('says what it expected and what it found', () => {
    assert.throws(
      () => decodeModule(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0])),
      (error: unknown) => ForgeError.is(error) && /expected binary format version 1, found bytes 0x02 0x00 0x00 0x00/.test(error.message),
    );
  });
});

describe('decodeModule refuses proposals it does not instrument', () => {
  for (const hostile of UNSUPPORTED_MODULES) {
    it(`refuses ${hostile.name} as ${hostile.code} naming ${hostile.feature ?? ''}`, () => {
      assert.throws(() => decodeModule(hostile.bytes), hasCode(hostile.code, { feature: hostile.feature, ...(hostile.offset === undefined ? {} : { offset: hostile.offset }) }));
    });
  }
});

describe('decodeModule enforces size limits', () => {
  it('refuses a module larger than maxModuleBytes before reading it', () => {
    const bytes = moduleWithBodies([body([], [0x0b])]);
    assert.throws(() => decodeModule(bytes, { limits: { maxModuleBytes: bytes.length - 1 } }), hasCode('FO_RUNTIME_MODULE_TOO_LARGE', { actual: bytes.length, limit: bytes.length - 1 }));
    assert.doesNotThrow(() => decodeModule(bytes, { limits: { maxModuleBytes: bytes.length } }));
  });

  it('refuses more functions than maxFunctions, counting imported ones', () => {
    const bytes = moduleOf(
      section(1, vec([[0x60, 0x00, 0x00]])),
      section(2, vec([[...name('m'), ...name('f'), 0x00, 0x00]])),
      section(3, vec([[0x00], [0x00]])),
      section(10, vec([body([], [0x0b]), body([], [0x0b])])),
    );
    assert.throws(() => decodeModule(bytes, { limits: { maxFunctions: 2 } }), hasCode('FO_RUNTIME_TOO_MANY_FUNCTIONS', { actual: 3, limit: 2 }));
    assert.doesNotThrow(() => decodeModule(bytes, { limits: { maxFunctions: 3 } }));
  });

  it('refuses a body larger than maxFunctionBodyBytes, naming the function', () => {
    const bytes = moduleWithBodies([body([], [0x0b]), body([], [0x01, 0x01, 0x01, 0x0b])]);
    assert.throws(() => decodeModule(bytes, { limits: { maxFunctionBodyBytes: 4 } }), hasCode('FO_RUNTIME_FUNCTION_TOO_LARGE', { function: 1, actual: 5 }));
  });

  it('refuses more locals than maxLocalsPerFunction, even when one declaration claims 2^32-1 of them', () => {
    const many = moduleWithBodies([body([[DEFAULT_MODULE_LIMITS.maxLocalsPerFunction + 1, 0x7f]], [0x0b])]);
    assert.throws(() => decodeModule(many), hasCode('FO_RUNTIME_TOO_MANY_LOCALS', { function: 0, limit: DEFAULT_MODULE_LIMITS.maxLocalsPerFunction }));
    const huge = moduleWithBodies([body([[0xffff_ffff, 0x7f]], [0x0b])]);
    assert.throws(() => decodeModule(huge), hasCode('FO_RUNTIME_TOO_MANY_LOCALS', { actual: 0xffff_ffff }));
    const split = moduleWithBodies([body([[3, 0x7f], [3, 0x7e]], [0x0b])]);
    assert.throws(() => decodeModule(split, { limits: { maxLocalsPerFunction: 5 } }), hasCode('FO_RUNTIME_TOO_MANY_LOCALS', { actual: 6 }));
  });

  it('refuses a malformed limit as FO_LIMIT_INVALID', () => {
    assert.throws(() => decodeModule(moduleOf(), { limits: { maxFunctions: -1 } }), hasCode('FO_LIMIT_INVALID'));
    assert.throws(() => decodeModule(moduleOf(), { limits: { maxModuleBytes: 1.5 } }), hasCode('FO_LIMIT_INVALID'));
  });
});

describe('decodeModule reads encodings Node 20 does not run yet', () => {
  it('reads a multi-memory memarg (flag 0x40 and a memory index) and reports multi-memory', () => {
    const code = [0x41, 0x00, 0x28, 0x42, 0x01, 0x00, 0x1a, 0x0b]; // i32.load memory=1 align=4 offset=0
    const bytes = moduleOf(section(1, vec([[0x60, 0x00, 0x00]])), section(3, vec([[0x00]])), section(5, vec([[0x00, 0x01], [0x00, 0x01]])), section(10, vec([body([], code)])));
    const { module, features } = decodeModule(bytes);
    assert.equal(module.memories.length, 2);
    assert.ok(features & Feature.multiMemory);
    assert.deepEqual(encodeModule(module), bytes);
  });

  it('reads memory64 limits and 64-bit memarg offsets, and refuses the same offset for a 32-bit memory', () => {
    const code = [0x42, 0x00, 0x28, 0x02, 0x80, 0x80, 0x80, 0x80, 0x10, 0x1a, 0x0b]; // offset 2^32
    const module64 = moduleOf(section(1, vec([[0x60, 0x00, 0x00]])), section(3, vec([[0x00]])), section(5, vec([[0x05, 0x01, 0x80, 0x80, 0x04]])), section(10, vec([body([], code)])));
    const { module, features } = decodeModule(module64);
    assert.deepEqual(module.memories[0], { min: 1, max: 65536, shared: false, index64: true });
    assert.ok(features & Feature.memory64);
    assert.deepEqual(encodeModule(module), module64);
    const module32 = moduleOf(section(1, vec([[0x60, 0x00, 0x00]])), section(3, vec([[0x00]])), section(5, vec([[0x00, 0x01]])), section(10, vec([body([], code)])));
    assert.throws(() => decodeModule(module32), hasCode('FO_RUNTIME_MALFORMED_MODULE'));
  });
});

describe('decodeModule and encodeModule round trip', () => {
  it('re-encodes a module assembled by wabt byte for byte, name section included', async () => {
    const bytes = await wat(
      `(module (import "env" "f" (func $f (param i32) (result i64))) (memory (export "memory") 1 2)
        (global $g (mut i32) (i32.const 5)) (table 2 funcref) (elem (i32.const 0) $f $h)
        (func $h (export "h") (param $x i32) (result i64) (call $f (i32.add (local.get $x) (global.get $g))))
        (data (i32.const 8) "hello") (start $s) (func $s))`,
      { names: true },
    );
    const { module } = decodeModule(bytes);
    assert.ok(module.sections.some((entry) => entry.id === 0 && entry.custom.name === 'name'));
    assert.deepEqual(encodeModule(module), bytes);
  });

  it('keeps custom sections byte for byte and in place, wherever they are', () => {
    const custom = (text: string) => section(0, [...name(text), 1, 2, 3]);
    const bytes = moduleOf(custom('first'), section(1, vec([[0x60, 0x00, 0x00]])), custom('middle'), section(3, vec([[0x00]])), section(10, vec([body([], [0x0b])])), custom('last'));
    const { module } = decodeModule(bytes);
    assert.deepEqual(
      module.sections.map((entry) => (entry.id === 0 ? entry.custom.name : entry.id)),
      ['first', 1, 'middle', 3, 10, 'last'],
    );
    assert.deepEqual(encodeModule(module), bytes);
  });

  it('keeps empty sections and re-encodes padded section sizes canonically, leaving bodies untouched', () => {
    // The type section's size is a padded 5-byte LEB128; the body holds a padded i32.const.
    const code = [0x41, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b];
    const bytes = moduleOf([0x01, 0x84, 0x80, 0x80, 0x80, 0x00, 0x01, 0x60, 0x00, 0x00], section(3, vec([[0x00]])), section(6, vec([])), section(10, vec([body([], code)])));
    const encoded = encodeModule(decodeModule(bytes).module);
    assert.equal(encoded.length, bytes.length - 4);
    assert.ok(engine.validate(encoded));
    assert.deepEqual([...encoded.subarray(encoded.length - code.length)], code);
    assert.deepEqual(encodeModule(decodeModule(encoded).module), encoded);
  });
});
