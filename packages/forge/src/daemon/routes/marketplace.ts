/**
 * The configured marketplace as the daemon sees it: search over the verified index
 * (what the dashboard's marketplace page shows before an install), the revocations the
 * daemon enforces (daemon/revocations.ts; docs/marketplace.md, "Revocation") and a
 * refresh on demand (an operator who just published a revocation need not wait for
 * refresh_interval).
 */
import { ForgeError } from '@forgeone/common';
import { findRevocation, searchIndex, type MarketplaceIndex, type Revocation } from '@forgeone/plugin-manager/marketplace';
import { route, type JsonSchema, type Route } from '../http/route.js';
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

const REVOKED: JsonSchema = {
  type: ['object', 'null'],
  properties: { reason: { type: 'string' }, date: { type: 'string' } },
  description: 'The revocation of the index that covers it, or null.',
};

const RESULT: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    publisher: { type: 'string' },
    description: { type: ['string', 'null'] },
    keywords: { type: 'array', items: { type: 'string' } },
    revoked: { ...REVOKED, description: 'The revocation covering the newest version not revoked (so every version), or null.' },
    versions: {
      type: 'array',
      description: 'Every published version, highest first.',
      items: {
        type: 'object',
        properties: {
          version: { type: 'string' },
          digest: { type: 'string', description: 'The package\'s content digest: send it with POST /v1/plugins/pull.' },
          oci: { type: 'string', description: 'Where the package is pulled from.' },
          permissions: { type: 'object', description: 'The signed manifest\'s permissions, as published (docs/reference/manifest.md).' },
          published: { type: 'string' },
          revoked: REVOKED,
        },
        required: ['version', 'digest', 'oci', 'permissions', 'published', 'revoked'],
      },
    },
  },
  required: ['name', 'publisher', 'description', 'keywords', 'revoked', 'versions'],
};

/** Most results one search answers with (each lists every version with its permissions). */
export const MAX_SEARCH_RESULTS = 200;

const revokedView = (revocation: Revocation | undefined) => (revocation === undefined ? null : { reason: revocation.reason, date: revocation.date });

/** The plugins of `index` matching `query`, best first, at most `limit`, with every version and what revokes it. */
function search(index: MarketplaceIndex, query: string, limit: number): { results: unknown[]; total: number } {
  const found = searchIndex(index, query);
  const byName = new Map(index.plugins.map((entry) => [entry.name, entry]));
  const results = found.slice(0, limit).map((result) => {
    const listed = new Map((byName.get(result.name)?.versions ?? []).map((version) => [version.version, version]));
    // searchIndex orders the version numbers highest first.
    const versions = result.versions.flatMap((number) => listed.get(number) ?? []);
    return {
      name: result.name,
      publisher: result.publisher,
      description: result.description ?? null,
      keywords: result.keywords,
      revoked: revokedView(result.revoked),
      versions: versions.map((version) => ({
        ...version,
        revoked: revokedView(findRevocation(index.revocations, { publisher: result.publisher, name: result.name, version: version.version, digest: version.digest })),
      })),
    };
  });
  return { results, total: found.length };
}

/** The marketplace operations. */
export const MARKETPLACE_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'marketplace.search',
    method: 'GET',
    url: '/v1/marketplace/search',
    summary: 'Search the verified marketplace index: each plugin with every version\'s digest, OCI reference, permissions and revocation.',
    description:
      'Matches as forge search does (every word in the name, keywords, description or publisher). The index is the one the daemon verified ' +
      '(TUF) within marketplace.refresh_interval, refreshed first when older; FO_MARKET_* when no such index can be had, FO_MARKET_NOT_CONFIGURED without a marketplace. ' +
      'Every text in it is the publisher\'s: show it as text, never as markup.',
    role: 'viewer',
    mutates: false,
    query: {
      type: 'object',
      properties: {
        q: { type: 'string', maxLength: 512, default: '', description: 'The query; empty lists every plugin by name.' },
        limit: { type: 'integer', minimum: 1, maximum: MAX_SEARCH_RESULTS, default: 50, description: 'Most results answered.' },
      },
      additionalProperties: false,
    },
    response: {
      status: 200,
      content: { type: 'object', properties: { results: { type: 'array', items: RESULT }, total: { type: 'integer', description: 'How many plugins matched (results holds at most limit).' } }, required: ['results', 'total'] },
      description: 'The matching plugins, best first.',
    },
    handler: async ({ services, query }) => search((await watchOf(services).index()).index, query['q'] as string, query['limit'] as number),
  }),
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
