/**
 * Sizes and durations as people write them in configuration files and manifests.
 *
 * Sizes are binary, as in Docker: `K`, `KB` and `KiB` all mean 1024 bytes, `MB` means
 * 1,048,576 bytes, and so on. A bare integer is a number of bytes. Durations take the
 * units `ms`, `s`, `m`, `h` and `d`, and may be compound (`1m30s`).
 */
import { INVALID, integer, anyOf, string, transform, type Invalid, type Schema } from './schema.js';

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Parses `"512MB"`, `"64KiB"`, `"1.5G"` or `"4096"` to bytes; undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const match = SIZE_PATTERN.exec(text.trim());
  if (match === null) return undefined;
  const unit = SIZE_UNITS[(match[2] ?? '').toLowerCase() || 'b'];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Formats bytes in the largest binary unit that divides them exactly: `536870912` -> `"512MiB"`. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Parses `"30s"`, `"500ms"`, `"1m30s"` or `"2h"` to milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = DURATION_PART.exec(trimmed); match !== null; match = DURATION_PART.exec(trimmed)) {
    total += Number(match[1]) * (DURATION_UNITS[match[2] ?? ''] ?? Number.NaN);
    consumed = DURATION_PART.lastIndex;
  }
  if (consumed !== trimmed.length) return undefined;
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Formats milliseconds compactly: `90000` -> `"1m30s"`, `1500` -> `"1500ms"`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms / 1000;
  let out = '';
  for (const [unit, seconds] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= seconds) {
      out += `${Math.floor(rest / seconds)}${unit}`;
      rest %= seconds;
    }
  }
  return out;
}

function bounded(value: number | undefined, min: number, max: number): number | Invalid {
  return value !== undefined && value >= min && value <= max ? value : INVALID;
}

/**
 * A size in bytes, written as an integer or a string with a unit. Normalises to bytes.
 * @param min smallest accepted size in bytes
 * @param max largest accepted size in bytes
 */
export function size(min = 0, max = Number.MAX_SAFE_INTEGER): Schema<number> {
  const expected = `a size like "512MB" from ${formatSize(min)} to ${formatSize(max)}`;
  return transform(
    anyOf<string | number>(expected, [integer({ min: 0 }), string()]),
    expected,
    (value) => bounded(typeof value === 'number' ? value : parseSize(value), min, max),
    formatSize,
  );
}

/**
 * A duration, written as a string with units (`"30s"`). Normalises to milliseconds.
 * Bare numbers are refused: `30` could mean seconds or milliseconds.
 */
export function duration(min = 0, max = Number.MAX_SAFE_INTEGER): Schema<number> {
  const expected = `a duration like "30s" from ${formatDuration(min)} to ${formatDuration(max)}`;
  return transform(string(), expected, (value) => bounded(parseDuration(value), min, max), formatDuration);
}
