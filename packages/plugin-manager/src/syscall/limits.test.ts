import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { DEFAULT_HOST_CALL_LIMITS, resolveHostCallLimits } from './limits.js';

describe('host call limits', () => {
  it('fill what is left out from the defaults', () => {
    assert.deepEqual(resolveHostCallLimits({ kv: { maxKeyBytes: 64 } }).kv, { ...DEFAULT_HOST_CALL_LIMITS.kv, maxKeyBytes: 64 });
  });

  it('refuse malformed limits with FO_LIMIT_INVALID, the code every resolver uses, listing each one', () => {
    assert.throws(
      () => resolveHostCallLimits({ kv: { maxTotalBytes: -1 }, http: { maxRedirects: 1.5 }, rates: { log: { perSecond: 0, burst: 1 } } }),
      (error: unknown) => {
        assert.ok(ForgeError.is(error, 'FO_LIMIT_INVALID'), String(error));
        const problems = error.details['problems'] as string[];
        assert.equal(problems.length, 3, problems.join(' | '));
        assert.ok(problems[0]?.startsWith('limits.kv.maxTotalBytes: expected an integer from 0 to '));
        assert.ok(problems[2]?.startsWith('limits.rates.log.perSecond: expected a positive number'));
        return true;
      },
    );
  });

  it('share one frozen object between equal inputs, and never hand a valid one for an invalid input that looks alike (NaN, Infinity, "7")', () => {
    const first = resolveHostCallLimits({ maxRandomBytes: 1024, rates: { log: 'off' } });
    assert.equal(resolveHostCallLimits({ maxRandomBytes: 1024, rates: { log: 'off' } }), first, 'equal inputs share the resolved limits');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.kv) && Object.isFrozen(first.rates), 'what is shared cannot be changed by one of its users');
    // JSON would write NaN and Infinity as null: a key built that way would hand these the limits resolved for null (the default).
    resolveHostCallLimits({ maxRandomBytes: null as unknown as number });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '7' as unknown as number]) {
      assert.throws(
        () => resolveHostCallLimits({ maxRandomBytes: bad }),
        (error: unknown) => ForgeError.is(error, 'FO_LIMIT_INVALID'),
        `maxRandomBytes ${String(bad)} is refused every time`,
      );
    }
  });
});
