import { checkLimitOption, resolveLimits } from '@forgeone/common';
import { MAX_REGION_BYTES } from './packed.js';

/**
 * Sizes the host enforces on every forge/1 call. Each is checked before any byte is
 * copied, so a hostile plugin cannot make the host allocate more than these.
 *
 * The limits do not bound the plugin's own linear memory (the runtime clamps its
 * maximum) nor the time a call takes (fuel and timeouts, in the runtime and sandbox).
 */
export interface AbiLimits {
  /** Largest call input, in bytes (FO_ABI_INPUT_TOO_LARGE before anything is allocated). */
  readonly maxInputBytes: number;
  /** Largest output a call may return, in bytes (FO_ABI_OUTPUT_TOO_LARGE). */
  readonly maxOutputBytes: number;
  /** Largest error payload a call may return, in bytes (FO_ABI_OUTPUT_TOO_LARGE). */
  readonly maxErrorBytes: number;
}

const MiB = 1024 * 1024;

/** The limits used when a caller names none: 64 MiB in, 64 MiB out, 64 KiB of error payload. */
export const DEFAULT_ABI_LIMITS: AbiLimits = Object.freeze({
  maxInputBytes: 64 * MiB,
  maxOutputBytes: 64 * MiB,
  maxErrorBytes: 64 * 1024,
});

/**
 * Fills unnamed limits from {@link DEFAULT_ABI_LIMITS} and checks the named ones: each
 * must be an integer from 0 to 2^30 - 1 (the most a packed result can carry).
 *
 * @throws ForgeError FO_LIMIT_INVALID when a limit is malformed
 */
export function resolveAbiLimits(limits: Partial<AbiLimits> = {}): AbiLimits {
  // The frozen defaults themselves when nothing is named: every instance shares them.
  if (Object.keys(limits).length === 0) return DEFAULT_ABI_LIMITS;
  const bytes = { max: MAX_REGION_BYTES };
  return resolveLimits('ABI limit', DEFAULT_ABI_LIMITS, limits, { maxInputBytes: bytes, maxOutputBytes: bytes, maxErrorBytes: bytes });
}

/**
 * Checks one byte-count limit: an integer from 0 to 2^30 - 1.
 *
 * @throws ForgeError FO_LIMIT_INVALID otherwise
 */
export function checkByteLimit(what: string, value: unknown): void {
  checkLimitOption(what, value, { max: MAX_REGION_BYTES });
}
