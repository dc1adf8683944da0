import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { PluginState } from '../lifecycle/index.js';
import { fields, read, signedPlugin, testRegistry, text } from './test-support/plugins.js';
import { until } from './test-support/until.js';

for (const backend of ['inline', 'pool', 'process'] as const) {
  describe(`forge.call_plugin fuel on the ${backend} backend`, () => {
    it("lends a dependency only the caller's remaining fuel: a spinning dependency stops the caller with FO_SANDBOX_CPU_LIMIT, and only the caller is charged", async () => {
      const { registry } = await testRegistry(backend, '    fuel_per_call: 2000000\n');
      try {
        await registry.loadPlugin(await signedPlugin('lib'));
        const app = await registry.loadPlugin(await signedPlugin('app', '1.0.0', '[dependencies]\nlib = "^1.0.0"\n\n[permissions]\nsyscalls = ["forge.call_plugin"]\n', true, true));
        await registry.startPlugin(app);
        await rejectsWithCode(registry.call(app, 'relay', fields('lib', 'spin', text(''))), 'FO_SANDBOX_CPU_LIMIT');
        await until(() => registry.get(app).state === PluginState.Running, "the caller's restart");
        assert.equal(registry.get(app).restarts, 1, 'the caller is charged');
        assert.equal(registry.get('lib').state, PluginState.Running);
        assert.equal(registry.get('lib').restarts, 0, 'the dependency ran out of lent fuel: not its crash');
        assert.equal(read(await registry.call('lib', 'steps')), 'init,start,', 're-created, with its init and start run again');
        assert.equal(read(await registry.call(app, 'relay', fields('lib', 'echo', text('after')))), 'after');
      } finally {
        await registry.close();
      }
    });
  });
}
