import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger, type LogRecord } from '@forgeone/common';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { DroppingExporter, FAILURE_LOG_INTERVAL_MS } from './span-export.js';
import { createTracing } from './tracing.js';

const failing = (error: Error, calls: { n: number }): SpanExporter => ({
  export: (_spans, done) => {
    calls.n += 1;
    done({ code: ExportResultCode.FAILED, error });
  },
  shutdown: () => Promise.resolve(),
});

const exportOnce = (exporter: SpanExporter, spans: number): Promise<ExportResult> =>
  new Promise((resolve) => exporter.export(Array.from({ length: spans }, () => ({}) as ReadableSpan), resolve));

describe('span export failures', () => {
  it('drops failed batches (one try each) and logs at most once a minute, with what was dropped meanwhile', async () => {
    const records: LogRecord[] = [];
    let now = 1_000_000;
    const calls = { n: 0 };
    const exporter = new DroppingExporter(failing(new Error('connection refused'), calls), createLogger((record) => records.push(record), 'trace'), () => now);
    for (let i = 0; i < 5; i += 1) assert.equal((await exportOnce(exporter, 2)).code, ExportResultCode.FAILED);
    assert.equal(calls.n, 5, 'each batch is tried once here; nothing is queued again');
    assert.equal(records.length, 1);
    assert.equal(records[0]?.fields['error'], 'connection refused');
    now += FAILURE_LOG_INTERVAL_MS - 1;
    await exportOnce(exporter, 3);
    assert.equal(records.length, 1, 'still within the minute');
    now += 1;
    await exportOnce(exporter, 1);
    assert.equal(records.length, 2);
    assert.equal(records[1]?.fields['batches'], 6, 'batches failed since the last report');
    assert.equal(records[1]?.fields['spans'], 12);
  });

  it('counts an exporter that throws as a failed export instead of letting it escape', async () => {
    const records: LogRecord[] = [];
    const throwing: SpanExporter = { export: () => { throw new Error('bug'); }, shutdown: () => Promise.resolve() };
    const result = await exportOnce(new DroppingExporter(throwing, createLogger((record) => records.push(record), 'trace')), 1);
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.equal(records.length, 1);
  });

  it('shuts down without hanging when the collector refuses connections, and logs the drop once', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve)); // nothing listens there now
    const records: LogRecord[] = [];
    const tracing = createTracing({ tracing_enabled: true, otlp_endpoint: `http://127.0.0.1:${port}/v1/traces` }, { serviceName: 'x', logger: createLogger((record) => records.push(record), 'trace'), exportDelayMs: 60_000 });
    assert.ok(tracing !== undefined);
    for (let i = 0; i < 3; i += 1) tracing.tracer.startSpan(`s${i}`).end();
    await tracing.flush();
    await tracing.shutdown();
    assert.equal(records.filter((record) => record.message.startsWith('exporting trace spans failed')).length, 1);
  });
});
