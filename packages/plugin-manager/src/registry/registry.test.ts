import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext, defaultTelemetryBus, object, required, string, type TelemetryEvent } from '@forgeone/common';
import { rejectsWithCode, throwsCode } from '@forgeone/common/testing';
import { TrustContext, readAuditTail } from '@forgeone/microkernel';
import { StartupTimer } from '../metrics/index.js';
import { PluginState } from '../lifecycle/index.js';
import { join } from 'node:path';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { NOW } from '../attestation/test-support/pki.js';
import { PluginManager } from './manager.js';
import { PluginStore } from './store/index.js';
import { fields, read, signedPlugin, testRegistry, text, trustStore } from './test-support/plugins.js';
import { until } from './test-support/until.js';

for (const backend of ['inline', 'pool'] as const) {
  describe(`PluginRegistry on the ${backend} backend`, () => {
    it('runs the original embedding flow: load, time, initialise, start, call, pause, resume, stop, unload', async () => {
      const { registry, events, dir } = await testRegistry(backend);
      try {
        const identity = new IdentityContext('plugin-manager');
        const trust = new TrustContext(identity);
        const pluginId = await registry.loadPlugin(await signedPlugin('example-plugin'), { identity, trust });
        assert.equal(registry.get(pluginId).state, PluginState.Created);
        assert.equal(registry.get(pluginId).publisher, 'Registry Test Publisher');
        const timer = new StartupTimer(pluginId, 'example-plugin', '1.0.0');
        await registry.initializePlugin(pluginId);
        const durations: TelemetryEvent[] = [];
        const unsubscribe = defaultTelemetryBus.subscribe((event) => {
          if (event.name === 'plugin.startup.duration' && event.labels['plugin_id'] === pluginId) durations.push(event);
        });
        const elapsed = timer.stop();
        assert.equal(timer.stop(), elapsed, 'stopping again answers the same duration');
        unsubscribe();
        assert.deepEqual(
          durations.map((event) => [event.value, event.labels['plugin_name'], event.labels['version']]),
          [[elapsed, 'example-plugin', '1.0.0']],
          'one observation of the measured duration, on the default bus',
        );
        await registry.startPlugin(pluginId);
        assert.equal(read(await registry.call(pluginId, 'echo', text('hi'))), 'hi');
        await registry.pausePlugin(pluginId);
        const waiting = registry.call(pluginId, 'echo', text('later'));
        await registry.resumePlugin(pluginId);
        assert.equal(read(await waiting), 'later');
        assert.equal(read(await registry.call(pluginId, 'steps')), 'init,start,pause,resume,');
        await registry.stopPlugin(pluginId);
        await rejectsWithCode(registry.call(pluginId, 'echo', text('x')), 'FO_LIFECYCLE_NOT_RUNNING');
        await registry.unloadPlugin(pluginId);
        assert.deepEqual(registry.list(), []);
        const lifecycle = events.filter((event) => event.name.startsWith('plugin.lifecycle.')).map((event) => event.name.slice('plugin.lifecycle.'.length));
        assert.deepEqual(lifecycle, ['initializing', 'ready', 'running', 'paused', 'running', 'stopping', 'stopped', 'unloaded']);
        assert.deepEqual(
          events.filter((event) => event.name.startsWith('plugin.lifecycle.')).map((event) => [event.labels['step'], event.labels['error_code']]),
          [['init'], ['init'], ['start'], ['pause'], ['resume'], ['stop'], ['stop'], ['unload']].map(([step]) => [step, undefined]),
          'each transition names the step that caused it, and no error',
        );
        assert.deepEqual(
          events.filter((event) => event.name === 'plugin.loaded').map((event) => [event.labels['plugin_id'], event.labels['plugin_name'], event.labels['kind']]),
          [[pluginId, 'example-plugin', 'wasm']],
        );
      } finally {
        await registry.close();
      }
      const tail = await readAuditTail({ path: `${dir}/audit.log`, limit: 100 });
      const actions = tail.records.flatMap((record) => ('action' in record && record.action.startsWith('plugin.lifecycle.') ? [record.action] : []));
      assert.ok(actions.includes('plugin.lifecycle.start') && actions.includes('plugin.lifecycle.unload'), actions.join(' '));
    });

    it('serves a host call the application registered, with its schema, policy and audit', async () => {
      const { registry, dir } = await testRegistry(backend);
      try {
        registry.registerHostCall({
          name: 'forge.weather',
          description: 'The weather in a city',
          args: object({ city: required(string({ minLength: 1 }), 'City.') }),
          resource: 'key',
          resourceOf: (args) => args.city,
          handler: (args, who) => ({ city: args.city, sky: 'clear', asker: who.plugin?.name ?? null }),
        });
        const granted = await registry.loadPlugin(await signedPlugin('asker', '1.0.0', '[permissions]\nsyscalls = ["forge.weather"]\n', true, false, true));
        await registry.startPlugin(granted);
        assert.equal(read(await registry.call(granted, 'ask', text('{"city":"Oslo"}'))), '{"city":"Oslo","sky":"clear","asker":"asker"}');
        assert.equal(await guestCodeOf(registry.call(granted, 'ask', text('{"town":1}'))), 'FO_SYSCALL_INVALID_ARGS');
        await rejectsWithCode(registry.loadPlugin(await signedPlugin('ungranted', '1.0.0', '', true, false, true)), 'FO_RUNTIME_IMPORT_DENIED');
      } finally {
        await registry.close();
      }
      const tail = await readAuditTail({ path: `${dir}/audit.log`, limit: 100 });
      assert.ok(tail.records.some((record) => 'action' in record && record.action === 'forge.weather' && record.resource === 'Oslo'), 'the call was audited with its resource');
    });

    it('stops a runaway call with FO_SANDBOX_CPU_LIMIT, then restarts the plugin per the restart policy', async () => {
      const { registry } = await testRegistry(backend, '    fuel_per_call: 100000\n');
      try {
        const id = await registry.loadPlugin(await signedPlugin('spinner'));
        await registry.startPlugin(id);
        await rejectsWithCode(registry.call(id, 'spin'), 'FO_SANDBOX_CPU_LIMIT');
        await until(() => registry.get(id).state === PluginState.Running, 'the restart');
        assert.equal(registry.get(id).restarts, 1);
        assert.equal(read(await registry.call(id, 'echo', text('back'))), 'back');
        assert.equal(read(await registry.call(id, 'steps')), 'init,start,', 'a fresh instance, initialised again');
      } finally {
        await registry.close();
      }
    });
  });
}

