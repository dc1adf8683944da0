/**
 * Install by reference: the daemon pulls a plugin (and the dependencies it lacks) from a
 * registry and installs it as it installs an upload (daemon/pulls.ts). The dashboard's
 * marketplace page installs through this route, with the index's digest.
 */
import { route, type JsonSchema, type Route } from '../http/route.js';
import { INSTALL_OUTCOME } from './plugins.js';
import type { DaemonServices } from './services.js';

/** Largest pull request body, bytes: a reference, a digest and four booleans fit many times over. */
export const MAX_PULL_BODY = 4096;

const PULL_BODY: JsonSchema = {
  type: 'object',
  properties: {
    reference: { type: 'string', minLength: 1, maxLength: 1024, description: 'host[:port]/repository[:tag][@sha256:<hex>], on a registry the daemon may pull from (daemon.pull_registries, or named by the verified marketplace index on a public host).' },
    digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$', description: 'The content digest the plugin must have, as the marketplace index lists it; another is refused with FO_MARKET_DIGEST_MISMATCH and nothing installed.' },
    start: { type: 'boolean', default: false, description: 'Start the plugin once it is installed.' },
    approve_permissions: { type: 'boolean', default: false, description: 'Accept the permissions an upgrade asks for beyond the installed version\'s.' },
    allow_downgrade: { type: 'boolean', default: false, description: 'Accept a version older than the installed one.' },
    allow_publisher_change: { type: 'boolean', default: false, description: 'Accept a version signed by another publisher.' },
  },
  required: ['reference'],
  additionalProperties: false,
};

const PULL_OUTCOME: JsonSchema = {
  ...INSTALL_OUTCOME,
  properties: {
    ...(INSTALL_OUTCOME['properties'] as Record<string, unknown>),
    reference: { type: 'string' },
    dependencies: {
      type: 'array',
      description: 'Dependencies installed from the same registry before the plugin, in install order.',
      items: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, action: { type: 'string' } }, required: ['name', 'version', 'action'] },
    },
  },
  required: [...(INSTALL_OUTCOME['required'] as string[]), 'reference', 'dependencies'],
};

/** The pull operation. */
export const PULL_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'plugins.pull',
    method: 'POST',
    url: '/v1/plugins/pull',
    summary: 'Pull a plugin from a registry, with the dependencies it lacks, and install it as an uploaded package is installed.',
    description:
      'The daemon pulls with its own credentials (its user\'s docker config.json) from an allowed registry only (FO_DAEMON_REGISTRY_NOT_ALLOWED). ' +
      'A version the marketplace revokes is refused before it is pulled (FO_MARKET_PLUGIN_REVOKED); a package whose content digest is not the one asked for, ' +
      'or not the one the index lists for that version, is refused (FO_MARKET_DIGEST_MISMATCH). Everything is pulled and checked before anything is installed, ' +
      'and dependencies this request installed are removed again if the plugin is refused. An upgrade asking for more permissions is held as a pending upgrade, as an upload is.',
    role: 'admin',
    mutates: true,
    body: PULL_BODY,
    maxBodyBytes: MAX_PULL_BODY,
    resource: () => undefined,
    response: { status: 200, content: PULL_OUTCOME, description: 'What the install did.' },
    handler: ({ services, body, principal }) => {
      const fields = body as Record<string, unknown>;
      return services.pulls.install(
        {
          reference: fields['reference'] as string,
          ...(typeof fields['digest'] === 'string' ? { digest: fields['digest'] } : {}),
          start: fields['start'] === true,
          approvePermissions: fields['approve_permissions'] === true,
          allowDowngrade: fields['allow_downgrade'] === true,
          allowPublisherChange: fields['allow_publisher_change'] === true,
        },
        principal.name,
      );
    },
  }),
];
