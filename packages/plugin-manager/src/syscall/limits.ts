/**
 * The limits every forge.* call enforces, with their defaults. Sizes are bytes,
 * durations milliseconds, rates calls per second. Each limit answers with a stable
 * code when reached (listed with the limit); none of them traps the guest.
 */
import { ForgeError, describeValue, invalidLimits, limitProblem, positiveLimitProblem } from '@forgeone/common';
import { MAX_REGION_BYTES } from '../abi/index.js';

/** Limits of the key-value store. */
export interface KvLimits {
  /** Longest key (default 512); FO_SYSCALL_KV_KEY_TOO_LARGE. */
  readonly maxKeyBytes: number;
  /** Largest value (default 1 MiB); FO_SYSCALL_KV_VALUE_TOO_LARGE. */
  readonly maxValueBytes: number;
  /** Sum of every key's and value's length in one plugin's store (default 64 MiB); FO_SYSCALL_KV_QUOTA_EXCEEDED. */
  readonly maxTotalBytes: number;
  /** Most keys one kv_list answer holds (default 1000); a larger request is cut to it. */
  readonly maxListKeys: number;
}

/** Limits of forge.http_request. */
export interface HttpLimits {
  /** Largest request body (default 1 MiB); FO_SYSCALL_PAYLOAD_TOO_LARGE. */
  readonly maxRequestBodyBytes: number;
  /** Largest response body (default 4 MiB); FO_SYSCALL_HTTP_RESPONSE_TOO_LARGE. */
  readonly maxResponseBytes: number;
  /** Timeout when the request names none (default 10 000 ms); FO_SYSCALL_HTTP_TIMEOUT. */
  readonly defaultTimeoutMs: number;
  /** Longest timeout a request may ask for (default 30 000 ms); longer ones are cut to it. */
  readonly maxTimeoutMs: number;
  /** Most redirects followed (default 5); FO_SYSCALL_HTTP_TOO_MANY_REDIRECTS. */
  readonly maxRedirects: number;
}

/** Limits of forge.file_read and forge.file_write. */
export interface FileLimits {
  /** Largest file file_read returns (default 16 MiB); FO_SYSCALL_FILE_TOO_LARGE. */
  readonly maxReadBytes: number;
  /** Most bytes one file_write writes (default 16 MiB); FO_SYSCALL_FILE_TOO_LARGE. */
  readonly maxWriteBytes: number;
}

/** A token bucket: `perSecond` tokens flow in, at most `burst` are kept; each call takes one. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** The calls that are rate-limited. */
export type RateLimitedCall = 'log' | 'emit_event';

/** Every limit, resolved. */
export interface HostCallLimits {
  readonly kv: KvLimits;
  readonly http: HttpLimits;
  readonly file: FileLimits;
  /** Largest emit_event payload (default 64 KiB); FO_SYSCALL_PAYLOAD_TOO_LARGE. */
  readonly maxEventPayloadBytes: number;
  /** Most bytes one random_get returns (default 64 KiB); FO_SYSCALL_PAYLOAD_TOO_LARGE. */
  readonly maxRandomBytes: number;
  /** Rates per plugin (default log 200/s burst 1000, emit_event 50/s burst 100); `off` disables one; FO_SYSCALL_RATE_LIMITED. */
  readonly rates: Readonly<Record<RateLimitedCall, RateLimit | 'off'>>;
}