describe('PluginRegistry', () => {
  it('refuses an unsigned package, a second plugin of the same name, an unknown id, and more than max_plugins', async () => {
    const { registry } = await testRegistry('inline', '  max_plugins: 2\n');
    try {
      await rejectsWithCode(registry.loadPlugin(await signedPlugin('loose', '1.0.0', '', false)), 'FO_VERIFY_UNSIGNED');
      await registry.loadPlugin(await signedPlugin('one'));
      await rejectsWithCode(registry.loadPlugin(await signedPlugin('one', '1.0.1')), 'FO_REGISTRY_DUPLICATE');
      await rejectsWithCode(registry.call('nope', 'echo'), 'FO_REGISTRY_NOT_FOUND');
      await registry.loadPlugin(await signedPlugin('two'));
      await rejectsWithCode(registry.loadPlugin(await signedPlugin('three')), 'FO_REGISTRY_FULL');
    } finally {
      await registry.close();
    }
  });

  it('starts dependencies first and stops dependents first', async () => {
    const { registry, events } = await testRegistry();
    try {
      await registry.loadPlugin(await signedPlugin('lib', '1.4.0'));
      const app = await registry.loadPlugin(await signedPlugin('app', '1.0.0', '[dependencies]\nlib = "^1.2.0"\n'));
      await registry.startPlugin(app);
      const running = events.filter((event) => event.name === 'plugin.lifecycle.running').map((event) => event.labels['plugin_id']);
      assert.deepEqual(running, ['lib', 'app']);
      await registry.stopPlugin('lib');
      assert.equal(registry.get('app').state, PluginState.Stopped, 'stopping lib stopped app first');
      const stopped = events.filter((event) => event.name === 'plugin.lifecycle.stopped').map((event) => event.labels['plugin_id']);
      assert.deepEqual(stopped, ['app', 'lib']);
      const orphan = await registry.loadPlugin(await signedPlugin('orphan', '1.0.0', '[dependencies]\nghost = "^1.0.0"\n'));
      await rejectsWithCode(registry.startPlugin(orphan), 'FO_DEPS_MISSING');
    } finally {
      await registry.close();
    }
  });

  it('lists and invokes extension implementations, declared and registered at run time, and forgets them on unload', async () => {
    const { registry } = await testRegistry();
    try {
      await registry.loadPlugin(await signedPlugin('host-app', '1.0.0', '[extension_points."text.format"]\ndescription = "formats text"\n'));
      await registry.loadPlugin(await signedPlugin('upper', '1.0.0', '[[extensions]]\npoint = "text.format"\nexport = "echo"\n'));
      const late = await registry.loadPlugin(await signedPlugin('late'));
      for (const id of ['host-app', 'upper', late]) await registry.startPlugin(id);
      assert.deepEqual(registry.extensions('text.format').map((entry) => [entry.plugin, entry.export, entry.source]), [['upper', 'echo', 'manifest']]);
      await registry.call(late, 'register', fields('text.format', 'echo'));
      assert.deepEqual(registry.extensions('text.format').map((entry) => [entry.plugin, entry.source]), [['upper', 'manifest'], ['late', 'runtime']]);
      const results = await registry.invokeExtensions('text.format', text('x'));
      assert.deepEqual(results.map((result) => [result.plugin, read(result.output ?? new Uint8Array())]), [['upper', 'x'], ['late', 'x']]);
      assert.equal(await guestCodeOf(registry.call(late, 'register', fields('no.such.point', 'echo'))), 'FO_EXTENSION_UNKNOWN_POINT');
      registry.declareExtensionPoint('host.hook');
      await registry.call(late, 'register', fields('host.hook', 'echo'));
      assert.deepEqual(registry.extensions('host.hook').map((entry) => [entry.plugin, entry.source]), [['late', 'runtime']]);
      assert.deepEqual(registry.hostExtensionPoints(), ['host.hook']);
      assert.equal('extensionsTable' in registry, false, 'the table is not public');
      await registry.unloadPlugin(late);
      assert.deepEqual(registry.extensions('text.format').map((entry) => entry.plugin), ['upper']);
      assert.deepEqual(registry.extensions('host.hook'), []);
    } finally {
      await registry.close();
    }
  });

  it('lets a plugin call a declared and granted dependency through forge.call_plugin, and nothing else (importing it needs the grant)', async () => {
    const { registry } = await testRegistry();
    try {
      await registry.loadPlugin(await signedPlugin('lib'));
      await registry.loadPlugin(await signedPlugin('other'));
      const app = await registry.loadPlugin(await signedPlugin('app', '1.0.0', '[dependencies]\nlib = "^1.0.0"\n\n[permissions]\nsyscalls = ["forge.call_plugin"]\n', true, true));
      await rejectsWithCode(registry.loadPlugin(await signedPlugin('bare', '1.0.0', '[dependencies]\nlib = "^1.0.0"\n', true, true)), 'FO_RUNTIME_IMPORT_DENIED');
      for (const id of ['other', app]) await registry.startPlugin(id);
      assert.equal(read(await registry.call(app, 'relay', fields('lib', 'echo', text('through lib')))), 'through lib');
      assert.equal(await guestCodeOf(registry.call(app, 'relay', fields('other', 'echo', text('x')))), 'FO_EXTENSION_NOT_DECLARED');
      // Operator policy decides on the target's name: a Cedar forbid takes the call away.
      await registry.setPolicy(
        { ...registry.config, policy: { ...registry.config.policy, cedar: 'ops.cedar' } },
        'forbid(principal, action == ForgeOne::Action::"forge.call_plugin", resource is ForgeOne::Target) when { resource.name == "lib" };',
      );
      assert.equal(await guestCodeOf(registry.call(app, 'relay', fields('lib', 'echo', text('x')))), 'FO_ABI_HOST_DENIED');
    } finally {
      await registry.close();
    }
  });

  it('quarantines a plugin that keeps crashing', async () => {
    const { registry } = await testRegistry('inline', '    quarantine_after: 3\n');
    try {
      const id = await registry.loadPlugin(await signedPlugin('crasher'));
      await registry.startPlugin(id);
      for (let crash = 0; crash < 3; crash += 1) {
        await until(() => registry.get(id).state === PluginState.Running || registry.get(id).state === PluginState.Quarantined, 'running again');
        if (registry.get(id).state === PluginState.Quarantined) break;
        await rejectsWithCode(registry.call(id, 'trap'), 'FO_ABI_GUEST_TRAP');
      }
      await until(() => registry.get(id).state === PluginState.Quarantined, 'quarantine');
      await rejectsWithCode(registry.call(id, 'echo'), 'FO_LIFECYCLE_QUARANTINED');
    } finally {
      await registry.close();
    }
  });

  it('initialises and starts a lazy plugin on its first call', async () => {
    const { registry } = await testRegistry();
    try {
      const id = await registry.loadPlugin(await signedPlugin('sleepy'), { lazy: true });
      assert.equal(registry.get(id).state, PluginState.Created);
      assert.equal(read(await registry.call(id, 'echo', text('wake'))), 'wake');
      assert.equal(registry.get(id).state, PluginState.Running);
    } finally {
      await registry.close();
    }
  });
});

