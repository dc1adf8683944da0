import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { PluginState } from '../lifecycle/index.js';
import { read, signedPlugin, testRegistry, text } from './test-support/plugins.js';
import { until } from './test-support/until.js';

describe('crash charges on the pool backend', () => {
  it("charges a worker replacement to the plugin that hung, never to its neighbour: the culprit is quarantined, the neighbour keeps running with no restart", async () => {
    // One worker, no isolation worker: the hanger stays beside its neighbour however often it hangs.
    const { registry, events } = await testRegistry('pool', '    quarantine_after: 3\n    fuel_per_call: 9007199254740991\n', { pool: { isolateBusy: false } });
    try {
      const innocent = await registry.loadPlugin(await signedPlugin('innocent'));
      // Fuel enough to spin for days: only its 500 ms wall-clock limit stops it.
      const hanger = await registry.loadPlugin(await signedPlugin('hanger', '1.0.0', '[limits]\ntimeout = "500ms"\n'));
      for (const id of [innocent, hanger]) await registry.startPlugin(id);
      let hangs = 0;
      for (;;) {
        await until(() => registry.get(hanger).state === PluginState.Running || registry.get(hanger).state === PluginState.Quarantined, 'the hanger to run again or be quarantined');
        if (registry.get(hanger).state === PluginState.Quarantined) break;
        await rejectsWithCode(registry.call(hanger, 'spin'), 'FO_SANDBOX_TIMEOUT');
        hangs += 1;
      }
      // Three crashes quarantine it (a restart's init that times out while the new worker
      // boots is one of them too, so it may take fewer hangs).
      assert.ok(hangs >= 2, `the neighbour lived through at least two replacements of its worker (hangs: ${hangs})`);
      assert.equal(registry.get(innocent).state, PluginState.Running);
      assert.equal(registry.get(innocent).restarts, 0, 'no crash was charged to the neighbour');
      const innocentFailures = events.filter((event) => event.name === `plugin.lifecycle.${PluginState.Failed}` && event.labels['plugin_id'] === innocent);
      assert.deepEqual(innocentFailures, [], 'the neighbour never went through Failed');
      // Its instance was re-created each time (memory lost) and its init and start steps re-run on it.
      assert.equal(read(await registry.call(innocent, 'steps')), 'init,start,');
      assert.equal(read(await registry.call(innocent, 'echo', text('still here'))), 'still here');
    } finally {
      await registry.close();
    }
  });
});
