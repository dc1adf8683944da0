import type { ErrorSpec } from '../spec.js';

/** Codes for dependency resolution, the plugin store and the registry. */
export const REGISTRY_CODES = {
  FO_LIFECYCLE_BAD_TRANSITION: {
    kind: 'conflict',
    summary: 'A plugin was asked to move between lifecycle states that are not connected (e.g. created to running).',
  },
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
  FO_STORE_LOCKED: {
    kind: 'unavailable',
    summary: 'Another process holds the plugin store\'s lock (install, uninstall or rollback in progress); details name the holder.',
  },
  FO_STORE_FULL: {
    kind: 'limit',
    summary: 'Installing another plugin would exceed max_plugins.',
  },
  FO_STORE_NOT_INSTALLED: {
    kind: 'not_found',
    summary: 'No plugin of that name is installed in the store.',
  },
  FO_STORE_INVALID_NAME: {
    kind: 'usage',
    summary: 'A plugin name given to the store is not a valid plugin name (1-64 of a-z 0-9 . _ -).',
  },
  FO_STORE_VERSION_EXISTS: {
    kind: 'conflict',
    summary: 'That version of the plugin is already in the store with different content; a version names exactly one package.',
  },
  FO_STORE_DOWNGRADE: {
    kind: 'conflict',
    summary: 'The package is older than the installed version; a downgrade must be asked for explicitly.',
  },
  FO_STORE_APPROVAL_REQUIRED: {
    kind: 'denied',
    summary: 'The new version asks for permissions beyond the installed version\'s; details.diff lists them and the install needs explicit approval.',
  },
  FO_STORE_PUBLISHER_CHANGED: {
    kind: 'denied',
    summary: 'The new version is signed by a different publisher than the installed one; the change must be allowed explicitly.',
  },
  FO_STORE_NO_PREVIOUS: {
    kind: 'conflict',
    summary: 'A rollback was asked for, but the store keeps no previous version of the plugin.',
  },
  FO_STORE_CORRUPT: {
    kind: 'integrity',
    summary: 'A file in the plugin store is missing, unreadable or does not match what was installed.',
  },
  FO_STORE_NO_VERIFIER: {
    kind: 'usage',
    summary: 'The store was opened without verification settings, which install and rollback need.',
  },
} as const satisfies Record<string, ErrorSpec>;