for (const backend of ['inline', 'pool'] as const) describe(`anomalies on the ${backend} backend`, () => {
  it('quarantines a plugin whose denials burst, with the configured burst size and action quarantine', async () => {
    const { registry, events } = await testRegistry(backend, '  policy:\n    anomaly:\n      action: quarantine\n      denial_burst: 2\n');
    try {
      const id = await registry.loadPlugin(await signedPlugin('prober'));
      await registry.startPlugin(id);
      await registry.setPolicy(
        { ...registry.config, policy: { ...registry.config.policy, cedar: 'ops.cedar' } },
        'forbid(principal, action == ForgeOne::Action::"forge.register_extension", resource);',
      );
      for (let i = 0; i < 2; i += 1) {
        await rejectsWithCode(registry.call(id, 'register', fields('text.format', 'echo')), 'FO_ABI_GUEST_ERROR');
      }
      await until(() => registry.get(id).state === PluginState.Quarantined, 'the quarantine');
      assert.ok(events.some((event) => event.name === 'security.anomaly' && event.labels['kind'] === 'denial_burst'));
    } finally {
      await registry.close();
    }
  });
});

describe('restart: always', () => {
  it('retries a plugin whose start failed, until it runs', async () => {
    const { registry, events } = await testRegistry('inline', '    restart: always\n');
    let attempts = 0;
    try {
      registry.registerNative({
        name: 'flaky',
        version: '1.0.0',
        start: () => {
          attempts += 1;
          if (attempts < 3) throw new ForgeError('FO_ABI_LIFECYCLE_FAILED', `start failed (attempt ${attempts})`);
        },
      });
      await rejectsWithCode(registry.startPlugin('flaky'), 'FO_ABI_LIFECYCLE_FAILED');
      const failed = events.find((event) => event.name === 'plugin.lifecycle.failed');
      assert.deepEqual([failed?.labels['plugin_id'], failed?.labels['step'], failed?.labels['error_code']], ['flaky', 'start', 'FO_ABI_LIFECYCLE_FAILED']);
      await until(() => registry.get('flaky').state === PluginState.Running, 'the retried start');
      assert.equal(attempts, 3);
      assert.equal(registry.get('flaky').restarts, 2);
    } finally {
      await registry.close();
    }
  });
});

