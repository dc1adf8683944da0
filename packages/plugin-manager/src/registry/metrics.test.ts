import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { PluginState } from '../lifecycle/index.js';
import { createMetrics, type PluginMetrics } from '../metrics/index.js';
import type { PluginRegistry } from './registry.js';
import { PUBLISHERS, fields, signedPlugin, testRegistry, text } from './test-support/plugins.js';
import { assertPromtoolAccepts, labelSets, sample } from './test-support/scrape.js';
import { until } from './test-support/until.js';

const APP_TOML = '[dependencies]\nlib = "^1.0.0"\n\n[permissions]\nsyscalls = ["forge.call_plugin"]\n';
const FORBID_LIB = 'forbid(principal, action == ForgeOne::Action::"forge.call_plugin", resource is ForgeOne::Target) when { resource.name == "lib" };';

/** Scrapes until `ready` holds for the text (pool workers report host-call counts when they go idle). */
async function scrapeUntil(metrics: PluginMetrics, ready: (text: string) => boolean): Promise<string> {
  let text = await metrics.metricsText();
  for (let i = 0; i < 1000 && !ready(text); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    text = await metrics.metricsText();
  }
  return text;
}

async function loadApp(registry: PluginRegistry): Promise<string> {
  await registry.loadPlugin(await signedPlugin('lib'));
  const app = await registry.loadPlugin(await signedPlugin('app', '1.0.0', APP_TOML, true, true));
  await registry.startPlugin(app);
  return app;
}

for (const backend of ['inline', 'pool'] as const) {
  describe(`Prometheus metrics on the ${backend} backend`, () => {
    it('counts calls, errors by code, latency, fuel, memory and host calls by decision after real calls; promtool accepts the scrape', async (t) => {
      const { registry, audit } = await testRegistry(backend, '    fuel_per_call: 2000000\n');
      const metrics = createMetrics(registry.config.telemetry, registry);
      assert.ok(metrics !== undefined, 'metrics_enabled defaults to true');
      try {
        const app = await loadApp(registry);
        for (let i = 0; i < 2; i += 1) await registry.call(app, 'relay', fields('lib', 'echo', text('x')));
        await registry.setPolicy({ ...registry.config, policy: { ...registry.config.policy, cedar: 'ops.cedar' } }, FORBID_LIB);
        const code = await codeOf(registry.call(app, 'relay', fields('lib', 'echo', text('x'))));
        assert.notEqual(code, 'ok');

        const scrape = await scrapeUntil(metrics, (s) => sample(s, 'forgeone_plugin_host_calls_total', { plugin: app, call: 'forge.call_plugin', decision: 'deny' }) === 1);
        assert.equal(sample(scrape, 'forgeone_plugin_calls_total', { plugin: app }), 3);
        assert.equal(sample(scrape, 'forgeone_plugin_calls_total', { plugin: 'lib' }), 2, 'calls between plugins count for the callee');
        assert.equal(sample(scrape, 'forgeone_plugin_call_errors_total', { plugin: app, code }), 1);
        assert.equal(sample(scrape, 'forgeone_plugin_call_errors_total', { plugin: 'lib', code }), undefined);
        assert.equal(sample(scrape, 'forgeone_plugin_call_duration_seconds_count', { plugin: app }), 3);
        assert.equal(sample(scrape, 'forgeone_plugin_call_duration_seconds_bucket', { plugin: app, le: '+Inf' }), 3);
        assert.equal(sample(scrape, 'forgeone_plugin_host_calls_total', { plugin: app, call: 'forge.call_plugin', decision: 'allow' }), 2);
        assert.equal(sample(scrape, 'forgeone_plugin_host_calls_total', { plugin: app, call: 'forge.call_plugin', decision: 'deny' }), 1);
        assert.ok((sample(scrape, 'forgeone_plugin_fuel_consumed_total', { plugin: app }) ?? 0) > 0, 'a metered plugin consumes fuel');
        assert.equal(sample(scrape, 'forgeone_plugin_memory_bytes', { plugin: app }), 65_536, "the guest's one page of memory");
        assert.equal(sample(scrape, 'forgeone_plugins', { state: PluginState.Running }), 2);
        assert.equal(sample(scrape, 'forgeone_plugins', { state: PluginState.Failed }), 0);
        const info = registry.get(app);
        assert.equal(sample(scrape, 'forgeone_plugin_info', { plugin: app, publisher: PUBLISHERS.test, version: '1.0.0', digest: info.digest }), 1);
        assert.equal(sample(scrape, 'forgeone_audit_records_total'), audit.stats().appended);
        assert.ok(audit.stats().appended > 0);
        assert.equal(typeof sample(scrape, 'forgeone_audit_seconds_since_checkpoint'), 'number');
        assert.ok(scrape.includes('forgeone_process_cpu_seconds_total'), 'process metrics are on the same registry');
        for (const set of labelSets(scrape, 'forgeone_plugin_calls_total')) assert.deepEqual(Object.keys(set), ['plugin'], 'no export name in labels');
        assertPromtoolAccepts(t, scrape);

        await registry.unloadPlugin(app);
        const after = await metrics.metricsText();
        assert.equal(sample(after, 'forgeone_plugin_calls_total', { plugin: app }), undefined, "an unloaded plugin's series are dropped");
        assert.equal(sample(after, 'forgeone_plugin_calls_total', { plugin: 'lib' }), 2);
      } finally {
        metrics.close();
        await registry.close();
      }
    });

    it('counts a quarantine by the restart policy and the crashes that led to it', async () => {
      const { registry } = await testRegistry(backend, '    quarantine_after: 1\n');
      const metrics = createMetrics(registry.config.telemetry, registry);
      assert.ok(metrics !== undefined);
      try {
        await registry.loadPlugin(await signedPlugin('lib'));
        await registry.startPlugin('lib');
        const code = await codeOf(registry.call('lib', 'trap'));
        await until(() => registry.get('lib').state === PluginState.Quarantined, 'the quarantine');
        const scrape = await metrics.metricsText();
        assert.equal(sample(scrape, 'forgeone_plugin_quarantines_total', { plugin: 'lib' }), 1);
        assert.equal(sample(scrape, 'forgeone_plugin_call_errors_total', { plugin: 'lib', code }), 1);
        assert.equal(sample(scrape, 'forgeone_plugins', { state: PluginState.Quarantined }), 1);
      } finally {
        metrics.close();
        await registry.close();
      }
    });

    it('collects nothing when telemetry.metrics_enabled is false: no metrics object, no host-call counting', async () => {
      const { registry } = await testRegistry(backend, '  telemetry:\n    metrics_enabled: false\n');
      let counted = 0;
      registry.observe({ hostCalls: () => (counted += 1) });
      try {
        assert.equal(createMetrics(registry.config.telemetry, registry), undefined);
        const app = await loadApp(registry);
        await registry.call(app, 'relay', fields('lib', 'echo', text('x')));
        registry.flushHostCallCounts();
        // Unloading reports what a gate still holds (synchronously, with the unload's answer).
        await registry.unloadPlugin(app);
        assert.equal(counted, 0);
      } finally {
        await registry.close();
      }
    });
  });
}
