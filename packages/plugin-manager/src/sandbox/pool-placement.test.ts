import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEAT, HeatMap, pickLane } from './pool-placement.js';

describe('pool placement', () => {
  it('makes a plugin hot after one fault or five slow calls, and lets the heat decay by half per half-life', () => {
    let now = 0;
    const heat = new HeatMap(1000, () => now);
    heat.add('spinner', HEAT.fault);
    assert.equal(heat.hot('spinner'), true);
    for (let i = 0; i < 4; i += 1) heat.add('slow', HEAT.slowCall);
    assert.equal(heat.hot('slow'), false, 'four slow calls are not enough');
    heat.add('slow', HEAT.slowCall);
    assert.equal(heat.hot('slow'), true);
    now = 1000;
    assert.equal(heat.score('spinner'), 0.5);
    assert.equal(heat.hot('spinner'), true, 'still hot after one half-life');
    now = 2000;
    assert.equal(heat.hot('spinner'), false, 'cooled down after two');
    now = 100_000;
    assert.equal(heat.score('spinner'), 0, 'forgotten once negligible');
    assert.equal(heat.hot('never-seen'), false);
  });

  it('picks the worker without hot plugins, then the one with the fewest plugins, then the first', () => {
    assert.equal(pickLane([{ plugins: 3, hotPlugins: 0 }, { plugins: 1, hotPlugins: 0 }, { plugins: 1, hotPlugins: 0 }]), 1);
    assert.equal(pickLane([{ plugins: 1, hotPlugins: 1 }, { plugins: 9, hotPlugins: 0 }]), 1, 'a crowded quiet worker beats a hot one');
    assert.equal(pickLane([{ plugins: 5, hotPlugins: 2 }, { plugins: 2, hotPlugins: 1 }]), 1, 'all hot: the fewest plugins');
    assert.equal(pickLane([{ plugins: 0, hotPlugins: 0 }]), 0);
  });
});
