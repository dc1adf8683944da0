export { MetricType, TelemetryEvent, type Labels } from './event.js';
export { TelemetryBus, defaultTelemetryBus, recordEvent, type TelemetryListener } from './bus.js';
export {
  LOG_LEVELS,
  createLogger,
  silentLogger,
  type LogFields,
  type LogLevel,
  type LogRecord,
  type Logger,
} from './logger.js';
