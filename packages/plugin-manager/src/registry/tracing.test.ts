import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { createTracing } from '../metrics/index.js';
import { fields, read, signedPlugin, testRegistry, text } from './test-support/plugins.js';
import { otlpReceiver, type ReceivedSpan } from '../test-support/otlp.js';

const APP_TOML = '[dependencies]\nlib = "^1.0.0"\n\n[permissions]\nsyscalls = ["forge.call_plugin"]\n';
const FORBID_LIB = 'forbid(principal, action == ForgeOne::Action::"forge.call_plugin", resource is ForgeOne::Target) when { resource.name == "lib" };';

function traceparent(): { traceId: string; spanId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
}

function only(spans: readonly ReceivedSpan[], where: (span: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(where);
  assert.equal(found.length, 1, `exactly one ${what}, found ${found.length}`);
  return found[0] as ReceivedSpan;
}

for (const backend of ['inline', 'pool'] as const) {
  describe(`tracing on the ${backend} backend`, () => {
    it('exports a plugin.call span under the caller\'s traceparent, a child span per host call with its decision, and a span per lifecycle step', async () => {
      const receiver = await otlpReceiver();
      const tracing = createTracing({ tracing_enabled: true, otlp_endpoint: receiver.url }, { serviceName: 'forge-test', exportDelayMs: 60_000 });
      assert.ok(tracing !== undefined);
      const { registry } = await testRegistry(backend, '', {}, { tracing });
      try {
        await registry.loadPlugin(await signedPlugin('lib'));
        const app = await registry.loadPlugin(await signedPlugin('app', '1.0.0', APP_TOML, true, true));
        await registry.startPlugin(app);
        const allowed = traceparent();
        assert.equal(read(await registry.call(app, 'relay', fields('lib', 'echo', text('traced')), { traceparent: allowed.header })), 'traced');
        await registry.setPolicy({ ...registry.config, policy: { ...registry.config.policy, cedar: 'ops.cedar' } }, FORBID_LIB);
        const denied = traceparent();
        const code = await codeOf(registry.call(app, 'relay', fields('lib', 'echo', text('x')), { traceparent: denied.header }));
        await tracing.flush();
        const spans = receiver.spans;

        const call = only(spans, (span) => span.name === 'plugin.call' && span.traceId === allowed.traceId, 'call span in the allowed trace');
        assert.equal(call.parentSpanId, allowed.spanId, 'the call span is a child of the request span');
        assert.equal(call.attributes['forgeone.plugin'], app);
        assert.equal(call.attributes['forgeone.plugin.version'], '1.0.0');
        assert.equal(call.attributes['forgeone.export'], 'relay');
        assert.equal(call.attributes['forgeone.outcome'], 'ok');
        const hostCall = only(spans, (span) => span.parentSpanId === call.spanId, 'child of the call span');
        assert.equal(hostCall.name, 'forge.call_plugin');
        assert.equal(hostCall.traceId, allowed.traceId);
        assert.equal(hostCall.attributes['forgeone.decision'], 'allow');
        assert.equal(hostCall.attributes['forgeone.resource.kind'], 'plugin');
        assert.ok(hostCall.start >= call.start && hostCall.end <= call.end && hostCall.start <= hostCall.end, 'the host call lies within the call');

        const refused = only(spans, (span) => span.name === 'plugin.call' && span.traceId === denied.traceId, 'call span in the denied trace');
        assert.equal(refused.attributes['forgeone.outcome'], code);
        assert.equal(refused.statusCode, 2, 'an error status');
        const deniedCall = only(spans, (span) => span.parentSpanId === refused.spanId, 'child of the refused call');
        assert.equal(deniedCall.attributes['forgeone.decision'], 'deny');

        for (const step of ['init', 'start']) only(spans, (span) => span.name === `plugin.${step}` && span.attributes['forgeone.plugin'] === app, `plugin.${step} span of app`);
      } finally {
        await registry.close();
        await tracing.shutdown();
        await receiver.close();
      }
    });

    it('starts a new trace for a malformed traceparent rather than trusting it', async () => {
      const receiver = await otlpReceiver();
      const tracing = createTracing({ tracing_enabled: true, otlp_endpoint: receiver.url }, { serviceName: 'forge-test', exportDelayMs: 60_000 });
      assert.ok(tracing !== undefined);
      const { registry } = await testRegistry(backend, '', {}, { tracing });
      try {
        await registry.loadPlugin(await signedPlugin('lib'));
        await registry.startPlugin('lib');
        const forged = `00-${'0'.repeat(32)}-${'ab'.repeat(8)}-01`; // an all-zero trace id is invalid
        for (const header of ['garbage', forged, `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01\n00`]) await registry.call('lib', 'echo', text('x'), { traceparent: header });
        await tracing.flush();
        const calls = receiver.spans.filter((span) => span.name === 'plugin.call');
        assert.equal(calls.length, 3);
        for (const span of calls) {
          assert.equal(span.parentSpanId, '', 'a root span');
          assert.notEqual(span.traceId, '0'.repeat(32));
        }
      } finally {
        await registry.close();
        await tracing.shutdown();
        await receiver.close();
      }
    });
  });
}

describe('tracing configuration', () => {
  it('is off when telemetry.tracing_enabled is false', () => {
    assert.equal(createTracing({ tracing_enabled: false, otlp_endpoint: 'http://127.0.0.1:1/v1/traces' }, { serviceName: 'x' }), undefined);
  });
});
