import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForgeError } from '../errors/forge-error.js';
import { throwsCode } from '../testing/error-codes.js';
import { checkLimitOption, checkPositiveLimit, invalidLimits, limitProblem, positiveLimitProblem, resolveLimits } from './limit-option.js';

const refused = (run: () => unknown): ForgeError => throwsCode(run, 'FO_LIMIT_INVALID');

describe('limit options', () => {
  it('accept non-negative safe integers by default and return them', () => {
    for (const value of [0, 1, 4096, Number.MAX_SAFE_INTEGER]) assert.equal(checkLimitOption('n', value), value);
  });

  it('refuse negatives, fractions, NaN, infinities, unsafe integers and non-numbers with FO_LIMIT_INVALID', () => {
    for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '5', 5n, undefined, null]) {
      const error = refused(() => checkLimitOption('limits.x', value));
      assert.match(error.message, /^limits\.x: expected a non-negative integer, found /);
      assert.equal((error.details['problems'] as string[]).length, 1);
    }
  });

  it('honour a range at both ends and say it in the message', () => {
    assert.equal(checkLimitOption('n', 4, { min: 4, max: 8 }), 4);
    assert.equal(checkLimitOption('n', 8, { min: 4, max: 8 }), 8);
    assert.match(refused(() => checkLimitOption('n', 3, { min: 4, max: 8 })).message, /expected an integer from 4 to 8, found 3/);
    assert.match(refused(() => checkLimitOption('n', 9, { min: 4, max: 8 })).message, /found 9/);
    assert.equal(limitProblem('n', 0, { min: 1 }), 'n: expected an integer of at least 1, found 0');
  });

  it('check positive limits (ratios, rates): finite and above zero, fractions allowed', () => {
    assert.equal(checkPositiveLimit('ratio', 0.5), 0.5);
    for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1']) refused(() => checkPositiveLimit('ratio', value));
    assert.equal(positiveLimitProblem('ratio', 2), undefined);
  });

  it('list every collected problem in one error', () => {
    const error = invalidLimits(['a: x', 'b: y']);
    assert.equal(error.code, 'FO_LIMIT_INVALID');
    assert.deepEqual(error.details['problems'], ['a: x', 'b: y']);
    assert.equal(error.message, 'a: x; b: y');
  });

  it('resolve a set of limits: defaults fill the gaps, only known keys are kept, every malformed one is listed', () => {
    const defaults = { maxBytes: 10, maxItems: 5, ratio: 2 };
    const resolved = resolveLimits('test limit', defaults, { maxItems: 7, extra: 1 } as Partial<typeof defaults>, { ratio: 'positive', maxItems: { min: 1, max: 8 } });
    assert.deepEqual(resolved, { maxBytes: 10, maxItems: 7, ratio: 2 });
    assert.ok(Object.isFrozen(resolved));
    const error = refused(() => resolveLimits('test limit', defaults, { maxBytes: -1, maxItems: 9, ratio: 0 }, { ratio: 'positive', maxItems: { min: 1, max: 8 } }));
    assert.deepEqual(error.details['problems'], [
      'test limit maxBytes: expected a non-negative integer, found -1',
      'test limit maxItems: expected an integer from 1 to 8, found 9',
      'test limit ratio: expected a positive number, found 0',
    ]);
  });
});
