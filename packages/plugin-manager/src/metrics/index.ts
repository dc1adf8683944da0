export { StartupTimer } from './startup-timer.js';
export type { CallReport, ObservedAnomaly, ObservedPlugin, RegistryObserver } from './observer.js';
export { Tracing, createTracing, type TraceParent, type TracingOptions } from './tracing.js';
export { DroppingExporter, EXPORT_TIMEOUT_MS, FAILURE_LOG_INTERVAL_MS } from './span-export.js';
export { CALL_SECONDS_BUCKETS, PluginMetrics, createMetrics, type MetricsOptions, type MetricsSource } from './prometheus.js';
export { createJsonLogger, type JsonLoggerOptions } from './json-logger.js';
