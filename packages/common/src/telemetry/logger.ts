/** Log severities, least to most severe; `silent` turns logging off. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields attached to a log record. */
export type LogFields = Readonly<Record<string, unknown>>;

/** One log record as delivered to a sink. */
export interface LogRecord {
  readonly level: Exclude<LogLevel, 'silent'>;
  readonly message: string;
  readonly fields: LogFields;
  readonly time: number;
}

/**
 * The logger lower layers receive by injection. Libraries never print: they log
 * here, and the application decides where records go.
 */
export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
}

/**
 * A logger that passes records at or above `level` to `sink`.
 * @param level least severe level delivered (default `info`)
 */
export function createLogger(sink: (record: LogRecord) => void, level: LogLevel = 'info', base: LogFields = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (recordLevel: LogRecord['level']) => (message: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(recordLevel) >= threshold) sink({ level: recordLevel, message, fields: { ...base, ...fields }, time: Date.now() });
  };
  return {
    trace: emit('trace'),
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger(sink, level, { ...base, ...fields }),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger(() => {}, 'silent');
