/**
 * How values read on the dashboard. Pure functions, no DOM.
 *
 * Strings from the API may be plugin-supplied: {@link plain} makes them safe to show as
 * text (they are never markup anyway, see dom.ts), bounded, without control characters
 * or bidirectional overrides that could make one line look like another.
 */

/** C0/C1 controls (but tab and newline) and the bidi embedding, override and isolate characters. */
const UNSHOWABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Any API value as text for the page: strings as they are, other values as JSON, with
 * unshowable characters replaced by U+FFFD and at most `max` characters (default 500).
 */
export function plain(value: unknown, max = 500): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
  const clean = text.replace(UNSHOWABLE, '\ufffd');
  return clean.length > max ? `${clean.slice(0, max - 1)}\u2026` : clean;
}

/** A finite number, or undefined for anything else. */
export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A count or rate with at most three significant digits: 0, <0.01, 0.25, 12.5, 1.2k, 3.4M. */
export function compact(value: number | undefined): string {
  if (value === undefined) return '\u2013';
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toPrecision(3)}k`;
  if (abs >= 100 || value === 0) return String(Math.round(value));
  if (abs < 0.01) return value > 0 ? '<0.01' : '>-0.01';
  return String(Number(value.toPrecision(3)));
}

/** Bytes in binary units: 512 B, 1.5 MiB. */
export function bytes(value: number | undefined): string {
  if (value === undefined) return '\u2013';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? String(scaled) : scaled.toPrecision(3)} ${units[unit] ?? 'B'}`;
}

/** A duration given in seconds: 850 us, 12.5 ms, 1.2 s, 3 min, 2.5 h. */
export function seconds(value: number | undefined): string {
  if (value === undefined) return '\u2013';
  if (value === 0) return '0';
  if (value < 1e-3) return `${Number((value * 1e6).toPrecision(3))} \u00b5s`;
  if (value < 1) return `${Number((value * 1e3).toPrecision(3))} ms`;
  if (value < 120) return `${Number(value.toPrecision(3))} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${Number((value / 3600).toPrecision(3))} h`;
}

/** A time (ISO string or epoch milliseconds) as local HH:MM:SS, or the input as text when it is not a time. */
export function clock(value: unknown): string {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) return plain(value, 40);
  const date = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A time as milliseconds since the epoch, or undefined. */
export function epochMs(value: unknown): number | undefined {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A plugin event's payload (base64) for people: its UTF-8 text when it is text, else its
 * size. Never markup: the result is shown with textContent like everything else.
 */
export function payloadText(base64: unknown, max = 200): string {
  if (typeof base64 !== 'string') return '';
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return '(payload is not base64)';
  }
  const data = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  try {
    return plain(new TextDecoder('utf-8', { fatal: true }).decode(data), max);
  } catch {
    return `(${data.length} bytes of binary data)`;
  }
}
