import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TelemetryBus, type TelemetryEvent } from '@forgeone/common';
import { AuditLog, readAuditTail } from '../audit/index.js';
import { AnomalyDetector } from './detector.js';
import { anomalyResponder } from './responder.js';

const digest = `sha256:${'5'.repeat(64)}`;

describe('anomaly responder', () => {
  it('turns a finding into a security event, an audit record and, when configured, a quarantine', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-anomaly-'));
    const log = await AuditLog.open({ path: join(dir, 'audit.log') });
    const events: TelemetryEvent[] = [];
    const telemetry = new TelemetryBus();
    telemetry.subscribe((event) => events.push(event));
    const quarantined: string[] = [];
    const detector = new AnomalyDetector(
      anomalyResponder({ telemetry, audit: log, action: 'quarantine', quarantine: (plugin) => quarantined.push(plugin), principalOf: () => 'plugin:acme/notes@1.0.0' }),
      { denialBurst: 2, warmupMs: 1e9 },
    );
    detector.observe(digest, 'forge.kv_get', false, 0);
    detector.observe(digest, 'forge.kv_get', false, 1);
    await log.close();
    assert.deepEqual(quarantined, [digest]);
    assert.deepEqual(events.map((event) => [event.name, event.labels['kind'], event.labels['action']]), [['security.anomaly', 'denial_burst', 'quarantine']]);
    const tail = await readAuditTail({ path: join(dir, 'audit.log'), limit: 10 });
    const record = tail.records.find((entry) => 'action' in entry && entry.action === 'security.anomaly') as { principal: string; plugin: string; reason: string } | undefined;
    assert.ok(record !== undefined);
    assert.equal(record.principal, 'plugin:acme/notes@1.0.0');
    assert.equal(record.plugin, digest);
    assert.match(record.reason, /^denial_burst: 2 denied calls/);
  });

  it('only alerts when the action is alert', () => {
    const quarantined: string[] = [];
    const report = anomalyResponder({ telemetry: new TelemetryBus(), action: 'alert', quarantine: (plugin) => quarantined.push(plugin) });
    report({ kind: 'first_use', plugin: digest, call: 'forge.http_request', detail: 'x', at: 0 });
    assert.deepEqual(quarantined, []);
  });
});
