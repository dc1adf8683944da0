import type { ErrorSpec } from '../spec.js';

/** Codes for the plugin store (`FO_STORE_*`). */
export const STORE_CODES = {
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
