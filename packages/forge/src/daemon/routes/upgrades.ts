/**
 * Pending upgrades: uploads refused with FO_STORE_APPROVAL_REQUIRED, kept for an admin
 * to approve or discard (upgrades.ts).
 */
import { route, type JsonSchema, type Route } from '../http/route.js';
import { INSTALL_OUTCOME } from './plugins.js';
import type { DaemonServices } from './services.js';

const PENDING_UPGRADE: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    from: { type: 'string', description: 'The version installed when the package was uploaded.' },
    to: { type: 'string', description: 'The version offered.' },
    publisher: { type: 'string' },
    diff: { type: 'object', description: 'The permission difference from the installed version (store.md).' },
    receivedAt: { type: 'string' },
    by: { type: 'string', description: 'The principal that uploaded it.' },
  },
  required: ['id', 'name', 'from', 'to', 'publisher', 'diff', 'receivedAt', 'by'],
};

const ID_PARAMS: JsonSchema = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'The pending upgrade\'s id (details.pendingUpgrade of the refusal).' } },
  required: ['id'],
  additionalProperties: false,
};

const byId = (params: Readonly<Record<string, string>>): string => `upgrade:${params['id'] ?? ''}`;

/** The pending upgrade operations. */
export const UPGRADE_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'upgrades.list',
    method: 'GET',
    url: '/v1/upgrades',
    summary: 'Upgrades refused for want of permission approval and kept for an admin, newest first.',
    description:
      'An uploaded package (not a ?path= install) refused with FO_STORE_APPROVAL_REQUIRED is kept, and the refusal\'s details.pendingUpgrade ' +
      'names it. At most 20 are kept (the oldest goes first); the same package uploaded again is the same entry.',
    role: 'viewer',
    mutates: false,
    response: { status: 200, content: { type: 'object', properties: { upgrades: { type: 'array', items: PENDING_UPGRADE } }, required: ['upgrades'] }, description: 'The pending upgrades.' },
    handler: ({ services }) => Promise.resolve({ upgrades: services.upgrades.list() }),
  }),
  route<DaemonServices>({
    operation: 'upgrades.approve',
    method: 'POST',
    url: '/v1/upgrades/:id/approve',
    summary: 'Install a pending upgrade with its permissions approved, then forget it.',
    description:
      'The package is verified again like any upload, and installed with approve_permissions (and the allow_downgrade, allow_publisher_change ' +
      'and start its upload asked for). Refused with FO_DAEMON_UPGRADE_STALE (409) when another version is installed now than the one ' +
      'the diff was computed against.',
    role: 'admin',
    mutates: true,
    params: ID_PARAMS,
    resource: byId,
    response: { status: 200, content: INSTALL_OUTCOME, description: 'What the install did.' },
    handler: ({ services, params }) => services.upgrades.approve(params['id'] as string),
  }),
  route<DaemonServices>({
    operation: 'upgrades.discard',
    method: 'DELETE',
    url: '/v1/upgrades/:id',
    summary: 'Forget a pending upgrade and delete its package.',
    role: 'admin',
    mutates: true,
    params: ID_PARAMS,
    resource: byId,
    response: { status: 204, content: 'none', description: 'Discarded.' },
    handler: ({ services, params }) => services.upgrades.discard(params['id'] as string),
  }),
];
