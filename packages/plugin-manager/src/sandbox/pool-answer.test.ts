import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnswerSizes, PREPARE_FROM_BYTES, prepareAnswer, takeInto } from './pool-answer.js';
import { PoolBackend } from './pool.js';
import { CORE_GUEST } from './test-support/guests.js';
import { RecordingHost, pluginSpec } from './test-support/specs.js';

/** `bytes` bytes, each from `seed`, so two payloads of one size still differ. */
function payload(bytes: number, seed: number): Uint8Array {
  const array = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 1) array[at] = (at * 31 + seed) & 0xff;
  return array;
}

describe('pool answers prepared at dispatch', () => {
  it('predicts a size only once two answers in a row had it, and only a large one', () => {
    const sizes = new AnswerSizes();
    assert.equal(sizes.predicted, 0);
    sizes.record(PREPARE_FROM_BYTES * 2);
    assert.equal(sizes.predicted, 0, 'one answer is no pattern');
    sizes.record(PREPARE_FROM_BYTES * 2);
    assert.equal(sizes.predicted, PREPARE_FROM_BYTES * 2);
    sizes.record(PREPARE_FROM_BYTES * 3);
    assert.equal(sizes.predicted, 0, 'a changed size stops the prediction');
    sizes.record(PREPARE_FROM_BYTES - 1);
    sizes.record(PREPARE_FROM_BYTES - 1);
    assert.equal(sizes.predicted, 0, 'small answers are not prepared');
  });

  it('copies into the prepared array only an answer of exactly its length', () => {
    const data = payload(PREPARE_FROM_BYTES * 2, 7);
    const prepared = prepareAnswer(PREPARE_FROM_BYTES);
    assert.equal(prepared.length, PREPARE_FROM_BYTES);
    assert.equal(prepared.buffer.byteLength, PREPARE_FROM_BYTES, 'an array of its own');
    assert.equal(takeInto(data, PREPARE_FROM_BYTES - 1, prepared), undefined);
    assert.equal(takeInto(data, PREPARE_FROM_BYTES + 1, prepared), undefined);
    assert.equal(takeInto(data, PREPARE_FROM_BYTES, undefined), undefined);
    const taken = takeInto(data, PREPARE_FROM_BYTES, prepared);
    assert.equal(taken, prepared);
    assert.deepEqual(taken, data.subarray(0, PREPARE_FROM_BYTES));
  });

  it('answers every size exactly through the pool, whether the size was predicted or not', async () => {
    const pool = new PoolBackend(new RecordingHost(), { size: 1 });
    try {
      const handle = await pool.load(await pluginSpec(CORE_GUEST));
      const big = PREPARE_FROM_BYTES * 4;
      // Two of a size make the third prepared; then a shorter, a longer, a tiny one and the size again.
      const sizes = [big, big, big, big - 1, big - 1, big - 1, big + 1, 16, big, big, big];
      for (const [round, bytes] of sizes.entries()) {
        const input = payload(bytes, round);
        const output = await handle.call('echo', input);
        assert.equal(output.length, bytes, `round ${round}`);
        assert.equal(output.byteOffset, 0, `round ${round}`);
        assert.equal(output.buffer.byteLength, bytes, `round ${round}: the answer owns exactly its bytes`);
        assert.deepEqual(output, input, `round ${round}`);
      }
      // A failed call after a predicted size answers its error, and the next call is exact.
      await assert.rejects(handle.call('no-such-export', payload(big, 1)), { code: 'FO_ABI_NO_SUCH_EXPORT' });
      const after = payload(big, 99);
      assert.deepEqual(await handle.call('echo', after), after);
    } finally {
      await pool.close();
    }
  });

  it('hands each call an array of its own, never one another call got', async () => {
    const pool = new PoolBackend(new RecordingHost(), { size: 1 });
    try {
      const handle = await pool.load(await pluginSpec(CORE_GUEST));
      const bytes = PREPARE_FROM_BYTES * 2;
      const outputs: Uint8Array[] = [];
      for (let round = 0; round < 5; round += 1) outputs.push(await handle.call('echo', payload(bytes, round)));
      assert.equal(new Set(outputs.map((output) => output.buffer)).size, outputs.length);
      for (const [round, output] of outputs.entries()) assert.deepEqual(output, payload(bytes, round), `round ${round} unchanged by later calls`);
    } finally {
      await pool.close();
    }
  });
});
