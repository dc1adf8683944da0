/**
 * The spin governor turns spinning off when a spin shows the CPU is contended (the
 * spinning thread was descheduled, or two spins in a row ended without their answer),
 * for a while, and on again afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MISSES_TO_TRIP, MISS_WINDOW_MS, PREEMPTED_GAP_MS, SPIN_BACKOFF_MS, spinAllowed, spinMissed, spinPreempted, spinPreemptions } from './spin-governor.js';

describe('spin governor', () => {
  it('stops a spin whose clock jumped and keeps spinning off for the backoff; misses count only in a row, close together', () => {
    const t0 = 1_000_000;
    assert.equal(spinAllowed(t0), true);
    assert.equal(spinPreempted(t0, t0 + PREEMPTED_GAP_MS / 2), false, 'a short gap is the spin itself');
    assert.equal(spinAllowed(t0 + 1), true);
    assert.equal(spinPreempted(t0, t0 + 3), true, 'a 3 ms gap: descheduled');
    assert.equal(spinPreemptions(), 1);
    assert.equal(spinAllowed(t0 + 3 + SPIN_BACKOFF_MS - 1), false);
    assert.equal(spinAllowed(t0 + 3 + SPIN_BACKOFF_MS), true);

    const t1 = t0 + 10_000;
    spinMissed(t1);
    spinMissed(t1 + 1);
    assert.equal(spinAllowed(t1 + 2), true, 'two misses: a garbage collection in the worker, perhaps');
    spinMissed(t1 + MISS_WINDOW_MS * 3);
    spinMissed(t1 + MISS_WINDOW_MS * 3 + 1);
    assert.equal(spinAllowed(t1 + MISS_WINDOW_MS * 3 + 2), true, 'the first of these was too long after the ones before: two in a row');
    spinMissed(t1 + MISS_WINDOW_MS * 3 + 2);
    assert.equal(spinAllowed(t1 + MISS_WINDOW_MS * 3 + 3), false, `${MISSES_TO_TRIP} misses in a row, close together`);
    assert.equal(spinPreemptions(), 2);
  });
});
