/**
 * Fuzz: the host's side of the shared ring (ring.ts) as the host thread's direct path
 * reads it (direct.ts), against a sandbox that writes anything into the memory both map:
 * honest frames, garbage bytes, sequence words and read positions of any value, in any
 * order. After each move the host peeks, tries to take a DONE, and asks whether a frame
 * fits. Each of those returns or throws FO_SANDBOX_PROTOCOL_VIOLATION, nothing else; the
 * host's read position moves only when it takes a frame, and then by exactly that
 * frame's length; a frame taken is the bytes that were in the ring, decoded.
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { RING_BYTES, RING_CAPACITY, RING_WORDS, RingChannel, sharedMemory } from './ring.js';
import { KIND, encodeFrame, type Frame } from './wire.js';

type Move =
  | { readonly kind: 'frame'; readonly frameKind: number; readonly payload: Uint8Array }
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array }
  | { readonly kind: 'written'; readonly value: number }
  | { readonly kind: 'read'; readonly value: number }
  | { readonly kind: 'skip'; readonly by: number };

const KINDS = Object.values(KIND);
const move: fc.Arbitrary<Move> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('frame' as const), frameKind: fc.oneof({ arbitrary: fc.constant(KIND.DONE), weight: 3 }, fc.constantFrom(...KINDS), fc.integer({ min: 0, max: 255 })), payload: fc.uint8Array({ maxLength: 64 }) }), weight: 4 },
  fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('written' as const), value: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -8, max: RING_CAPACITY + 8 })) }),
  fc.record({ kind: fc.constant('read' as const), value: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -8, max: 64 })) }),
  fc.record({ kind: fc.constant('skip' as const), by: fc.integer({ min: 1, max: 2 * RING_CAPACITY }) }),
);

/** The frame for a kind, with the words its layout needs (an unknown kind gets none). */
function frameBytes(kind: number, payload: Uint8Array): Uint8Array {
  const layouts: Record<number, [number, number]> = { [KIND.JOB]: [5, 1], [KIND.REPLY]: [1, 1], [KIND.HOST]: [3, 1], [KIND.DONE]: [5, 2], [KIND.TELEMETRY]: [1, 0] };
  const [ints, bigs] = layouts[kind] ?? [0, 0];
  if (KINDS.includes(kind as never)) return encodeFrame(kind, new Array<number>(ints).fill(1), new Array<bigint>(bigs).fill(0n), payload);
  const raw = Buffer.alloc(5 + payload.length);
  raw.writeUInt32LE(1 + payload.length, 0);
  raw.writeUInt8(kind, 4);
  raw.set(payload, 5);
  return raw;
}

function isViolation(error: unknown): boolean {
  return ForgeError.is(error, 'FO_SANDBOX_PROTOCOL_VIOLATION');
}

describe('fuzz: the host’s side of the shared ring against a hostile sandbox', () => {
  const memory = sharedMemory();
  const memfd = memory?.create(RING_BYTES);
  after(() => {
    if (memfd !== undefined) closeSync(memfd);
  });

  it('returns or refuses with FO_SANDBOX_PROTOCOL_VIOLATION, and takes exactly the frames it returns', async () => {
    assert.ok(memory !== undefined && memfd !== undefined, 'native/shared-memory.node is built (npm run build)');
    const shared = memory.map(memfd, RING_BYTES);
    const words = new Int32Array(shared, 0, 1024);
    const up = new Uint8Array(shared, 4096 + RING_CAPACITY, RING_CAPACITY);
    const prop = fc.property(fc.array(move, { minLength: 1, maxLength: 40 }), (moves) => {
      words.fill(0);
      const cursor = new SharedArrayBuffer(RingChannel.cursorBytes);
      const position = new Int32Array(cursor);
      // The doorbells are descriptors nobody uses here: a ring never happens while the words say nobody parked.
      const host = new RingChannel(memory.map(memfd, RING_BYTES), 'host', -1, -1, cursor);
      let written = 0; // what the sandbox has put in the ring, mod 2^32, as it tracks it
      const put = (bytes: Uint8Array): void => {
        for (let i = 0; i < bytes.length; i += 1) up[(written + i) % RING_CAPACITY] = bytes[i] as number;
        written = (written + bytes.length) >>> 0;
        Atomics.store(words, RING_WORDS.UP_WRITTEN, written | 0);
      };
      for (const m of moves) {
        if (m.kind === 'frame') put(frameBytes(m.frameKind, m.payload));
        else if (m.kind === 'garbage') put(m.bytes);
        else if (m.kind === 'written') Atomics.store(words, RING_WORDS.UP_WRITTEN, (written = m.value >>> 0) | 0);
        else if (m.kind === 'read') Atomics.store(words, RING_WORDS.DOWN_READ, m.value | 0);
        else written = (written + m.by) >>> 0;
        words[RING_WORDS.SANDBOX_PARKED] = 0;
        words[RING_WORDS.HOST_PARKED] = 0;
        for (const step of ['peek', 'take', 'fits'] as const) {
          const before = position[1] as number;
          const at = before >>> 0;
          const expectedLength = (up[at % RING_CAPACITY] as number) | ((up[(at + 1) % RING_CAPACITY] as number) << 8) | ((up[(at + 2) % RING_CAPACITY] as number) << 16) | ((up[(at + 3) % RING_CAPACITY] as number) * 2 ** 24);
          let taken: Frame | undefined;
          try {
            if (step === 'peek') host.peek();
            else if (step === 'fits') host.fits(16);
            else taken = host.tryRead((frame) => (frame.kind === KIND.DONE ? frame : undefined), RING_CAPACITY - 4);
          } catch (error) {
            if (!isViolation(error)) throw error;
          }
          const moved = ((position[1] as number) - before) >>> 0;
          if (taken === undefined) assert.equal(moved, 0, `${step} took nothing, so the read position stays`);
          else {
            assert.equal(moved, 4 + expectedLength, 'a taken frame moves the read position by its length');
            assert.equal(taken.kind, KIND.DONE);
            assert.deepEqual([taken.ints.length, taken.bigs.length], [5, 2]);
          }
        }
      }
    });
    await runFuzz('ring.fuzz', 300, (settings) => fc.check(prop, settings), (details) => fc.defaultReportMessage(details));
  });
});
