import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '../errors/index.js';
import { MetricType, TelemetryBus, TelemetryEvent, createLogger, recordEvent, type LogRecord } from './index.js';

describe('telemetry', () => {
  it('delivers events to every subscriber until it unsubscribes', () => {
    const bus = new TelemetryBus();
    const seen: string[] = [];
    const stop = bus.subscribe((event) => seen.push(`a:${event.name}`));
    bus.subscribe((event) => seen.push(`b:${event.name}`));
    recordEvent(new TelemetryEvent('plugin.lifecycle.start', MetricType.Counter, 1, { plugin_name: 'x' }), bus);
    stop();
    recordEvent(new TelemetryEvent('plugin.lifecycle.stop', MetricType.Counter, 1), bus);
    assert.deepEqual(seen, ['a:plugin.lifecycle.start', 'b:plugin.lifecycle.start', 'b:plugin.lifecycle.stop']);
  });

  it('isolates a throwing listener from the others and from the caller', () => {
    const failures: unknown[] = [];
    const bus = new TelemetryBus((error) => failures.push(error));
    let delivered = 0;
    bus.subscribe(() => {
      throw new Error('listener bug');
    });
    bus.subscribe(() => {
      delivered += 1;
    });
    bus.record(new TelemetryEvent('x.y', MetricType.Event, 1));
    assert.equal(delivered, 1);
    assert.equal(failures.length, 1);
  });

  it('accepts labels as pairs, like the original API', () => {
    const event = new TelemetryEvent('plugin.lifecycle.start', MetricType.Counter, 1, [
      ['plugin_id', '7'],
      ['version', '1.0.0'],
    ]);
    assert.deepEqual(event.labels, { plugin_id: '7', version: '1.0.0' });
    assert.ok(Object.isFrozen(event.labels));
  });

  it('refuses malformed names, values and labels', () => {
    const bad: [string, number, Record<string, string>][] = [
      ['Plugin Start', 1, {}],
      ['plugin.start', Number.NaN, {}],
      ['plugin.start', 1, { 'Bad-Key': 'x' }],
      ['plugin.start', 1, { k: 'v'.repeat(300) }],
    ];
    for (const [name, value, labels] of bad) {
      assert.throws(() => new TelemetryEvent(name, MetricType.Gauge, value, labels), (error: unknown) => ForgeError.is(error, 'FO_TELEMETRY_INVALID'));
    }
  });
});

describe('logger', () => {
  it('delivers records at or above its level with merged fields', () => {
    const records: LogRecord[] = [];
    const logger = createLogger((record) => records.push(record), 'info', { app: 'forge' }).child({ plugin: 'p' });
    logger.debug('hidden');
    logger.warn('shown', { n: 1 });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.level, 'warn');
    assert.deepEqual(records[0]?.fields, { app: 'forge', plugin: 'p', n: 1 });
  });
});
