/**
 * The configured marketplace's revocations as the daemon enforces them
 * (daemon/revocations.ts; docs/marketplace.md, "Revocation"): their status, and a
 * refresh on demand (an operator who just published a revocation need not wait for
 * refresh_interval).
 */
import { ForgeError } from '@forgeone/common';
import { route, type Route } from '../http/route.js';
import type { RevocationWatch } from '../revocations.js';
import type { DaemonServices } from './services.js';

const STATUS = {
  type: 'object',
  properties: {
    url: { type: 'string' },
    revocations: { type: 'integer', description: 'Revocations in force, from the last verified index.' },
    refreshedAt: { type: 'string', description: 'When the index in force was refreshed from the marketplace (absent before the first).' },
    lastError: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, at: { type: 'string' } },
      required: ['code', 'message', 'at'],
      description: 'The last failed refresh (absent after a success): the revocations verified before it stay in force.',
    },
    quarantined: { type: 'array', items: { type: 'string' }, description: 'Plugins quarantined by revocations since the daemon started.' },
  },
  required: ['url', 'revocations', 'quarantined'],
} as const;

function watchOf(services: DaemonServices): RevocationWatch {
  if (services.revocations === undefined) throw new ForgeError('FO_MARKET_NOT_CONFIGURED', 'the daemon has no marketplace: set plugin_manager.marketplace.url and trusted_root');
  return services.revocations;
}

/** The marketplace operations. */
export const MARKETPLACE_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'marketplace.revocations',
    method: 'GET',
    url: '/v1/marketplace/revocations',
    summary: 'The marketplace revocations the daemon enforces, and the last refresh.',
    description: 'FO_MARKET_NOT_CONFIGURED when plugin_manager.marketplace is not set.',
    role: 'viewer',
    mutates: false,
    response: { status: 200, content: STATUS, description: 'The status of the revocation watch.' },
    handler: ({ services }) => Promise.resolve(watchOf(services).status()),
  }),
  route<DaemonServices>({
    operation: 'marketplace.refresh',
    method: 'POST',
    url: '/v1/marketplace/refresh',
    summary: 'Verifies the marketplace index now and enforces its revocations: covered plugins are quarantined at once.',
    description: 'A failed refresh answers 200 with lastError set: the revocations verified before stay in force.',
    role: 'admin',
    mutates: true,
    response: { status: 200, content: STATUS, description: 'The status after the refresh.' },
    handler: async ({ services }) => {
      const watch = watchOf(services);
      await watch.refresh();
      return watch.status();
    },
  }),
];
