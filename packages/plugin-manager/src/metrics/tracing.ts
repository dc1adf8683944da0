/**
 * OpenTelemetry traces of plugin work: a span per lifecycle step (`plugin.init`,
 * `plugin.start`, ...) and per plugin call (`plugin.call`), with a child span per host
 * call the plugin made during the call (named after the call: `forge.kv_get`,
 * `wasi_snapshot_preview1.fd_write`). Host calls are recorded where the plugin runs
 * (sandbox/host-call-trace.ts: the first 64 of a call, the rest counted) and become
 * spans here, on the host thread, with the times they were recorded at.
 *
 * ```ts
 * const tracing = createTracing(config.telemetry, { serviceName: 'forge-daemon', logger });
 * const registry = await PluginRegistry.create(config, { tracing, logger });
 * await registry.call('weather', 'forecast', input, { traceparent: request.headers.traceparent });
 * await tracing?.shutdown(); // flushes
 * ```
 *
 * The provider is never registered globally: the registry's spans go through this
 * object only. A span's parent is the W3C trace context its caller passes (a
 * `traceparent` header value, or an OTel Context); a malformed one is ignored and the
 * span starts a new trace. Spans leave in batches over OTLP/HTTP (span-export.ts).
 */
import type { Logger, TelemetryConfig } from '@forgeone/common';
import { silentLogger } from '@forgeone/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { CallReport, ObservedPlugin } from './observer.js';
import { DroppingExporter, otlpExporter } from './span-export.js';

/** Where a call's span hangs: a W3C `traceparent` (and `tracestate`) as received, or an OTel Context. */
export type TraceParent = { readonly traceparent: string; readonly tracestate?: string } | Context;

/** Options for {@link createTracing}. */
export interface TracingOptions {
  /** `service.name` of the spans' resource, e.g. `forge-daemon`. */
  readonly serviceName: string;
  /** `service.version`, when known. */
  readonly serviceVersion?: string;
  /** Where failed exports are reported (at most once a minute). Default: silent. */
  readonly logger?: Logger;
  /** Delay between two batch exports, in ms (default 2000). */
  readonly exportDelayMs?: number;
  /** The exporter (default: OTLP/HTTP JSON to telemetry.otlp_endpoint); for tests. */
  readonly exporter?: SpanExporter;
}

/** Longest export name kept on a span, in characters (the plugin chooses it). */
const MAX_EXPORT_CHARS = 128;

const propagator = new W3CTraceContextPropagator();

/**
 * Tracing as `telemetry` says: undefined when tracing_enabled is false (nothing is
 * recorded, and the registry does not time host calls), else a {@link Tracing} that
 * exports to telemetry.otlp_endpoint.
 */
export function createTracing(telemetry: Pick<TelemetryConfig, 'tracing_enabled' | 'otlp_endpoint'>, options: TracingOptions): Tracing | undefined {
  if (!telemetry.tracing_enabled) return undefined;
  return new Tracing(telemetry.otlp_endpoint, options);
}

/** A tracer provider and the spans of plugin work. See the module comment. */
export class Tracing {
  readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  #shutdown: Promise<void> | undefined;

  constructor(endpoint: string, options: TracingOptions) {
    const exporter = new DroppingExporter(options.exporter ?? otlpExporter(endpoint), options.logger ?? silentLogger);
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, ...(options.serviceVersion === undefined ? {} : { [ATTR_SERVICE_VERSION]: options.serviceVersion }) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: options.exportDelayMs ?? 2000 })],
      generalLimits: { attributeValueLengthLimit: 1024, attributeCountLimit: 64 },
    });
    this.tracer = this.provider.getTracer('forgeone.plugin-manager');
  }

  /** The context a span with parent `parent` starts in (the root for none, or for a malformed traceparent). */
  parentContext(parent: TraceParent | undefined): Context {
    if (parent === undefined) return ROOT_CONTEXT;
    if ('traceparent' in parent) return propagator.extract(ROOT_CONTEXT, parent, defaultTextMapGetter);
    return parent;
  }

  /** Starts the span of a call of `exportName` at `startTime` (ms since the epoch). */
  startCall(plugin: ObservedPlugin, exportName: string, parent: TraceParent | undefined, startTime: number): Span {
    return this.tracer.startSpan(
      'plugin.call',
      { kind: SpanKind.INTERNAL, startTime, attributes: { ...pluginAttributes(plugin), 'forgeone.export': exportName.slice(0, MAX_EXPORT_CHARS) } },
      this.parentContext(parent),
    );
  }

  /** Ends a call's span with its outcome and numbers, after adding a child span per host call it made. */
  endCall(span: Span, report: CallReport): void {
    span.setAttributes({
      'forgeone.outcome': report.outcome,
      'forgeone.fuel_used': Number(report.fuelUsed),
      'forgeone.host_calls': report.hostCalls.length + report.droppedHostCalls,
      'forgeone.host_calls.dropped': report.droppedHostCalls,
      ...(report.memoryBytes === undefined ? {} : { 'forgeone.memory_bytes': report.memoryBytes }),
      ...(report.caller === undefined ? {} : { 'forgeone.caller': report.caller }),
    });
    if (report.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: report.outcome });
    if (report.hostCalls.length > 0) {
      const parent = trace.setSpan(ROOT_CONTEXT, span);
      for (const call of report.hostCalls) {
        const child = this.tracer.startSpan(call.call, { kind: SpanKind.INTERNAL, startTime: call.start, attributes: { 'forgeone.decision': call.decision, 'forgeone.resource.kind': call.resourceKind } }, parent);
        if (call.decision === 'deny') child.setStatus({ code: SpanStatusCode.ERROR, message: 'denied' });
        child.end(call.end);
      }
    }
    span.end(report.startTime + report.durationSeconds * 1000);
  }

  /** Runs a lifecycle step of `plugin` inside a `plugin.<step>` span. */
  async lifecycle<T>(plugin: ObservedPlugin, step: string, run: () => Promise<T>): Promise<T> {
    const span = this.tracer.startSpan(`plugin.${step}`, { kind: SpanKind.INTERNAL, attributes: pluginAttributes(plugin) }, ROOT_CONTEXT);
    try {
      const value = await run();
      span.setAttribute('forgeone.outcome', 'ok');
      return value;
    } catch (error) {
      const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'FO_INTERNAL_UNEXPECTED';
      span.setAttribute('forgeone.outcome', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      throw error;
    } finally {
      span.end();
    }
  }

  /** Exports every finished span now. Never rejects (a failed export is dropped and logged). */
  async flush(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
  }

  /** Flushes the spans and stops exporting; idempotent. Never rejects. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.provider.shutdown().catch(() => undefined);
    return this.#shutdown;
  }
}

function pluginAttributes(plugin: ObservedPlugin): Record<string, string> {
  return { 'forgeone.plugin': plugin.id, 'forgeone.plugin.publisher': plugin.publisher, 'forgeone.plugin.version': plugin.version, 'forgeone.plugin.digest': plugin.digest };
}
