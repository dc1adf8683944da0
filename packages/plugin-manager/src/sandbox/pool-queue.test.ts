import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairQueue } from './pool-queue.js';

function drain<K>(queue: FairQueue<K, string>): string[] {
  const out: string[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
}

describe('the fair job queue', () => {
  it('serves urgent jobs first, then one job per key in turn, each key in its own order', () => {
    const queue = new FairQueue<string, string>();
    for (const item of ['a1', 'a2', 'a3']) queue.push('a', item);
    queue.push('b', 'b1');
    queue.pushUrgent('policy');
    queue.push('b', 'b2');
    assert.equal(queue.size, 6);
    assert.deepEqual(drain(queue), ['policy', 'a1', 'b1', 'a2', 'b2', 'a3']);
    assert.equal(queue.size, 0);
  });

  it('puts a key that was just served behind a key that was already waiting', () => {
    const queue = new FairQueue<string, string>();
    queue.push('a', 'a1');
    assert.equal(queue.shift(), 'a1');
    // a's next jobs arrive after b's: b still goes first, because a was just served.
    queue.push('a', 'a2');
    queue.push('a', 'a3');
    queue.push('b', 'b1');
    assert.deepEqual(drain(queue), ['b1', 'a2', 'a3']);
  });

  it('takes out the jobs a predicate selects and keeps the others in turn order', () => {
    const queue = new FairQueue<string, string>();
    for (const [key, item] of [['a', 'a1'], ['b', 'b1'], ['a', 'a2'], ['c', 'c1'], ['b', 'b2']] as const) queue.push(key, item);
    queue.pushUrgent('u1');
    assert.deepEqual(queue.take((item) => item.startsWith('b') || item === 'u1'), ['u1', 'b1', 'b2']);
    assert.equal(queue.size, 3);
    assert.deepEqual(drain(queue), ['a1', 'c1', 'a2']);
  });
});
