import type { ErrorSpec } from '../spec.js';

/** Codes for extension points and calls between plugins (`FO_EXTENSION_*`). */
export const EXTENSION_CODES = {
  FO_EXTENSION_UNKNOWN_POINT: {
    kind: 'not_found',
    summary: 'No running plugin offers that extension point.',
  },
  FO_EXTENSION_NOT_DECLARED: {
    kind: 'denied',
    summary: 'A plugin used forge.call_plugin or forge.register_extension for something its manifest does not declare.',
  },
} as const satisfies Record<string, ErrorSpec>;
