/**
 * The span exporter tracing uses: OTLP over HTTP with JSON bodies to
 * telemetry.otlp_endpoint, behind a wrapper that drops what fails.
 *
 * What bounds it: the batch processor keeps at most 2048 spans and drops the rest
 * (never blocking a plugin call); each export is one request with a time limit; the
 * OTLP exporter retries a failed request a few times with back-off and then gives up;
 * a failed batch is dropped, not queued again. The failure is logged at most once per
 * {@link FAILURE_LOG_INTERVAL_MS}, with how many batches failed meanwhile, so a
 * collector that is down does not flood the log.
 */
import type { Logger } from '@forgeone/common';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** At most one log record about failed exports per this many ms. */
export const FAILURE_LOG_INTERVAL_MS = 60_000;

/** Time limit of one export request, in ms. */
export const EXPORT_TIMEOUT_MS = 10_000;

/** An OTLP/HTTP (JSON) exporter to `url`. */
export function otlpExporter(url: string): SpanExporter {
  return new OTLPTraceExporter({ url, timeoutMillis: EXPORT_TIMEOUT_MS });
}

/** Wraps an exporter: failures are dropped and logged at most once a minute (see the module comment). */
export class DroppingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #logger: Logger;
  readonly #clock: () => number;
  #lastLogged = Number.NEGATIVE_INFINITY;
  #failedSinceLog = 0;
  #droppedSinceLog = 0;

  constructor(inner: SpanExporter, logger: Logger, clock: () => number = Date.now) {
    this.#inner = inner;
    this.#logger = logger;
    this.#clock = clock;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    let settled = false;
    const finish = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      if (result.code !== ExportResultCode.SUCCESS) this.#failed(spans.length, result.error);
      done(result);
    };
    try {
      this.#inner.export(spans, finish);
    } catch (error) {
      finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  #failed(spans: number, error: Error | undefined): void {
    this.#failedSinceLog += 1;
    this.#droppedSinceLog += spans;
    const now = this.#clock();
    if (now - this.#lastLogged < FAILURE_LOG_INTERVAL_MS) return;
    this.#lastLogged = now;
    this.#logger.warn('exporting trace spans failed; they were dropped', {
      batches: this.#failedSinceLog,
      spans: this.#droppedSinceLog,
      error: error?.message ?? 'unknown',
      next_report_in_s: FAILURE_LOG_INTERVAL_MS / 1000,
    });
    this.#failedSinceLog = 0;
    this.#droppedSinceLog = 0;
  }
}
