/**
 * A small validation library for configuration files, manifests and host-call
 * arguments. It differs from general-purpose validators in three ways that matter
 * here: it collects every problem in one pass (so a user fixes a file once), every
 * problem says where (a key path), what was expected and what was found, and
 * unknown object keys are always rejected, never ignored.
 *
 * Schemas also describe themselves ({@link Schema.doc}), which is how the
 * configuration and manifest references in docs/ are generated.
 */
import { describeValue } from './format.js';

/** One validation problem. */
export interface Issue {
  /** Where, as a key path: `plugin_manager.sandbox.memory_limit`, `permissions.volumes[0].mode`. */
  readonly path: string;
  /** What was expected there, e.g. `a size like "512MB"`. */
  readonly expected: string;
  /** What was found, e.g. `"lots"` or `an object`. */
  readonly found: string;
}

/** Formats an issue as one line: `path: expected X, found Y`. */
export function formatIssue(issue: Issue): string {
  return `${issue.path === '' ? '(root)' : issue.path}: expected ${issue.expected}, found ${issue.found}`;
}

/** Returned by {@link Schema.decode} when the value is invalid; issues were recorded. */
export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

/** Self-description of a schema, for generated reference documentation. */
export type SchemaDoc =
  | { readonly type: 'scalar'; readonly expected: string }
  | { readonly type: 'array'; readonly expected: string; readonly item: SchemaDoc }
  | { readonly type: 'record'; readonly expected: string; readonly value: SchemaDoc }
  | { readonly type: 'object'; readonly expected: string; readonly fields: readonly FieldDoc[] };

/** Self-description of one object field. */
export interface FieldDoc {
  readonly key: string;
  readonly required: boolean;
  readonly description: string;
  /** The default as written in a file, if the field has one. */
  readonly default?: string;
  readonly schema: SchemaDoc;
}

/** A validator and normaliser from untrusted input to `T`. */
export interface Schema<T> {
  /** What the schema accepts, phrased to follow "expected". */
  readonly expected: string;
  /**
   * Checks and normalises `value`. On failure, pushes one or more issues and returns
   * {@link INVALID}; never throws for bad input.
   */
  decode(value: unknown, path: string, issues: Issue[]): T | Invalid;
  /**
   * Turns a decoded value back into the form a user writes in a file (`512MiB`, not
   * 536870912), such that decoding the result gives the same value again.
   */
  encode(value: T): unknown;
  /** Self-description for documentation. */
  doc(): SchemaDoc;
}

/** The output type of a schema. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Result of {@link validate}. */
export type Validation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: Issue[] };

/** Runs a schema over a value and returns the normalised value or every issue found. */
export function validate<T>(schema: Schema<T>, value: unknown, rootPath = ''): Validation<T> {
  const issues: Issue[] = [];
  const result = schema.decode(value, rootPath, issues);
  if (result === INVALID || issues.length > 0) {
    if (issues.length === 0) issues.push({ path: rootPath, expected: schema.expected, found: describeValue(value) });
    return { ok: false, issues };
  }
  return { ok: true, value: result };
}

function scalar<T>(expected: string, check: (value: unknown) => T | Invalid): Schema<T> {
  return {
    expected,
    decode(value, path, issues) {
      const result = check(value);
      if (result === INVALID) issues.push({ path, expected, found: describeValue(value) });
      return result;
    },
    encode: (value) => value,
    doc: () => ({ type: 'scalar', expected }),
  };
}

/** Options for {@link string}. */
export interface StringOptions {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: RegExp;
  /** Replaces the generated "expected" phrase, e.g. `a plugin name like "hello-world"`. */
  readonly expected?: string;
}

/** A string, optionally bounded in length and matching a pattern. */
export function string(options: StringOptions = {}): Schema<string> {
  const { minLength = 0, maxLength = Number.MAX_SAFE_INTEGER, pattern } = options;
  const expected =
    options.expected ??
    (maxLength < Number.MAX_SAFE_INTEGER ? `a string of at most ${maxLength} characters` : 'a string');
  return scalar(expected, (value) =>
    typeof value === 'string' &&
    value.length >= minLength &&
    value.length <= maxLength &&
    (pattern === undefined || pattern.test(value))
      ? value
      : INVALID,
  );
}

/** Options for {@link integer} and {@link number}. */
export interface NumberOptions {
  readonly min?: number;
  readonly max?: number;
  readonly expected?: string;
}

function rangeText(kind: string, min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} of at least ${min}`;
  if (max !== undefined) return `${kind} of at most ${max}`;
  return kind;
}

/** A safe integer within [min, max]. */
export function integer(options: NumberOptions = {}): Schema<number> {
  const { min, max } = options;
  return scalar(options.expected ?? rangeText('an integer', min, max), (value) =>
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max)
      ? value
      : INVALID,
  );
}

/** A finite number within [min, max]. */
export function number(options: NumberOptions = {}): Schema<number> {
  const { min, max } = options;
  return scalar(options.expected ?? rangeText('a number', min, max), (value) =>
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max)
      ? value
      : INVALID,
  );
}

/** `true` or `false` (never the strings "yes", "on" or "true"). */
export function boolean(): Schema<boolean> {
  return scalar('true or false', (value) => (typeof value === 'boolean' ? value : INVALID));
}

/** One of a fixed set of strings. */
export function oneOf<const V extends readonly string[]>(values: V): Schema<V[number]> {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return scalar(expected, (value) =>
    typeof value === 'string' && (values as readonly string[]).includes(value) ? (value as V[number]) : INVALID,
  );
}

/**
 * A schema whose input is first checked by `base`, then converted by `convert`,
 * which returns the converted value or {@link INVALID}.
 */
export function transform<A, B>(
  base: Schema<A>,
  expected: string,
  convert: (value: A) => B | Invalid,
  encode: (value: B) => unknown = (value) => value,
): Schema<B> {
  return {
    expected,
    decode(value, path, issues) {
      const inner: Issue[] = [];
      const decoded = base.decode(value, path, inner);
      // A structured base (object, list) knows better where it failed: keep its issues.
      // A scalar base would only say "a string" where we can say "a size like 512MB".
      if (decoded === INVALID && base.doc().type !== 'scalar') {
        issues.push(...inner);
        return INVALID;
      }
      const result = decoded === INVALID ? INVALID : convert(decoded);
      if (result === INVALID) issues.push({ path, expected, found: describeValue(value) });
      return result;
    },
    encode,
    doc: () => ({ type: 'scalar', expected }),
  };
}

/** A value of `base` that also passes `check`; `check` returns false to reject. */
export function refine<T>(base: Schema<T>, expected: string, check: (value: T) => boolean): Schema<T> {
  return { ...transform(base, expected, (value) => (check(value) ? value : INVALID), (value) => base.encode(value)), doc: () => base.doc() };
}

/** A value accepted by the first schema in `options` that accepts it. */
export function anyOf<T>(expected: string, options: readonly Schema<T>[]): Schema<T> {
  return {
    expected,
    decode(value, path, issues) {
      for (const option of options) {
        const scratch: Issue[] = [];
        const result = option.decode(value, path, scratch);
        if (result !== INVALID && scratch.length === 0) return result;
      }
      issues.push({ path, expected, found: describeValue(value) });
      return INVALID;
    },
    encode: (value) => value,
    doc: () => ({ type: 'scalar', expected }),
  };
}
