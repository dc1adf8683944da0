/**
 * A plugin's log record for a terminal (`forge logs`, and the plugin's records while
 * `forge call` hosts it in-process), or as one JSON line. The message and fields are the
 * plugin's own text: escaped for the terminal, never interpreted.
 */
import type { PluginLogRecord } from '../../../daemon/logs.js';
import { sanitizeLine, toSafeJsonLine } from '../../terminal.js';

export type { PluginLogRecord } from '../../../daemon/logs.js';

/** `TIME  LEVEL  [PLUGIN]  message  {fields}`, sanitised; the plugin column only when `withPlugin`. */
export function formatLogRecord(record: PluginLogRecord, withPlugin: boolean): string {
  const fields = record.fields !== null && typeof record.fields === 'object' && Object.keys(record.fields).length > 0 ? `  ${JSON.stringify(record.fields)}` : '';
  const parts = [String(record.time), String(record.level).toUpperCase().padEnd(5)];
  if (withPlugin) parts.push(String(record.plugin));
  parts.push(`${String(record.message)}${fields}`);
  return sanitizeLine(parts.join('  '));
}

/** The record as one line of JSON (the daemon's NDJSON shape), safe for a terminal. */
export function logRecordJson(record: PluginLogRecord): string {
  return toSafeJsonLine(record);
}