/** Overrides of {@link HostCallLimits}; what is left out keeps its default. */
export interface HostCallLimitsInput {
  readonly kv?: Partial<KvLimits>;
  readonly http?: Partial<HttpLimits>;
  readonly file?: Partial<FileLimits>;
  readonly maxEventPayloadBytes?: number;
  readonly maxRandomBytes?: number;
  readonly rates?: Partial<Record<RateLimitedCall, RateLimit | 'off'>>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The defaults. */
export const DEFAULT_HOST_CALL_LIMITS: HostCallLimits = Object.freeze({
  kv: Object.freeze({ maxKeyBytes: 512, maxValueBytes: MiB, maxTotalBytes: 64 * MiB, maxListKeys: 1000 }),
  http: Object.freeze({ maxRequestBodyBytes: MiB, maxResponseBytes: 4 * MiB, defaultTimeoutMs: 10_000, maxTimeoutMs: 30_000, maxRedirects: 5 }),
  file: Object.freeze({ maxReadBytes: 16 * MiB, maxWriteBytes: 16 * MiB }),
  maxEventPayloadBytes: 64 * KiB,
  maxRandomBytes: 64 * KiB,
  rates: Object.freeze({ log: Object.freeze({ perSecond: 200, burst: 1000 }), emit_event: Object.freeze({ perSecond: 50, burst: 100 }) }),
});

/** Largest total store size accepted: 2^48 bytes (a bound that keeps the arithmetic exact). */
const MAX_STORE_BYTES = 2 ** 48;

/**
 * Fills defaults and checks every limit.
 *
 * @throws ForgeError FO_LIMIT_INVALID listing every malformed limit
 */
export function resolveHostCallLimits(input: HostCallLimitsInput = {}): HostCallLimits {
  const problems: string[] = [];
  const limits = collectHostCallLimits(input, problems);
  if (problems.length > 0) throw invalidLimits(problems);
  return limits;
}

/** Resolved limits by their input's key, at most {@link MAX_MEMO} (deeply frozen, so plugins may share them). */
const memo = new Map<string, HostCallLimits>();
const MAX_MEMO = 64;

/** A key for `input` that tells apart every number (NaN, Infinity), or undefined when it has none (a bigint). */
function memoKey(input: HostCallLimitsInput): string | undefined {
  try {
    return JSON.stringify(input, (_key, value: unknown) => (typeof value === 'number' ? `n:${String(value)}` : typeof value === 'string' ? `s:${value}` : value));
  } catch {
    return undefined;
  }
}

/**
 * {@link resolveHostCallLimits}, adding problems to `problems` instead of throwing. Valid
 * inputs seen before return the same frozen object: a thread hosting thousands of plugins
 * with the same limits holds them once.
 */
export function collectHostCallLimits(input: HostCallLimitsInput, problems: string[]): HostCallLimits {
  const key = memoKey(input);
  const known = key === undefined ? undefined : memo.get(key);
  if (known !== undefined) return known;
  const before = problems.length;
  const limits = computeLimits(input, problems);
  if (key !== undefined && problems.length === before) {
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(key, limits);
  }
  return limits;
}

function computeLimits(input: HostCallLimitsInput, problems: string[]): HostCallLimits {
  const d = DEFAULT_HOST_CALL_LIMITS;
  const size = (path: string, value: number | undefined, fallback: number, max = MAX_REGION_BYTES, min = 0): number => {
    const v = value ?? fallback;
    const problem = limitProblem(`limits.${path}`, v, { min, max });
    if (problem !== undefined) problems.push(problem);
    return v;
  };
  const rate = (call: RateLimitedCall): RateLimit | 'off' => {
    const value = input.rates?.[call] ?? d.rates[call];
    if (value === 'off') return value;
    if (typeof value !== 'object' || value === null) {
      problems.push(`limits.rates.${call}: expected "off" or { perSecond > 0, burst >= 1 (integer) }, found ${describeValue(value)}`);
      return Object.freeze({ perSecond: 0, burst: 0 });
    }
    for (const problem of [positiveLimitProblem(`limits.rates.${call}.perSecond`, value.perSecond), limitProblem(`limits.rates.${call}.burst`, value.burst, { min: 1 })]) {
      if (problem !== undefined) problems.push(problem);
    }
    return Object.freeze({ perSecond: value.perSecond, burst: value.burst });
  };
  const kv = input.kv ?? {};
  const http = input.http ?? {};
  const file = input.file ?? {};
  const limits: HostCallLimits = Object.freeze({
    kv: Object.freeze({
      maxKeyBytes: size('kv.maxKeyBytes', kv.maxKeyBytes, d.kv.maxKeyBytes, 64 * KiB, 1),
      maxValueBytes: size('kv.maxValueBytes', kv.maxValueBytes, d.kv.maxValueBytes, 256 * MiB),
      maxTotalBytes: size('kv.maxTotalBytes', kv.maxTotalBytes, d.kv.maxTotalBytes, MAX_STORE_BYTES),
      maxListKeys: size('kv.maxListKeys', kv.maxListKeys, d.kv.maxListKeys, 100_000, 1),
    }),
    http: Object.freeze({
      maxRequestBodyBytes: size('http.maxRequestBodyBytes', http.maxRequestBodyBytes, d.http.maxRequestBodyBytes, 256 * MiB),
      maxResponseBytes: size('http.maxResponseBytes', http.maxResponseBytes, d.http.maxResponseBytes, 256 * MiB),
      defaultTimeoutMs: size('http.defaultTimeoutMs', http.defaultTimeoutMs, d.http.defaultTimeoutMs, 600_000, 1),
      maxTimeoutMs: size('http.maxTimeoutMs', http.maxTimeoutMs, d.http.maxTimeoutMs, 600_000, 1),
      maxRedirects: size('http.maxRedirects', http.maxRedirects, d.http.maxRedirects, 20),
    }),
    file: Object.freeze({
      maxReadBytes: size('file.maxReadBytes', file.maxReadBytes, d.file.maxReadBytes, 256 * MiB),
      maxWriteBytes: size('file.maxWriteBytes', file.maxWriteBytes, d.file.maxWriteBytes, 256 * MiB),
    }),
    maxEventPayloadBytes: size('maxEventPayloadBytes', input.maxEventPayloadBytes, d.maxEventPayloadBytes, 16 * MiB),
    maxRandomBytes: size('maxRandomBytes', input.maxRandomBytes, d.maxRandomBytes, 16 * MiB),
    rates: Object.freeze({ log: rate('log'), emit_event: rate('emit_event') }),
  });
  if (limits.http.defaultTimeoutMs > limits.http.maxTimeoutMs) {
    problems.push(`limits.http.defaultTimeoutMs (${limits.http.defaultTimeoutMs}) must not exceed limits.http.maxTimeoutMs (${limits.http.maxTimeoutMs})`);
  }
  return limits;
}

/** FO_SYSCALL_INVALID_OPTIONS listing `problems`. */
export function invalidOptions(problems: readonly string[]): ForgeError {
  return new ForgeError('FO_SYSCALL_INVALID_OPTIONS', `forge host function options: ${problems.join('; ')}`, { details: { problems } });
}
