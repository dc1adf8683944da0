/**
 * The daemon's events (GET /v1/events) for a terminal, one line each. Plugin names are
 * checked names, but event payloads, audit resources and reasons are whatever a plugin
 * or a caller put there: every field is escaped, newlines included.
 */
import { sanitizeLine } from '../../terminal.js';

/** The event types the daemon streams. */
export const EVENT_TYPES = ['lifecycle', 'plugin', 'audit'] as const;

type Data = Readonly<Record<string, unknown>>;

function field(data: Data, key: string): string {
  const value = data[key];
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A plugin event's payload (base64 on the wire): its text when it is UTF-8, else `base64:...`. */
export function payloadText(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  try {
    return JSON.stringify(UTF8.decode(bytes));
  } catch {
    return `base64:${bytes.toString('base64')}`;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? '';
}

function errorText(error: unknown): string {
  if (error === undefined || error === null) return '';
  if (typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return `  error: ${text(code ?? '')}${message === undefined ? '' : `: ${text(message)}`}`;
  }
  return `  error: ${text(error)}`;
}

/** One event as a line (without its newline). */
export function formatEvent(event: string, data: Data): string {
  switch (event) {
    case 'lifecycle': {
      const step = field(data, 'step');
      return sanitizeLine(`${field(data, 'time')}  lifecycle  ${field(data, 'plugin')}  ${field(data, 'from')} -> ${field(data, 'to')}${step === '' ? '' : ` (${step})`}${errorText(data['error'])}`);
    }
    case 'plugin':
      return sanitizeLine(`${field(data, 'time')}  plugin  ${field(data, 'plugin')}  ${field(data, 'name')}  ${payloadText(field(data, 'payload'))}`);
    case 'audit': {
      const reason = field(data, 'reason');
      const parts = [field(data, 'ts'), 'audit', `#${field(data, 'seq')}`, data['decision'] === 'deny' ? 'DENY ' : field(data, 'decision'), field(data, 'principal'), field(data, 'action')];
      if (field(data, 'resource') !== '') parts.push(field(data, 'resource'));
      if (reason !== '') parts.push(`(${reason})`);
      return sanitizeLine(parts.join('  '));
    }
    default:
      return sanitizeLine(`${event}  ${JSON.stringify(data)}`);
  }
}
