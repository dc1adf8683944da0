import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { ByteReader } from './reader.js';
import { Random } from './test-support/random.js';
import { ByteWriter } from './writer.js';

const read = (bytes: number[]) => new ByteReader(Uint8Array.from(bytes));
const malformedAt = (offset: number) => (error: unknown): boolean => {
  assert.ok(ForgeError.is(error, 'FO_RUNTIME_MALFORMED_MODULE'), String(error));
  assert.equal(error.details['offset'], offset, error.message);
  return true;
};

describe('ByteReader LEB128', () => {
  it('reads unsigned 32-bit values in their shortest and padded forms', () => {
    assert.equal(read([0x00]).u32('x'), 0);
    assert.equal(read([0xe5, 0x8e, 0x26]).u32('x'), 624_485);
    assert.equal(read([0x80, 0x80, 0x80, 0x80, 0x00]).u32('x'), 0);
    assert.equal(read([0xff, 0xff, 0xff, 0xff, 0x0f]).u32('x'), 0xffff_ffff);
  });

  it('refuses an unsigned 32-bit value longer than 5 bytes or wider than 32 bits', () => {
    assert.throws(() => read([0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).u32('x'), malformedAt(0));
    assert.throws(() => read([0xff, 0xff, 0xff, 0xff, 0x1f]).u32('x'), malformedAt(0));
  });

  it('refuses a LEB128 cut off by the end of its section', () => {
    const reader = new ByteReader(Uint8Array.from([0x00, 0x80, 0x80, 0x01]), 1, 3);
    assert.throws(() => reader.u32('x'), malformedAt(1));
  });

  it('reads signed 32-bit values and checks the sign bits of a fifth byte', () => {
    assert.equal(read([0x7f]).s32('x'), -1);
    assert.equal(read([0x80, 0x7f]).s32('x'), -128);
    assert.equal(read([0xff, 0xff, 0xff, 0xff, 0x07]).s32('x'), 0x7fff_ffff);
    assert.equal(read([0x80, 0x80, 0x80, 0x80, 0x78]).s32('x'), -0x8000_0000);
    assert.throws(() => read([0xff, 0xff, 0xff, 0xff, 0x0f]).s32('x'), malformedAt(0));
    assert.throws(() => read([0x80, 0x80, 0x80, 0x80, 0x70]).s32('x'), malformedAt(0));
  });

  it('reads 33-bit block types with a wider fifth byte than s32', () => {
    assert.equal(read([0xff, 0xff, 0xff, 0xff, 0x0f]).s33('x'), 0xffff_ffff);
    assert.equal(read([0x40]).s33('x'), -64);
    assert.throws(() => read([0xff, 0xff, 0xff, 0xff, 0x1f]).s33('x'), malformedAt(0));
  });

  it('skips signed 64-bit values, allowing only 0x00 or 0x7f as a tenth byte', () => {
    const max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
    const reader = read([...max, 0x2a]);
    reader.skipS64('x');
    assert.equal(reader.pos, 10);
    assert.throws(() => read([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).skipS64('x'), malformedAt(0));
    assert.throws(() => read([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).skipS64('x'), malformedAt(0));
  });

  it('agrees with ByteWriter on random values in both directions', () => {
    const rng = new Random(7);
    for (let round = 0; round < 2000; round += 1) {
      const unsigned = rng.int(2 ** 32);
      const signed = rng.i32();
      const w = new ByteWriter(4).uleb(unsigned).sleb(signed).sleb(signed * 2);
      const reader = new ByteReader(w.finish());
      assert.equal(reader.u32('u'), unsigned);
      assert.equal(reader.s32('s'), signed);
      assert.equal(reader.s33('s33'), signed * 2);
      assert.ok(reader.done);
    }
  });

  it('writes 64-bit bigints as the shortest signed LEB128', () => {
    assert.deepEqual([...new ByteWriter().sleb64(-1n).finish()], [0x7f]);
    assert.deepEqual([...new ByteWriter().sleb64(64n).finish()], [0xc0, 0x00]);
    assert.deepEqual([...new ByteWriter().sleb64(2n ** 63n - 1n).finish()], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
  });
});

describe('ByteReader names', () => {
  it('decodes UTF-8 names and refuses invalid UTF-8 at the name', () => {
    assert.equal(read([0x03, 0x66, 0xc3, 0xa9]).name('x'), 'fé');
    assert.throws(() => read([0x02, 0xc3, 0x28]).name('x'), malformedAt(1));
  });

  it('refuses a name longer than what is left', () => {
    assert.throws(() => read([0x05, 0x61]).name('x'), malformedAt(1));
  });
});
