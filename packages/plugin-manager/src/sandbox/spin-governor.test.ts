/**
 * The spin governor turns spinning off when a spin shows the CPU is contended (the
 * spinning thread was descheduled, or two spins in a row ended without their answer),
 * for a while, and on again afterwards.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MISS_WINDOW_MS, PREEMPTED_GAP_MS, SPIN_BACKOFF_MS, spinAllowed, spinMissed, spinPreempted, spinPreemptions } from './spin-governor.js';

describe('spin governor', () => {
  it('stops a spin whose clock jumped and keeps spinning off for the backoff; one miss is not enough, two close ones are', () => {
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
    assert.equal(spinAllowed(t1 + 1), true, 'one miss: a slow call, perhaps');
    spinMissed(t1 + MISS_WINDOW_MS * 3);
    assert.equal(spinAllowed(t1 + MISS_WINDOW_MS * 3 + 1), true, 'two misses far apart');
    spinMissed(t1 + MISS_WINDOW_MS * 3.5);
    assert.equal(spinAllowed(t1 + MISS_WINDOW_MS * 3.5 + 1), false, 'two misses close together');
    assert.equal(spinPreemptions(), 2);
  });
});
