import { ForgeError } from '../errors/forge-error.js';
import { describeValue } from '../schema/format.js';

/**
 * The one check of a numeric limit handed to a component as an option (a size, a
 * count, a ratio). Each area keeps its own defaults and its own "limit exceeded"
 * codes; a malformed limit value is refused the same way everywhere, with
 * FO_LIMIT_INVALID, so a caller sees one code for one kind of mistake.
 */

/** The integers a limit accepts; both ends inclusive. */
export interface LimitRange {
  /** Smallest value accepted. Default 0. */
  readonly min?: number;
  /** Largest value accepted. Default Number.MAX_SAFE_INTEGER. */
  readonly max?: number;
}

/**
 * What is wrong with `value` as the integer limit `name`, or undefined when it is a
 * safe integer within `range` (default: any non-negative safe integer). For callers
 * that collect every problem before throwing.
 */
export function limitProblem(name: string, value: unknown, range: LimitRange = {}): string | undefined {
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return undefined;
  const expected = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`) : `an integer from ${min} to ${max}`;
  return `${name}: expected ${expected}, found ${describeValue(value)}`;
}

/**
 * What is wrong with `value` as the positive limit `name` (a ratio or a rate: a finite
 * number above 0, not necessarily whole), or undefined when it is one.
 */
export function positiveLimitProblem(name: string, value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return undefined;
  return `${name}: expected a positive number, found ${describeValue(value)}`;
}

/**
 * FO_LIMIT_INVALID listing `problems` (from {@link limitProblem} and
 * {@link positiveLimitProblem}); details.problems holds them all.
 */
export function invalidLimits(problems: readonly string[]): ForgeError {
  return new ForgeError('FO_LIMIT_INVALID', problems.join('; '), { details: { problems: [...problems] } });
}

/**
 * Checks an integer limit option.
 * @returns the value, typed
 * @throws ForgeError FO_LIMIT_INVALID unless `value` is a safe integer within `range`
 *   (default: any non-negative safe integer)
 */
export function checkLimitOption(name: string, value: unknown, range: LimitRange = {}): number {
  const problem = limitProblem(name, value, range);
  if (problem !== undefined) throw invalidLimits([problem]);
  return value as number;
}

/**
 * Checks a positive limit option (a ratio or a rate).
 * @returns the value, typed
 * @throws ForgeError FO_LIMIT_INVALID unless `value` is a finite number above 0
 */
export function checkPositiveLimit(name: string, value: unknown): number {
  const problem = positiveLimitProblem(name, value);
  if (problem !== undefined) throw invalidLimits([problem]);
  return value as number;
}

/** How one limit is checked: an integer range, or `positive` (a finite number above 0, a ratio or a rate). */
export type LimitRule = LimitRange | 'positive';

/**
 * The one limits resolver: fills the limits a caller left out from `defaults` and
 * checks every value by its rule (default: a non-negative safe integer), reporting
 * every malformed one at once. Only the keys of `defaults` are taken, so a caller may
 * pass a wider object.
 *
 * @param prefix names the limits in messages (`archive limit` gives `archive limit maxEntries: ...`)
 * @returns a frozen object with exactly the keys of `defaults`
 * @throws ForgeError FO_LIMIT_INVALID listing every malformed limit
 */
export function resolveLimits<T extends { readonly [K in keyof T]: number }>(
  prefix: string,
  defaults: T,
  given: Partial<Record<keyof T, unknown>> = {},
  rules: Partial<Record<keyof T, LimitRule>> = {},
): T {
  const resolved: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(defaults) as (keyof T & string)[]) {
    const value = given[key] ?? defaults[key];
    const rule = rules[key] ?? {};
    const name = `${prefix} ${key}`;
    const problem = rule === 'positive' ? positiveLimitProblem(name, value) : limitProblem(name, value, rule);
    if (problem !== undefined) problems.push(problem);
    resolved[key] = value;
  }
  if (problems.length > 0) throw invalidLimits(problems);
  return Object.freeze(resolved) as T;
}
