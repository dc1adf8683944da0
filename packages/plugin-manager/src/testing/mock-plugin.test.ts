/**
 * The mock plugin of @forgeone/plugin-manager/testing: the original project's
 * test_plugin_lifecycle, in TypeScript, and the mock's real lifecycle rules.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '@forgeone/common';
import { rejectsWithCode } from '@forgeone/common/testing';
import { PluginState } from '../lifecycle/index.js';
import { PluginRegistry } from '../registry/index.js';
import { createMockPlugin } from './index.js';

describe('mock plugins', () => {
  // The original example test, step for step: create, check, load, start, stop, unload.
  it('test_plugin_lifecycle', async () => {
    const plugin = createMockPlugin('test-plugin', '1.0.0');
    assert.equal(plugin.name, 'test-plugin');
    assert.equal(plugin.version, '1.0.0');
    assert.equal(plugin.state, PluginState.Created);

    await plugin.load();
    assert.equal(plugin.state, PluginState.Ready);

    await plugin.start();
    assert.equal(plugin.state, PluginState.Running);

    await plugin.stop();
    assert.equal(plugin.state, PluginState.Stopped);

    await plugin.unload();
    assert.equal(plugin.state, PluginState.Unloaded);
  });

  it('moves through the same intermediate states as a real plugin, recording each', async () => {
    const plugin = createMockPlugin('test-plugin', '1.0.0');
    await plugin.load();
    await plugin.start();
    await plugin.pause();
    await plugin.resume();
    await plugin.stop();
    await plugin.unload();
    assert.deepEqual(
      plugin.transitions.map((t) => `${t.from}->${t.to}`),
      ['created->initializing', 'initializing->ready', 'ready->running', 'running->paused', 'paused->running', 'running->stopping', 'stopping->stopped', 'stopped->unloaded'],
    );
    assert.deepEqual(plugin.steps, ['init', 'start', 'pause', 'resume', 'stop', 'unload']);
  });

  it('refuses illegal moves with FO_LIFECYCLE_BAD_TRANSITION and stays where it was', async () => {
    const plugin = createMockPlugin('test-plugin', '1.0.0');
    await rejectsWithCode(plugin.start(), 'FO_LIFECYCLE_BAD_TRANSITION');
    await rejectsWithCode(plugin.stop(), 'FO_LIFECYCLE_BAD_TRANSITION');
    assert.equal(plugin.state, PluginState.Created);
    await plugin.load();
    await plugin.start();
    await rejectsWithCode(plugin.unload(), 'FO_LIFECYCLE_BAD_TRANSITION');
    assert.equal(plugin.state, PluginState.Running);
    assert.deepEqual(plugin.steps, ['init', 'start'], 'no step runs for a refused move');
  });

  it('fails a step that throws, as a failing entry point does, and can be initialised again', async () => {
    let fail = true;
    const plugin = createMockPlugin('test-plugin', '1.0.0', {
      steps: {
        init: () => {
          if (fail) throw new Error('no database');
        },
      },
    });
    await assert.rejects(plugin.load(), /no database/);
    assert.equal(plugin.state, PluginState.Failed);
    fail = false;
    await plugin.load();
    assert.equal(plugin.state, PluginState.Ready);
  });

  it('calls JavaScript handlers only while running, recording every call and its outcome', async () => {
    const plugin = createMockPlugin('test-plugin', '1.0.0', { functions: { greet: (input) => `hello ${new TextDecoder().decode(input)}` } });
    await rejectsWithCode(plugin.call('greet', 'ada'), 'FO_LIFECYCLE_NOT_RUNNING');
    await plugin.load();
    await plugin.start();
    assert.equal(new TextDecoder().decode(await plugin.call('greet', 'ada')), 'hello ada');
    await rejectsWithCode(plugin.call('missing'), 'FO_ABI_MISSING_EXPORT');
    plugin.on('boom', () => {
      throw new Error('kaput');
    });
    await rejectsWithCode(plugin.call('boom'), 'FO_ABI_GUEST_TRAP');
    assert.deepEqual(plugin.calls.map((c) => [c.fn, c.error ?? 'ok']), [
      ['greet', 'FO_LIFECYCLE_NOT_RUNNING'],
      ['greet', 'ok'],
      ['missing', 'FO_ABI_MISSING_EXPORT'],
      ['boom', 'FO_ABI_GUEST_TRAP'],
    ]);
    assert.equal(plugin.callsOf('greet').length, 2);
  });

  it('joins a real registry as a native plugin, which drives its lifecycle and calls', async () => {
    const plugin = createMockPlugin('test-plugin', '1.0.0', { functions: { echo: (input) => input } });
    const home = await mkdtemp(join(tmpdir(), 'forge-mock-'));
    const config = parseConfig('plugin_manager:\n  plugin_directory: plugins\n  temp_directory: tmp\n  default_timeout: 5s\n', { name: 'test.yaml', baseDir: home });
    const registry = await PluginRegistry.create(config, { configDir: home, audit: false, attestation: { verifySignatures: false } });
    try {
      const id = registry.registerNative(plugin.asNative());
      await registry.startPlugin(id);
      assert.equal(registry.get(id).state, PluginState.Running);
      assert.equal(new TextDecoder().decode(await registry.call(id, 'echo', new TextEncoder().encode('ping'))), 'ping');
      await registry.stopPlugin(id);
      assert.deepEqual(plugin.steps, ['init', 'start', 'stop']);
      assert.deepEqual(plugin.calls.map((c) => c.fn), ['echo']);
    } finally {
      await registry.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
