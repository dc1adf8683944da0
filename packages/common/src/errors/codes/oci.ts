import type { ErrorSpec } from '../spec.js';

/** Codes for OCI distribution of packages: push, pull, login (`FO_OCI_*`). */
export const OCI_CODES = {
  FO_OCI_BAD_REFERENCE: {
    kind: 'usage',
    summary: 'A registry reference is not host[:port]/repository[:tag][@sha256:<hex>]; the message names the part that is wrong.',
  },
  FO_OCI_UNAUTHORIZED: {
    kind: 'unauthenticated',
    summary: 'The registry refused the credentials (or asked for some and none were configured); run forge login.',
  },
  FO_OCI_NOT_FOUND: {
    kind: 'not_found',
    summary: 'The registry has no such repository, tag, manifest or blob.',
  },
  FO_OCI_DIGEST_MISMATCH: {
    kind: 'integrity',
    summary: 'Bytes from the registry do not hash to the digest that was asked for or promised by a descriptor.',
  },
  FO_OCI_TOO_LARGE: {
    kind: 'limit',
    summary: 'A registry answer (manifest, index, blob, token) is larger than its limit; reading stopped at the limit.',
  },
  FO_OCI_UNREACHABLE: {
    kind: 'unavailable',
    summary: 'The registry could not be reached (connection refused, DNS failure, timeout) after the retries.',
  },
  FO_OCI_CONNECTION_DROPPED: {
    kind: 'unavailable',
    summary: 'The registry closed the connection in the middle of an answer, again after every retry.',
  },
  FO_OCI_SERVER_ERROR: {
    kind: 'unavailable',
    summary: 'The registry answered with a 5xx status, again after every retry.',
  },
  FO_OCI_PROTOCOL: {
    kind: 'invalid',
    summary: 'The registry answered something the distribution spec does not allow here (bad JSON, wrong media type, missing Location, unexpected status).',
  },
  FO_OCI_MISSING_SIGNATURE: {
    kind: 'denied',
    summary: 'The pulled plugin has no signature referrer and signatures are required; push it signed or pass --allow-unsigned.',
  },
} as const satisfies Record<string, ErrorSpec>;
