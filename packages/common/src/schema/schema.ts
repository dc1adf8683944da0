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
import { describeValue, joinPath } from './format.js';

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

/** Options for {@link array}. */
export interface ArrayOptions {
  readonly maxItems?: number;
  /** Reject repeated items (compared as JSON). */
  readonly unique?: boolean;
}

/** An array whose every item matches `item`. */
export function array<T>(item: Schema<T>, options: ArrayOptions = {}): Schema<T[]> {
  const { maxItems = 10_000, unique = false } = options;
  const expected = `a list of ${item.expected}${unique ? ', without repeats' : ''}`;
  return {
    expected,
    decode(value, path, issues) {
      if (!Array.isArray(value)) {
        issues.push({ path, expected, found: describeValue(value) });
        return INVALID;
      }
      if (value.length > maxItems) {
        issues.push({ path, expected: `at most ${maxItems} items`, found: `${value.length} items` });
        return INVALID;
      }
      const out: T[] = [];
      const seen = new Set<string>();
      let failed = false;
      value.forEach((element: unknown, index) => {
        const itemPath = `${path}[${index}]`;
        const decoded = item.decode(element, itemPath, issues);
        if (decoded === INVALID) {
          failed = true;
          return;
        }
        if (unique) {
          const key = JSON.stringify(decoded);
          if (seen.has(key)) {
            issues.push({ path: itemPath, expected: 'no repeated items', found: `a repeat of ${describeValue(element)}` });
            failed = true;
          }
          seen.add(key);
        }
        out.push(decoded);
      });
      return failed ? INVALID : out;
    },
    encode: (value) => value.map((element) => item.encode(element)),
    doc: () => ({ type: 'array', expected, item: item.doc() }),
  };
}

/** Options for {@link record}. */
export interface RecordOptions {
  /** Schema for keys; defaults to any non-empty string. */
  readonly key?: Schema<string>;
  readonly maxEntries?: number;
}

/** An object used as a map from keys to `value`s. Keys are kept in input order. */
export function record<T>(value: Schema<T>, options: RecordOptions = {}): Schema<Record<string, T>> {
  const { maxEntries = 10_000 } = options;
  const keySchema = options.key ?? string({ minLength: 1, expected: 'a non-empty key' });
  const expected = `a table of ${value.expected}`;
  return {
    expected,
    decode(input, path, issues) {
      if (!isPlainObject(input)) {
        issues.push({ path, expected, found: describeValue(input) });
        return INVALID;
      }
      const keys = Object.keys(input);
      if (keys.length > maxEntries) {
        issues.push({ path, expected: `at most ${maxEntries} entries`, found: `${keys.length} entries` });
        return INVALID;
      }
      const out: Record<string, T> = Object.create(null) as Record<string, T>;
      let failed = false;
      for (const key of keys) {
        const entryPath = joinPath(path, key);
        if (keySchema.decode(key, entryPath, issues) === INVALID) {
          failed = true;
          continue;
        }
        const decoded = value.decode(input[key], entryPath, issues);
        if (decoded === INVALID) failed = true;
        else out[key] = decoded;
      }
      return failed ? INVALID : { ...out };
    },
    encode: (input) => Object.fromEntries(Object.entries(input).map(([key, entry]) => [key, value.encode(entry)])),
    doc: () => ({ type: 'record', expected, value: value.doc() }),
  };
}

/** True for `{...}` objects (not arrays, null, dates or class instances). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A field of an object schema: its schema, whether it is required, its default, its docs. */
export interface Field<T, M extends FieldMode> {
  readonly schema: Schema<T>;
  readonly mode: M;
  readonly defaultValue?: T;
  /** The default as a user would write it, for docs (e.g. `"512MB"`). */
  readonly defaultText?: string;
  readonly description: string;
}

/** required: must be present; optional: may be absent; default: absent means the default. */
export type FieldMode = 'required' | 'optional' | 'default';

/** A field that must be present. */
export function required<T>(schema: Schema<T>, description: string): Field<T, 'required'> {
  return { schema, mode: 'required', description };
}

/** A field that may be absent; absent fields are absent from the output too. */
export function optional<T>(schema: Schema<T>, description: string): Field<T, 'optional'> {
  return { schema, mode: 'optional', description };
}

/**
 * A field that takes `defaultValue` when absent. `written` is the default as a user
 * would write it in a file; it is decoded through the schema, so the docs can never
 * disagree with the behaviour.
 */
