import type { ErrorSpec } from '../spec.js';

/** Codes for our WASI preview1 implementation and forge wasi run. */
export const WASI_CODES = {} as const satisfies Record<string, ErrorSpec>;
