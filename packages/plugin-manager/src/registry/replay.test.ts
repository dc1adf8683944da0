import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError, type ErrorCode } from '@forgeone/common';
import { PluginState } from '../lifecycle/index.js';
import type { EntryPointName } from '../plugin/index.js';
import type { PluginHandle } from '../sandbox/index.js';
import { replay, replaySteps } from './replay.js';

/** A handle whose lifecycle steps fail with the codes given and records the order they were asked for. */
function fakeHandle(failures: Partial<Record<EntryPointName, ErrorCode>>, asked: EntryPointName[]): PluginHandle {
  return {
    lifecycle: (step: EntryPointName) => {
      asked.push(step);
      const code = failures[step];
      return code === undefined ? Promise.resolve(true) : Promise.reject(new ForgeError(code, `${step} failed`));
    },
  } as unknown as PluginHandle;
}

describe('replaying the lifecycle of a re-created instance', () => {
  it('re-runs the steps that led to the state, in order', () => {
    assert.deepEqual(replaySteps(PluginState.Running), ['init', 'start']);
    assert.deepEqual(replaySteps(PluginState.Paused), ['init', 'start', 'pause']);
    assert.deepEqual(replaySteps(PluginState.Ready), ['init']);
    assert.deepEqual(replaySteps(PluginState.Failed), []);
    assert.deepEqual(replaySteps(PluginState.Initializing), []);
  });

  it("asks for every step at once and reports the plugin's own failure", async () => {
    const asked: EntryPointName[] = [];
    const failure = await replay(fakeHandle({ start: 'FO_ABI_LIFECYCLE_FAILED' }, asked), ['init', 'start']);
    assert.deepEqual(asked, ['init', 'start']);
    assert.equal(failure?.code, 'FO_ABI_LIFECYCLE_FAILED');
  });

  it('does not report an instance that went away again as a failure of the plugin', async () => {
    for (const code of ['FO_SANDBOX_RESTARTED', 'FO_SANDBOX_WORKER_REPLACED', 'FO_SANDBOX_UNLOADED'] as const) {
      assert.equal(await replay(fakeHandle({ init: code, start: code }, []), ['init', 'start']), undefined, code);
    }
  });
});