export function withDefault<T>(schema: Schema<T>, written: unknown, description: string): Field<T, 'default'> {
  const issues: Issue[] = [];
  const decoded = schema.decode(written, '(default)', issues);
  if (decoded === INVALID) throw new TypeError(`schema default ${JSON.stringify(written)} is invalid: ${issues.map(formatIssue).join('; ')}`);
  return { schema, mode: 'default', defaultValue: decoded, defaultText: JSON.stringify(written), description };
}

/** A field of any value type and mode. */
export type AnyField = Field<unknown, FieldMode>;
/** An object schema's fields, by key. */
export type Shape = Record<string, AnyField>;
/** `T` with its intersections flattened, so editors show one object type. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The value type of a field. */
export type FieldValue<F> = F extends Field<infer T, FieldMode> ? T : never;

/** The output type of an object shape: optional fields become optional properties. */
export type ObjectOf<S extends Shape> = Simplify<
  { -readonly [K in keyof S as S[K]['mode'] extends 'optional' ? never : K]: FieldValue<S[K]> } & {
    -readonly [K in keyof S as S[K]['mode'] extends 'optional' ? K : never]?: FieldValue<S[K]>;
  }
>;

/**
 * An object with exactly the given fields. Unknown keys are always reported, as
 * `expected no key "x" (known keys: a, b)`, never ignored.
 */
export function object<S extends Shape>(shape: S, expectedText = 'a table'): Schema<ObjectOf<S>> {
  const known = Object.keys(shape);
  return {
    expected: expectedText,
    decode(input, path, issues) {
      if (!isPlainObject(input)) {
        issues.push({ path, expected: expectedText, found: describeValue(input) });
        return INVALID;
      }
      let failed = false;
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) {
          issues.push({ path: joinPath(path, key), expected: `no such key (known keys: ${known.join(', ')})`, found: describeValue(input[key]) });
          failed = true;
        }
      }
      const out: Record<string, unknown> = {};
      for (const key of known) {
        const field = shape[key] as AnyField;
        const fieldPath = joinPath(path, key);
        if (!Object.hasOwn(input, key) || input[key] === undefined) {
          if (field.mode === 'required') {
            issues.push({ path: fieldPath, expected: field.schema.expected, found: 'nothing (the key is required)' });
            failed = true;
          } else if (field.mode === 'default') {
            out[key] = structuredClone(field.defaultValue);
          }
          continue;
        }
        const decoded = field.schema.decode(input[key], fieldPath, issues);
        if (decoded === INVALID) failed = true;
        else out[key] = decoded;
      }
      return failed ? INVALID : (out as ObjectOf<S>);
    },
    encode(value) {
      const out: Record<string, unknown> = {};
      for (const key of known) {
        const entry = (value as Record<string, unknown>)[key];
        if (entry !== undefined) out[key] = (shape[key] as AnyField).schema.encode(entry);
      }
      return out;
    },
    doc: () => ({
      type: 'object',
      expected: expectedText,
      fields: known.map((key) => {
        const field = shape[key] as AnyField;
        return {
          key,
          required: field.mode === 'required',
          description: field.description,
          ...(field.defaultText === undefined ? {} : { default: field.defaultText }),
          schema: field.schema.doc(),
        };
      }),
    }),
  };
}

/** Reports a cross-field problem from a {@link constrain} rule, relative to the schema's path. */
export type ReportIssue = (relativePath: string, expected: string, found: string) => void;

/**
 * Adds cross-field rules to a schema: after `base` accepts a value, `rule` inspects
 * it and reports problems at precise paths (e.g. `permissions.volumes[0].mode`).
 */
export function constrain<T>(base: Schema<T>, rule: (value: T, report: ReportIssue) => void): Schema<T> {
  return {
    expected: base.expected,
    decode(value, path, issues) {
      const decoded = base.decode(value, path, issues);
      if (decoded === INVALID) return INVALID;
      let failed = false;
      rule(decoded, (relative, expected, found) => {
        failed = true;
        const full = relative === '' ? path : path === '' ? relative : relative.startsWith('[') ? `${path}${relative}` : `${path}.${relative}`;
        issues.push({ path: full, expected, found });
      });
      return failed ? INVALID : decoded;
    },
    encode: (value) => base.encode(value),
    doc: () => base.doc(),
  };
}
