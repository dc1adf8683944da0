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
});
