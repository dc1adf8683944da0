import type { ErrorSpec } from '../spec.js';

/** Codes for policy decisions, Cedar policies and anomaly detection. */
export const TRUST_CODES = {
  FO_TRUST_POLICY_INVALID: {
    kind: 'invalid',
    summary: 'Cedar policies or operator grants do not parse or do not validate against the ForgeOne schema; the message lists every problem.',
  },
  FO_TRUST_DENIED: {
    kind: 'denied',
    summary: 'Policy refused an operation; the message gives the reason and which step (manifest, grant, Cedar) refused.',
  },
  FO_TRUST_CALL_CONFLICT: {
    kind: 'conflict',
    summary: 'A host call with that name is already registered.',
  },
} as const satisfies Record<string, ErrorSpec>;
