import type { ErrorSpec } from '../spec.js';

/** Codes for dependency resolution (`FO_DEPS_*`). */
export const DEPS_CODES = {
  FO_DEPS_MISSING: {
    kind: 'not_found',
    summary: 'A dependency has no available version in the required range; the message says who needs it and what exists.',
  },
  FO_DEPS_CONFLICT: {
    kind: 'conflict',
    summary: 'Dependencies require incompatible versions of one plugin; the message explains the derivation ("A 1.2 needs B ^2, but C 1.0 needs B ^1").',
  },
  FO_DEPS_CYCLE: {
    kind: 'conflict',
    summary: 'Plugins depend on each other in a cycle; the message gives the cycle\'s path.',
  },
  FO_DEPS_TOO_COMPLEX: {
    kind: 'limit',
    summary: 'Dependency resolution gave up after trying too many combinations.',
  },
} as const satisfies Record<string, ErrorSpec>;
