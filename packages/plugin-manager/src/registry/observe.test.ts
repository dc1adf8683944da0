import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, type LogRecord } from '@forgeone/common';
import { codeOf } from '@forgeone/common/testing';
import type { CallReport } from '../metrics/index.js';
import { PUBLISHERS, fields, packagedPlugin, signedPlugin, testRegistry, text } from './test-support/plugins.js';

const APP_TOML = '[dependencies]\nlib = "^1.0.0"\n\n[permissions]\nsyscalls = ["forge.call_plugin"]\n';

for (const backend of ['inline', 'pool'] as const) {
  describe(`call observation on the ${backend} backend`, () => {
    it('reports every call, from the API and from another plugin, with identity, outcome, fuel and memory; a throwing observer breaks nothing', async () => {
      const { registry } = await testRegistry(backend, '    fuel_per_call: 2000000\n');
      const reports: CallReport[] = [];
      registry.observe({
        call: () => {
          throw new Error('a broken observer');
        },
      });
      const stop = registry.observe({ call: (report) => reports.push(report) });
      try {
        await registry.loadPlugin(await signedPlugin('lib'));
        const app = await registry.loadPlugin(await signedPlugin('app', '1.0.0', APP_TOML, true, true));
        await registry.startPlugin(app);
        await registry.call(app, 'relay', fields('lib', 'echo', text('x')));
        const code = await codeOf(registry.call(app, 'no_such_export'));
        assert.deepEqual(
          reports.map((report) => [report.plugin.id, report.export, report.caller, report.outcome]),
          [
            ['lib', 'echo', app, 'ok'],
            [app, 'relay', undefined, 'ok'],
            [app, 'no_such_export', undefined, code],
          ],
        );
        const [nested, outer] = reports;
        assert.deepEqual(outer?.plugin, { id: app, publisher: PUBLISHERS.test, name: 'app', version: '1.0.0', digest: registry.get(app).digest });
        assert.ok((outer?.fuelUsed ?? 0n) > (nested?.fuelUsed ?? 0n) && (nested?.fuelUsed ?? 0n) > 0n, 'the caller used more fuel than the callee, both metered');
        assert.equal(outer?.memoryBytes, 65_536);
        assert.ok((outer?.durationSeconds ?? -1) > 0 && (outer?.durationSeconds ?? 0) >= (nested?.durationSeconds ?? Infinity), 'the outer call lasts longer than the one it made');
        assert.deepEqual(outer?.hostCalls, [], 'host calls are recorded only when tracing');
        stop();
        await registry.call(app, 'relay', fields('lib', 'echo', text('x')));
        assert.equal(reports.length, 3, 'no report after unsubscribing');
      } finally {
        await registry.close();
      }
    });

    it("tags a plugin's log records with its signed identity, not only its name", async () => {
      const records: LogRecord[] = [];
      const logger = createLogger((record) => records.push(record), 'trace');
      const { registry } = await testRegistry(backend, '', {}, { logger });
      try {
        const id = await registry.loadPlugin(await packagedPlugin({ name: 'talker', forwards: ['log'] }));
        await registry.startPlugin(id);
        await registry.call(id, 'call_log', Buffer.concat([Buffer.from([3]), Buffer.from('hello from the guest')]));
        const record = records.find((entry) => entry.message === 'hello from the guest');
        assert.ok(record !== undefined, 'the record reached the registry logger');
        assert.deepEqual(record.fields['plugin'], { id, publisher: PUBLISHERS.test, name: 'talker', version: '1.0.0', digest: registry.get(id).digest });
      } finally {
        await registry.close();
      }
    });
  });
}
