import type { ErrorSpec } from '../spec.js';

/** Codes for lifecycle steps and for calls by state (`FO_LIFECYCLE_*`). */
export const LIFECYCLE_CODES = {
  FO_LIFECYCLE_TIMEOUT: {
    kind: 'limit',
    summary: 'A lifecycle entry point (init, start, stop, ...) did not finish within its time limit; the plugin is Failed.',
  },
  FO_LIFECYCLE_NOT_RUNNING: {
    kind: 'conflict',
    summary: 'A call was made to a plugin that is not Running (start it first).',
  },
  FO_LIFECYCLE_PAUSED: {
    kind: 'unavailable',
    summary: 'A call waited for a paused plugin to be resumed and its time limit ran out.',
  },
  FO_LIFECYCLE_QUARANTINED: {
    kind: 'denied',
    summary: 'The plugin is quarantined (repeated crashes or an anomaly) and runs nothing until an operator unloads it.',
  },
  FO_LIFECYCLE_BAD_TRANSITION: {
    kind: 'conflict',
    summary: 'A plugin was asked to move between lifecycle states that are not connected (e.g. created to running).',
  },
} as const satisfies Record<string, ErrorSpec>;
