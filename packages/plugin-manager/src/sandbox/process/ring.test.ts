/**
 * Frames written and read in place in the shared ring (ring.ts send, read, tryRead): at
 * every position, including frames and length prefixes that wrap around the ring's end
 * (those are copied out whole), with the payload the host takes copied out of the memory
 * the sandbox can still write. The hostile side is ring.fuzz.test.ts and direct.test.ts.
 */
import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { RING_BYTES, RING_CAPACITY, RingChannel, sharedMemory } from './ring.js';
import { KIND, type Frame } from './wire.js';

/** A host and a sandbox side over one fresh memfd, each with its own mapping (as two processes have). */
function pair(t: TestContext): { host: RingChannel; sandbox: RingChannel; up: Uint8Array } {
  const memory = sharedMemory();
  assert.ok(memory !== undefined, 'native/shared-memory.node is built (npm run build)');
  const memfd = memory.create(RING_BYTES);
  t.after(() => closeSync(memfd));
  // The doorbells are descriptors nobody uses: no side parks here, so none is rung.
  const host = new RingChannel(memory.map(memfd, RING_BYTES), 'host', -1, -1);
  const mapped = memory.map(memfd, RING_BYTES);
  const sandbox = new RingChannel(mapped, 'sandbox', -1, -1);
  return { host, sandbox, up: new Uint8Array(mapped, 4096 + RING_CAPACITY, RING_CAPACITY) };
}

const bytes = (length: number, seed: number): Uint8Array => new Uint8Array(length).map((_, i) => (i * 31 + seed) & 0xff);

function assertFrame(frame: Frame | undefined, kind: number, ints: number[], bigs: bigint[], payload: Uint8Array, what: string): void {
  assert.ok(frame !== undefined, `${what}: a frame`);
  assert.deepEqual([frame.kind, frame.ints, frame.bigs], [kind, ints, bigs], what);
  assert.deepEqual(frame.payload, payload, what);
}

describe('shared ring frames written and read in place (ring.ts)', () => {
  it('round-trips JOB and DONE frames starting anywhere before the ring’s end, a wrapped length prefix included', (t) => {
    for (const before of [1, 2, 3, 4, 5, 6, 17, 20, 40, 53, 64]) {
      const { host, sandbox } = pair(t);
      // A MSG frame (no words) that leaves the write positions `before` bytes short of the end.
      const filler = bytes(RING_CAPACITY - before - 5, before);
      host.send(KIND.MSG, [], [], filler);
      assertFrame(sandbox.read(), KIND.MSG, [], [], filler, `filler down, ${before}`);
      sandbox.send(KIND.MSG, [], [], filler);
      assertFrame(host.tryRead((frame) => frame), KIND.MSG, [], [], filler, `filler up, ${before}`);
      // The next frames start `before` bytes short of the end and wrap.
      const input = bytes(16, 7 + before);
      host.send(KIND.JOB, [1, -2, 3, 1, 9], [-(2n ** 63n)], input);
      assertFrame(sandbox.read(), KIND.JOB, [1, -2, 3, 1, 9], [-(2n ** 63n)], input, `JOB wrapping ${before}`);
      sandbox.send(KIND.DONE, [0, 4, 12, 1, 9], [5n, 2n ** 63n - 1n], input);
      assert.deepEqual(host.peek(), { length: 1 + 36 + 16, kind: KIND.DONE }, `peek wrapping ${before}`);
      assertFrame(host.tryRead((frame) => frame), KIND.DONE, [0, 4, 12, 1, 9], [5n, 2n ** 63n - 1n], input, `DONE wrapping ${before}`);
      // And the frames after the wrap are read in place again.
      sandbox.send(KIND.DONE, [2, 0, 0, 0, 10], [0n, 0n]);
      assertFrame(host.read(), KIND.DONE, [2, 0, 0, 0, 10], [0n, 0n], new Uint8Array(0), `DONE after the wrap ${before}`);
      assert.equal(host.peek(), undefined, 'nothing left');
    }
  });

  it('writes a large frame that does not fit before the ring’s end in two pieces, and reads it whole', (t) => {
    const { host, sandbox } = pair(t);
    const large = bytes(RING_CAPACITY - 4096, 3);
    sandbox.send(KIND.DONE, [0, 0, 0, 1, 1], [0n, 0n], large.subarray(0, 64));
    assertFrame(host.read(), KIND.DONE, [0, 0, 0, 1, 1], [0n, 0n], large.subarray(0, 64), 'a small frame first');
    sandbox.send(KIND.DONE, [0, 0, 0, 1, 1], [0n, 0n], large);
    assertFrame(host.read(), KIND.DONE, [0, 0, 0, 1, 1], [0n, 0n], large, 'a frame that wraps');
  });

  it('gives the host a copy of a payload: the sandbox rewriting the ring after cannot change what the host took', (t) => {
    const { host, sandbox, up } = pair(t);
    const answer = bytes(32, 9);
    sandbox.send(KIND.DONE, [0, 0, 0, 1, 1], [0n, 0n], answer);
    const taken = host.tryRead((frame) => frame);
    assert.ok(taken !== undefined);
    up.fill(0xee, 0, 128);
    assert.deepEqual(taken.payload, answer);
  });

  it('takes nothing while a frame is not whole in the ring, and takes it once it is', (t) => {
    const { host, sandbox } = pair(t);
    assert.equal(host.tryRead((frame) => frame), undefined, 'an empty ring');
    sandbox.send(KIND.DONE, [0, 0, 0, 1, 1], [0n, 0n], bytes(8, 1));
    assert.equal(
      host.tryRead(() => undefined),
      undefined,
      'a frame `use` refuses stays',
    );
    assert.equal(
      host.tryRead((frame) => frame, 16),
      undefined,
      'a frame over the limit stays',
    );
    assertFrame(host.tryRead((frame) => frame), KIND.DONE, [0, 0, 0, 1, 1], [0n, 0n], bytes(8, 1), 'then taken');
  });
});
