import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  array,
  boolean,
  duration,
  formatDuration,
  formatIssue,
  formatSize,
  integer,
  object,
  oneOf,
  optional,
  parseDuration,
  parseSize,
  record,
  required,
  size,
  string,
  validate,
  withDefault,
  describeValue,
} from './index.js';

const person = object({
  name: required(string({ minLength: 1 }), 'name'),
  age: optional(integer({ min: 0, max: 150 }), 'age'),
  role: withDefault(oneOf(['admin', 'user'] as const), 'user', 'role'),
  tags: withDefault(array(string(), { unique: true }), [], 'tags'),
});

describe('object schemas', () => {
  it('fills defaults and leaves optional fields absent', () => {
    const result = validate(person, { name: 'ada' });
    assert.deepEqual(result, { ok: true, value: { name: 'ada', role: 'user', tags: [] } });
  });

  it('reports every problem at once, each with its path, expectation and finding', () => {
    const result = validate(person, { age: -1, role: 'root', tags: ['a', 'a', 3], extra: { x: 1 } });
    assert.equal(result.ok, false);
    if (result.ok) return;
    const lines = result.issues.map(formatIssue);
    assert.deepEqual(lines, [
      'extra: expected no such key (known keys: name, age, role, tags), found a table',
      'name: expected a string, found nothing (the key is required)',
      'age: expected an integer from 0 to 150, found -1',
      'role: expected one of "admin", "user", found "root"',
      'tags[1]: expected no repeated items, found a repeat of "a"',
      'tags[2]: expected a string, found 3',
    ]);
  });

  it('refuses arrays, null and class instances where a table is expected', () => {
    for (const value of [[], null, new Date(0), 'x']) assert.equal(validate(person, value).ok, false);
  });

  it('does not let __proto__ keys pollute the output', () => {
    const result = validate(record(integer()), JSON.parse('{"__proto__": 1, "a": 2}'));
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.equal(Object.getPrototypeOf(result.value), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['a'], undefined);
  });

  it('quotes record keys that are not identifiers in paths', () => {
    const result = validate(object({ deps: required(record(integer()), 'd') }), { deps: { 'a.b': 'x' } });
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.issues[0]?.path, 'deps["a.b"]');
  });

  it('round-trips values through encode and decode', () => {
    const schema = object({ memory: required(size(), 'm'), timeout: required(duration(), 't'), on: required(boolean(), 'b') });
    const decoded = validate(schema, { memory: '512MB', timeout: '1m30s', on: true });
    assert.equal(decoded.ok, true);
    if (!decoded.ok) return;
    assert.deepEqual(decoded.value, { memory: 536870912, timeout: 90000, on: true });
    const encoded = schema.encode(decoded.value);
    assert.deepEqual(encoded, { memory: '512MiB', timeout: '1m30s', on: true });
    assert.deepEqual(validate(schema, encoded), decoded);
  });

  it('refuses a default that its own schema rejects', () => {
    assert.throws(() => withDefault(integer({ min: 1 }), 0, 'x'), /schema default 0 is invalid/);
  });
});

describe('sizes and durations', () => {
  it('parses binary sizes in every unit spelling', () => {
    assert.equal(parseSize('512MB'), 512 * 1024 * 1024);
    assert.equal(parseSize('512MiB'), 512 * 1024 * 1024);
    assert.equal(parseSize('64k'), 65536);
    assert.equal(parseSize('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize('10 KB'), 10240);
  });

  it('refuses malformed sizes', () => {
    for (const text of ['', 'MB', '-1MB', '1.2.3MB', '12XB', '1e9', '0x10']) assert.equal(parseSize(text), undefined, text);
  });

  it('parses simple and compound durations to milliseconds', () => {
    assert.equal(parseDuration('30s'), 30000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m30s'), 90000);
    assert.equal(parseDuration('1.5h'), 5400000);
    assert.equal(parseDuration('2d'), 172800000);
  });

  it('refuses bare numbers and malformed durations', () => {
    for (const text of ['30', '', 's', '30 s', '30sec', '1m 30s', '-5s']) assert.equal(parseDuration(text), undefined, text);
    assert.equal(validate(duration(), 30).ok, false);
  });

  it('formats sizes and durations so they parse back to the same value', () => {
    for (const bytes of [0, 1, 1023, 1024, 65536, 536870912, 3 * 1024 ** 4, 1536]) assert.equal(parseSize(formatSize(bytes)), bytes);
    for (const ms of [0, 1, 999, 1000, 90000, 3600000, 86400000 + 1000]) assert.equal(parseDuration(formatDuration(ms)), ms);
  });

  it('enforces bounds on sizes and says so', () => {
    const result = validate(size(1024, 2048), '4KB');
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(formatIssue(result.issues[0]!), '(root): expected a size like "512MB" from 1KiB to 2KiB, found "4KB"');
  });
});

describe('describeValue', () => {
  it('quotes and escapes strings so control characters cannot reach a terminal', () => {
    assert.equal(describeValue('a\u001b[31mred'), '"a\\u001b[31mred"');
    assert.equal(describeValue('\u202etxt'), '"\\u202etxt"');
    assert.equal(describeValue('x'.repeat(100)), `"${'x'.repeat(60)}…"`);
  });
});
