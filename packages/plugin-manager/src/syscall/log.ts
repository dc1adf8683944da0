/**
 * forge.log with a rate limit: the ABI's forge.log (abi/forge-log.ts) behind a token
 * bucket. A record over the limit is dropped and the plugin is answered
 * FO_SYSCALL_RATE_LIMITED; the host logs one warning counting the dropped records
 * when the plugin next logs successfully, so the operator learns of the flood without
 * being flooded.
 */
import { forgeLog, type HostCallContext, type HostFunctionDefinition } from '../abi/index.js';
import type { RateLimit } from './limits.js';
import { takeToken, type TokenBucket } from './rate-limit.js';

/** The rate-limited forge.log definition. */
export function rateLimitedLog(bucket: TokenBucket | undefined, limit: RateLimit | 'off'): HostFunctionDefinition {
  if (bucket === undefined || limit === 'off') return forgeLog;
  let dropped = 0;
  return {
    name: forgeLog.name,
    ...(forgeLog.maxRequestBytes === undefined ? {} : { maxRequestBytes: forgeLog.maxRequestBytes }),
    handler(request: Uint8Array, context: HostCallContext): Uint8Array {
      try {
        takeToken(bucket, context.call, limit);
      } catch (error) {
        dropped += 1;
        throw error;
      }
      if (dropped > 0) {
        context.logger.warn(`the plugin's log rate limit dropped ${dropped} forge.log records`, { source: context.call, dropped, perSecond: limit.perSecond, burst: limit.burst });
        dropped = 0;
      }
      return forgeLog.handler(request, context);
    },
  };
}
