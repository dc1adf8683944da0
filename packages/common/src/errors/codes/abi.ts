import type { ErrorSpec } from '../spec.js';

/** Codes for the forge/1 call ABI and forge.* host functions. */
export const ABI_CODES = {} as const satisfies Record<string, ErrorSpec>;
