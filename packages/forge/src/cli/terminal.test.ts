import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitizeForTerminal, toSafeJson } from './terminal.js';

describe('terminal safety', () => {
  it('escapes escape sequences, C1 controls, DEL and bidi overrides but keeps newlines and tabs', () => {
    assert.equal(sanitizeForTerminal('a\u001b]0;title\u0007b'), 'a\\u{1b}]0;title\\u{7}b');
    assert.equal(sanitizeForTerminal('\u009b31m\u007f'), '\\u{9b}31m\\u{7f}');
    assert.equal(sanitizeForTerminal('abc\u202edcba'), 'abc\\u{202e}dcba');
    assert.equal(sanitizeForTerminal('line1\n\tline2 é 漢字'), 'line1\n\tline2 é 漢字');
  });

  it('writes JSON that escapes C1 and bidi characters yet parses back to the same value', () => {
    const value = { name: 'x\u009b\u202ey', n: 1 };
    const text = toSafeJson(value);
    assert.ok(!/[\u0080-\u009f\u202e]/u.test(text));
    assert.deepEqual(JSON.parse(text), value);
  });
});
