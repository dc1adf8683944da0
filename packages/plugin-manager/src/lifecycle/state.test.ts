import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { PluginState, TRANSITIONS, assertTransition, canTransition } from './state.js';

describe('plugin lifecycle states', () => {
  it('walks the original lifecycle: created, initializing, ready, running, stopping, stopped', () => {
    const path = [PluginState.Created, PluginState.Initializing, PluginState.Ready, PluginState.Running, PluginState.Stopping, PluginState.Stopped];
    for (let i = 1; i < path.length; i += 1) assertTransition('p', path[i - 1]!, path[i]!);
  });

  it('refuses illegal transitions with FO_LIFECYCLE_BAD_TRANSITION naming the legal ones', () => {
    assert.throws(
      () => assertTransition('p', PluginState.Created, PluginState.Running),
      (error: unknown) => ForgeError.is(error, 'FO_LIFECYCLE_BAD_TRANSITION') && error.message === 'plugin p cannot go from created to running (from created it can go to initializing, unloaded, quarantined)',
    );
    assert.equal(canTransition(PluginState.Unloaded, PluginState.Created), false);
    assert.equal(canTransition(PluginState.Quarantined, PluginState.Running), false);
  });

  it('lets every live state be quarantined and nothing leave Unloaded', () => {
    for (const state of Object.values(PluginState)) {
      if (state === PluginState.Unloaded || state === PluginState.Quarantined) continue;
      assert.equal(canTransition(state, PluginState.Quarantined), true, state);
    }
    assert.deepEqual(TRANSITIONS[PluginState.Unloaded], []);
  });
});
