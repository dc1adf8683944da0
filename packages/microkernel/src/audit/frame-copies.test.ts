import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameCopies } from './frame-copies.js';

// Every byte value a frame can hold (latin1), in an odd length.
const FRAME = Array.from({ length: 301 }, (_, i) => String.fromCharCode((i * 37 + 11) & 0xff)).join('');

describe('FrameCopies', () => {
  for (const [kind, make] of [
    ['shared', (size: number) => Buffer.from(new SharedArrayBuffer(size))],
    ['plain', (size: number) => Buffer.alloc(size)],
    ['offset view of shared', (size: number) => Buffer.from(new SharedArrayBuffer(size + 5), 5)],
  ] as const) {
    it(`copies exactly the frame's bytes at every offset of a ${kind} buffer, and nothing around them`, () => {
      const copies = new FrameCopies(FRAME);
      for (let at = 0; at < 24; at += 1) {
        const buf = make(FRAME.length + 48);
        buf.fill(0xee);
        copies.copyTo(buf, at, buf.byteOffset);
        assert.equal(buf.toString('latin1', at, at + FRAME.length), FRAME, `at ${at}`);
        assert.ok(buf.subarray(0, at).every((byte) => byte === 0xee), `before ${at}`);
        assert.ok(buf.subarray(at + FRAME.length).every((byte) => byte === 0xee), `after ${at}`);
      }
    });
  }

  it('write() changes the bytes of every copy, and refuses text that does not fit the frame (RangeError)', () => {
    const copies = new FrameCopies(FRAME);
    copies.write('2026-12-08T02:09:08.715Z', 7);
    const expected = `${FRAME.slice(0, 7)}2026-12-08T02:09:08.715Z${FRAME.slice(31)}`;
    for (let at = 0; at < 8; at += 1) {
      const buf = Buffer.from(new SharedArrayBuffer(FRAME.length + 8));
      copies.copyTo(buf, at, buf.byteOffset);
      assert.equal(buf.toString('latin1', at, at + FRAME.length), expected, `at ${at}`);
    }
    assert.throws(() => copies.write('xy', FRAME.length - 1), RangeError);
    assert.throws(() => copies.write('x', -1), RangeError);
  });
});