describe('PluginManager', () => {
  it('registers native plugins with the same lifecycle, ordered by dependencies with wasm plugins', async () => {
    const { registry } = await testRegistry();
    const manager = new PluginManager(registry);
    const steps: string[] = [];
    try {
      await manager.load(await signedPlugin('lib'));
      manager.register({
        name: 'native-app',
        version: '2.0.0',
        dependencies: { lib: '^1.0.0' },
        init: () => void steps.push('init'),
        start: () => void steps.push('start'),
        stop: () => void steps.push('stop'),
        exports: { shout: (input) => text(read(input).toUpperCase()) },
      });
      await manager.startAll();
      assert.equal(registry.get('lib').state, PluginState.Running);
      assert.equal(read(await registry.call('native-app', 'shout', text('hey'))), 'HEY');
      await manager.stopAll();
      assert.deepEqual(steps, ['init', 'start', 'stop']);
      assert.equal(registry.get('lib').state, PluginState.Stopped);
      throwsCode(() => manager.register({ name: 'Bad Name', version: 'x' }), 'FO_REGISTRY_INVALID_PLUGIN');
    } finally {
      await manager.close();
    }
  });

  it('loads every installed plugin at start-up, dependencies first, then starts them', async () => {
    const { registry, dir } = await testRegistry();
    const store = await PluginStore.open({ directory: join(dir, 'plugins'), verification: { verifySignatures: true, trustStore, now: NOW }, now: () => NOW });
    await store.install(await signedPlugin('zeta-app', '1.0.0', '[dependencies]\nalpha-lib = "^1.0.0"\n'));
    await store.install(await signedPlugin('alpha-lib'));
    const manager = new PluginManager(registry, store);
    try {
      assert.deepEqual(await manager.loadInstalled(), ['alpha-lib', 'zeta-app']);
      await manager.startAll();
      assert.deepEqual(registry.list().map((info) => [info.id, info.state]), [
        ['alpha-lib', PluginState.Running],
        ['zeta-app', PluginState.Running],
      ]);
    } finally {
      await manager.close();
    }
  });
});
