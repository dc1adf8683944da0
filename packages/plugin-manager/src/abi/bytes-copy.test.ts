import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyBytes, copyOut } from './bytes-copy.js';

/** Bytes 0..n-1 (mod 251), so a shifted or short copy shows. */
const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251);

describe('copies between shared and plain memory (native memmove above 2 KiB)', () => {
  it('copies into and out of a SharedArrayBuffer at every alignment, large and small, leaving the bytes around untouched', () => {
    for (const size of [7, 4096, 70_001]) {
      for (const offset of [0, 1, 3, 8]) {
        const shared = new Uint8Array(new SharedArrayBuffer(size + 16)).fill(0xee);
        const source = pattern(size + 5).subarray(5 - (offset % 5));
        copyBytes(shared, source.subarray(0, size), offset);
        assert.deepEqual(shared.subarray(offset, offset + size), source.subarray(0, size), `${size} B at ${offset}`);
        assert.ok(shared.subarray(0, offset).every((byte) => byte === 0xee) && shared.subarray(offset + size).every((byte) => byte === 0xee), 'nothing outside the range written');
        const out = copyOut(shared.subarray(offset), size);
        assert.deepEqual(out, source.subarray(0, size));
        assert.equal(Object.getPrototypeOf(out), Uint8Array.prototype, 'a plain Uint8Array');
        assert.ok(!(out.buffer instanceof SharedArrayBuffer) && out.byteOffset === 0 && out.buffer.byteLength === size, 'on memory of its own');
      }
    }
  });

  it('refuses a copy that does not fit, as TypedArray#set does, writing nothing', () => {
    const target = new Uint8Array(new SharedArrayBuffer(8192));
    assert.throws(() => copyBytes(target, pattern(4096), 4097), RangeError);
    assert.throws(() => copyBytes(target, pattern(100), 8100), RangeError);
    assert.ok(target.every((byte) => byte === 0));
  });
});
