/**
 * forge.time_now and forge.random_get: clocks and randomness, available to every
 * plugin (the catalog requires no permission; policy may still forbid them).
 *
 * - time_now. Request: empty. Response: 16 bytes, u64 wall-clock nanoseconds since the
 *   Unix epoch, then u64 monotonic nanoseconds (little-endian).
 * - random_get. Request: u32 count. Response: `count` bytes from the operating
 *   system's cryptographically secure generator; at most `maxRandomBytes`.
 */
import { randomFillSync } from 'node:crypto';
import { ForgeError } from '@forgeone/common';
import type { HostCallContext, HostFunctionDefinition } from '../abi/index.js';
import type { HostClock } from './clock.js';
import { RequestReader } from './codec.js';

/** The forge.time_now definition. */
export function timeNowHostFunction(clock: HostClock): HostFunctionDefinition {
  return {
    name: 'time_now',
    maxRequestBytes: 0,
    handler(): Uint8Array {
      const out = new Uint8Array(16);
      const view = new DataView(out.buffer);
      view.setBigUint64(0, BigInt.asUintN(64, clock.wallNs()), true);
      view.setBigUint64(8, BigInt.asUintN(64, clock.monotonicNs()), true);
      return out;
    },
  };
}

/** Requests up to this size are served from a pool refilled 4 KiB at a time (one OpenSSL call per refill). */
const POOLED_MAX_BYTES = 256;
const POOL_BYTES = 4096;

/**
 * Random bytes: small requests come from a pool of generator output that is handed out
 * once and never reused, which saves a generator call (about 2 us) per request.
 */
function randomSource(): (count: number) => Uint8Array {
  const pool = new Uint8Array(POOL_BYTES);
  let offset = POOL_BYTES;
  return (count) => {
    if (count > POOLED_MAX_BYTES) return randomFillSync(new Uint8Array(count));
    if (offset + count > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const out = pool.slice(offset, offset + count);
    // SECURITY: bytes that were handed out are never handed out again.
    offset += count;
    return out;
  };
}

/** The forge.random_get definition. */
export function randomGetHostFunction(maxBytes: number): HostFunctionDefinition {
  const random = randomSource();
  return {
    name: 'random_get',
    maxRequestBytes: 4,
    handler(request: Uint8Array, { call }: HostCallContext): Uint8Array {
      const reader = new RequestReader(call, request);
      const count = reader.u32('count');
      reader.end();
      if (count > maxBytes) {
        throw new ForgeError('FO_SYSCALL_PAYLOAD_TOO_LARGE', `${call}: expected a count of at most ${maxBytes} bytes, found ${count}`, {
          details: { call, limit: maxBytes, actual: count },
        });
      }
      return random(count);
    },
  };
}
