import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { codeOfSync, throwsCode } from '@forgeone/common/testing';
import { ChannelClosed, KIND, MAX_FRAME_BYTES, decodeFrame, encodeFrame, fromJsonBytes, jsonBytes, readFrame } from './wire.js';

/** An fd reading `bytes` from a temporary file (end of file after them, as a closed FIFO). */
function source(t: TestContext, bytes: Uint8Array): number {
  const dir = mkdtempSync(join(tmpdir(), 'forge-wire-'));
  const path = join(dir, 'frames');
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r');
  t.after(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  return fd;
}

function prefix(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(length >>> 0, 0);
  return bytes;
}

/** What is left to read on `fd`. */
function rest(fd: number): Buffer {
  const buffer = Buffer.alloc(1 << 16);
  const got = readSync(fd, buffer, 0, buffer.length, null);
  return buffer.subarray(0, got);
}

describe('sandbox wire frames (hostile bytes)', () => {
  it('round-trips every kind with its words and payload', (t) => {
    const job = encodeFrame(KIND.JOB, [1, -2, 3, 1, 7], [-(2n ** 63n)], new Uint8Array([9, 8, 7]));
    const done = encodeFrame(KIND.DONE, [0, 4, 12, 1, 7], [5n, 2n ** 63n - 1n]);
    const fd = source(t, Buffer.concat([job, done]));
    const first = readFrame(fd);
    assert.equal(first.kind, KIND.JOB);
    assert.deepEqual(first.ints, [1, -2, 3, 1, 7]);
    assert.deepEqual(first.bigs, [-(2n ** 63n)]);
    assert.deepEqual([...first.payload], [9, 8, 7]);
    const second = readFrame(fd);
    assert.deepEqual([second.kind, second.ints, second.bigs, second.payload.length], [KIND.DONE, [0, 4, 12, 1, 7], [5n, 2n ** 63n - 1n], 0]);
    assert.throws(() => readFrame(fd), ChannelClosed, 'end of file after the last frame');
  });

  it('refuses a 4 GiB length prefix before reading (or allocating) its body', (t) => {
    const after = Buffer.from('the rest of the stream');
    const fd = source(t, Buffer.concat([prefix(0xffff_ffff), Buffer.from([KIND.MSG]), after]));
    const error = throwsCode(() => readFrame(fd), 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.equal(error.details['length'], 0xffff_ffff);
    assert.equal(error.details['limit'], MAX_FRAME_BYTES);
    // Only the prefix was consumed: the body was never read, so never allocated.
    assert.deepEqual(rest(fd), Buffer.concat([Buffer.from([KIND.MSG]), after]));
  });

  it('refuses a frame one byte over the given limit, and a zero length', (t) => {
    const body = Buffer.alloc(17, 0);
    body[0] = KIND.MSG;
    const fd = source(t, Buffer.concat([prefix(17), body]));
    assert.equal(throwsCode(() => readFrame(fd, 16), 'FO_SANDBOX_PROTOCOL_VIOLATION').details['limit'], 16);
    assert.equal(rest(fd).length, 17, 'the body was left unread');
    const atLimit = source(t, Buffer.concat([prefix(17), body]));
    assert.equal(readFrame(atLimit, 17).payload.length, 16, 'a frame at the limit is read');
    const empty = source(t, prefix(0));
    assert.equal(throwsCode(() => readFrame(empty), 'FO_SANDBOX_PROTOCOL_VIOLATION').details['length'], 0);
  });

  it('refuses an unknown kind, including the kinds between the two directions', () => {
    for (const kind of [0, 4, 15, 21, 255]) {
      const error = throwsCode(() => decodeFrame(Buffer.from([kind, 0, 0, 0, 0])), 'FO_SANDBOX_PROTOCOL_VIOLATION', `kind ${kind}`);
      assert.equal(error.details['kind'], kind);
    }
    throwsCode(() => decodeFrame(Buffer.alloc(0)), 'FO_SANDBOX_PROTOCOL_VIOLATION');
  });

  it('refuses a body shorter than its kind words, and reads one exactly as long', () => {
    const done = encodeFrame(KIND.DONE, [0, 0, 0, 0, 0], [0n, 0n]).subarray(4); // 1 + 20 + 16 bytes
    assert.equal(done.length, 37);
    for (const cut of [1, 5, 17, 21, 36]) {
      const error = throwsCode(() => decodeFrame(done.subarray(0, cut)), 'FO_SANDBOX_PROTOCOL_VIOLATION', `${cut} bytes`);
      assert.equal(error.details['length'], cut);
    }
    assert.equal(decodeFrame(done).payload.length, 0);
    const host = encodeFrame(KIND.HOST, [3, 0, 0], [1n]).subarray(4, 20); // 16 of 21 bytes
    throwsCode(() => decodeFrame(host), 'FO_SANDBOX_PROTOCOL_VIOLATION');
  });

  it('reports the end of the channel in the prefix or mid-frame as ChannelClosed, not a frame', (t) => {
    const whole = encodeFrame(KIND.TELEMETRY, [0], [], new Uint8Array(100));
    for (const cut of [0, 2, 4, 5, 50, whole.length - 1]) {
      const fd = source(t, whole.subarray(0, cut));
      assert.throws(() => readFrame(fd), ChannelClosed, `cut at ${cut}`);
    }
  });

  it('refuses to encode words that do not fit the kind (a host-side bug, not a frame)', () => {
    assert.throws(() => encodeFrame(KIND.JOB, [1, 2, 3, 4], [0n]), /bad words/);
    assert.throws(() => encodeFrame(99, [], []), /bad words/);
  });
});

describe('sandbox wire JSON bodies', () => {
  it('round-trips bytes and bigints (nested, at the edges of i64)', () => {
    const backing = new Uint8Array([0, 1, 2, 3, 250, 255, 7]);
    const value = { a: backing.subarray(1, 6), list: [new Uint8Array(0), 5n, -(2n ** 63n)], n: 2n ** 64n - 1n, s: 'x' };
    const back = fromJsonBytes(jsonBytes(value)) as typeof value;
    assert.ok(back.a instanceof Uint8Array);
    assert.deepEqual([...back.a], [1, 2, 3, 250, 255], 'a view is encoded as its own bytes, not its buffer');
    assert.ok(back.list[0] instanceof Uint8Array);
    assert.deepEqual(back.list.slice(1), [5n, -(2n ** 63n)]);
    assert.equal(back.n, 2n ** 64n - 1n);
    assert.equal(back.s, 'x');
  });

  it('keeps look-alike objects that are not exactly one marker as plain objects', () => {
    const parsed = fromJsonBytes(Buffer.from('[{"$big":"1e3"},{"$big":"123456789012345678901"},{"$b64":"AA","x":1},{"$big":7}]')) as unknown[];
    assert.deepEqual(parsed, [{ $big: '1e3' }, { $big: '123456789012345678901' }, { $b64: 'AA', x: 1 }, { $big: 7 }]);
  });

  it('refuses bytes that are not UTF-8, and text that is not JSON', () => {
    for (const bytes of [Buffer.from([0x5b, 0xff, 0x5d]), Buffer.from([0x22, 0xc3, 0x22]), Buffer.from('{"a":'), Buffer.from(''), Buffer.from('[1,]')]) {
      assert.equal(codeOfSync(() => fromJsonBytes(bytes)), 'FO_SANDBOX_PROTOCOL_VIOLATION', JSON.stringify([...bytes]));
    }
  });
});
