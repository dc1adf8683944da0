/**
 * A token bucket per plugin and call: `perSecond` tokens flow in continuously, at most
 * `burst` are kept, and each call takes one. A call that finds the bucket empty does
 * nothing and is answered FO_SYSCALL_RATE_LIMITED with the time until the next token,
 * so a well-behaved plugin can back off; a hostile one only wastes its own fuel.
 */
import { ForgeError } from '@forgeone/common';
import type { RateLimit } from './limits.js';

/** One bucket. Time comes from the caller, in milliseconds on a monotonic clock. */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(limit: RateLimit, now: () => number) {
    this.#perMs = limit.perSecond / 1000;
    this.#burst = limit.burst;
    this.#now = now;
    this.#tokens = limit.burst;
    this.#last = now();
  }

  /**
   * Takes a token.
   * @returns 0 when one was available, otherwise the milliseconds until one will be (at least 1)
   */
  take(): number {
    const now = this.#now();
    // A clock that goes backwards (a test clock, a bad injection) adds nothing.
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.#tokens) / this.#perMs));
  }
}

/**
 * Takes a token from `bucket` (no bucket: unlimited).
 * @throws ForgeError FO_SYSCALL_RATE_LIMITED when it is empty
 */
export function takeToken(bucket: TokenBucket | undefined, call: string, limit: RateLimit | 'off'): void {
  if (bucket === undefined || limit === 'off') return;
  const wait = bucket.take();
  if (wait === 0) return;
  throw new ForgeError('FO_SYSCALL_RATE_LIMITED', `${call} is limited to ${limit.perSecond} calls per second (burst ${limit.burst}); the next call can succeed in ${wait} ms`, {
    details: { call, perSecond: limit.perSecond, burst: limit.burst, retryAfterMs: wait },
  });
}
