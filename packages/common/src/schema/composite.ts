/**
 * The composite schemas of the validation library (schema.ts): lists, records, objects
 * with their fields (required, optional, with a default), and cross-field rules. Like
 * the scalars, each collects every problem with its path and describes itself.
 */
import { describeValue, joinPath } from './format.js';
import { INVALID, formatIssue, string, type Issue, type Schema } from './schema.js';

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
