import type { ErrorSpec } from '../spec.js';

/** Codes for signing, verification, trust store and revocation. */
export const ATTESTATION_CODES = {} as const satisfies Record<string, ErrorSpec>;
