import type { ErrorSpec } from '../spec.js';

/** Codes for the registry of loaded plugins (`FO_REGISTRY_*`). */
export const REGISTRY_CODES = {
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
} as const satisfies Record<string, ErrorSpec>;
