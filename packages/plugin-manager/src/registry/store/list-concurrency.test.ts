import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapConcurrently } from './reader.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapConcurrently (how the store lists many plugins and writes a new tree)', () => {
  it('keeps the items\' order whatever order the work finishes in, with at most `limit` running', async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await tick(n);
      running -= 1;
      return n * 10;
    });
    assert.deepEqual(results, [50, 10, 40, 20, 30, 0, 60]);
    assert.equal(most, 3);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapConcurrently([1, 2, 3, 4, 5, 6], 2, async (n) => {
        started.push(n);
        await tick(n === 2 ? 1 : 20);
        if (n === 2) throw new Error('unreadable plugin 2');
        return n;
      }),
      /unreadable plugin 2/,
    );
    await tick(50);
    assert.deepEqual(started, [1, 2], 'the worker of item 1 takes nothing after the failure');
  });

  it('rejects only once the items already running have finished, so nothing still writes when the caller cleans up', async () => {
    const finished: number[] = [];
    await assert.rejects(
      mapConcurrently([1, 2, 3], 3, async (n) => {
        await tick(n === 1 ? 1 : 30);
        if (n === 1) throw new Error('disk full writing file 1');
        finished.push(n);
      }),
      /disk full writing file 1/,
    );
    assert.deepEqual(finished.sort(), [2, 3], 'the two writes in flight finished before the failure was reported');
  });

  it('answers an empty list with an empty list', async () => {
    assert.deepEqual(await mapConcurrently([], 16, () => Promise.resolve(1)), []);
  });
});
