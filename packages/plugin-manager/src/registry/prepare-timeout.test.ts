/**
 * A plugin's time limit is the plugin's: creating its instance (a sandbox's start, compiling,
 * instantiating) on a busy host is not charged to its init entry point. Before, a 1 s
 * limit failed plugins with FO_LIFECYCLE_TIMEOUT when the host was slow to start them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { PluginState } from '../lifecycle/index.js';
import { PoolBackend, type BackendHost, type PluginSpec } from '../sandbox/index.js';
import { read, signedPlugin, testRegistry, text } from './test-support/plugins.js';

/** The pool backend, with every instance creation taking `delayMs` longer (a busy host). */
class SlowLoadBackend extends PoolBackend {
  readonly #delayMs: number;
  constructor(host: BackendHost, delayMs: number) {
    super(host, { size: 1 });
    this.#delayMs = delayMs;
  }
  override async load(spec: PluginSpec) {
    await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
    return super.load(spec);
  }
}

describe("a plugin's time limit and the host's start of its instance", () => {
  it('starts a plugin whose instance takes longer to create than its whole time limit, and still times out its own code', async () => {
    const { registry } = await testRegistry('pool', '    fuel_per_call: 9007199254740991\n', { backend: (host) => new SlowLoadBackend(host, 400) });
    try {
      const id = await registry.loadPlugin(await signedPlugin('patient', '1.0.0', '[limits]\ntimeout = "100ms"\n'));
      await registry.startPlugin(id);
      assert.equal(registry.get(id).state, PluginState.Running);
      assert.equal(read(await registry.call(id, 'echo', text('up'))), 'up');
      // Its own code is still held to 100 ms: with fuel for days, a spin ends in the wall-clock limit.
      await rejectsWithCode(registry.call(id, 'spin'), 'FO_SANDBOX_TIMEOUT');
    } finally {
      await registry.close();
    }
  });
});
