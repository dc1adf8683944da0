/**
 * The host's structured log: a {@link Logger} backed by pino, writing one JSON object
 * per line, at or above telemetry.log_level.
 *
 * ```ts
 * const logger = createJsonLogger(config.telemetry, { base: { service: 'forge-daemon' } });
 * const registry = await PluginRegistry.create(config, { logger });
 * ```
 *
 * A line: `{"level":"warn","time":"2025-01-01T00:00:00.000Z","pid":1,"service":"forge-daemon",
 * "msg":"...", ...fields}`. The registry logs a plugin's records (forge.log, its stdout
 * and stderr lines, host-function failures) through a child tagged with the plugin's
 * identity, `"plugin":{"id","publisher","name","version","digest"}`, so a line names the
 * signed package that wrote it. A plugin's text is a JSON string value: a newline or a
 * quote in it cannot start a line or a field of its own.
 */
import type { LOG_LEVELS, LogFields, Logger, TelemetryConfig } from '@forgeone/common';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

/** Options for {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Where lines go: a file descriptor (default 1, standard output) or a stream. Writes to a descriptor are synchronous. */
  readonly destination?: number | DestinationStream;
  /** Fields on every line (e.g. `{ service: 'forge-daemon' }`). */
  readonly base?: LogFields;
}

/** A {@link Logger} writing JSON lines; see the module comment. */
export function createJsonLogger(telemetry: Pick<TelemetryConfig, 'log_level'>, options: JsonLoggerOptions = {}): Logger {
  const destination = options.destination ?? 1;
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  const root = pino(
    {
      level: telemetry.log_level,
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return wrap(root, new Set(['level', 'time', 'pid', 'msg', ...Object.keys(options.base ?? {})]));
}

/** A field named like one the line already has (`pid`, `msg`, a base field) is written as `field_<name>`: a line never holds one key twice. */
function unclashed(fields: LogFields, reserved: ReadonlySet<string>): LogFields {
  if (!Object.keys(fields).some((key) => reserved.has(key))) return fields;
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [reserved.has(key) ? `field_${key}` : key, value]));
}

function wrap(logger: Pino, reserved: ReadonlySet<string>): Logger {
  const at =
    (level: (typeof LOG_LEVELS)[number] & keyof Pino) =>
    (message: string, fields?: LogFields): void => {
      if (fields === undefined) logger[level](message);
      else logger[level](unclashed(fields, reserved), message);
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(logger.child(unclashed(fields, reserved)), new Set([...reserved, ...Object.keys(fields)])),
  };
}
