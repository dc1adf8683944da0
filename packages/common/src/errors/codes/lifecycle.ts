import type { ErrorSpec } from '../spec.js';

/** Codes for the registry's plugins, their lifecycle steps, calls by state, and extension points. */
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
  FO_REGISTRY_INVALID_PLUGIN: {
    kind: 'invalid',
    summary: 'A native plugin given to PluginManager.register has a bad name, version, dependency range or extension.',
  },
  FO_REGISTRY_DUPLICATE: {
    kind: 'conflict',
    summary: 'A plugin with that name is already loaded in this registry.',
  },
  FO_REGISTRY_NOT_FOUND: {
    kind: 'not_found',
    summary: 'No loaded plugin has that id or name.',
  },
  FO_REGISTRY_FULL: {
    kind: 'limit',
    summary: 'The registry already holds max_plugins plugins.',
  },
  FO_REGISTRY_CLOSED: {
    kind: 'unavailable',
    summary: 'The registry was closed.',
  },
  FO_EXTENSION_UNKNOWN_POINT: {
    kind: 'not_found',
    summary: 'No running plugin offers that extension point.',
  },
  FO_EXTENSION_NOT_DECLARED: {
    kind: 'denied',
    summary: 'A plugin used forge.call_plugin or forge.register_extension for something its manifest does not declare.',
  },
} as const satisfies Record<string, ErrorSpec>;
