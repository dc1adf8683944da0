import type { ErrorSpec } from '../spec.js';

/** Codes for module analysis, instrumentation, compilation and sandbox limits. */
export const RUNTIME_CODES = {} as const satisfies Record<string, ErrorSpec>;
