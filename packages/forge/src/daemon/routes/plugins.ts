/**
 * Plugins: list, inspect, install (an uploaded package or a path on the daemon's
 * host), upgrade, roll back, remove, drive their lifecycle, call them.
 */
import { ForgeError } from '@forgeone/common';
import { PLUGIN_NAME_PARAMS, route, type JsonSchema, type Route } from '../http/route.js';
import type { LifecycleAction } from '../service.js';
import type { DaemonServices } from './services.js';

const PERMISSIONS: JsonSchema = { type: 'object', description: 'The plugin\'s signed permissions (docs/reference/manifest.md).' };

/** A plugin as the API shows it (service.ts PluginView). */
export const PLUGIN_VIEW: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    publisher: { type: 'string' },
    attested: { type: 'boolean' },
    digest: { type: 'string' },
    state: { type: 'string', enum: ['created', 'initializing', 'ready', 'running', 'paused', 'stopping', 'stopped', 'failed', 'quarantined', 'unloaded', 'not-loaded'], description: 'The lifecycle state, or not-loaded when the plugin is installed but not loaded (see loadError).' },
    desired: { type: 'string', enum: ['running', 'paused', 'stopped'] },
    restarts: { type: 'integer' },
    installedAt: { type: 'string' },
    previousVersion: { type: ['string', 'null'] },
    permissions: PERMISSIONS,
    dependencies: { type: 'object', additionalProperties: { type: 'string' } },
    loadError: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
  required: ['name', 'version', 'publisher', 'attested', 'digest', 'state', 'desired', 'restarts', 'installedAt', 'previousVersion', 'permissions', 'dependencies', 'loadError'],
};

const INSTALL_QUERY: JsonSchema = {
  type: 'object',
  properties: {
    approve_permissions: { type: 'boolean', default: false, description: 'Accept the permissions an upgrade asks for beyond the installed version\'s.' },
    allow_downgrade: { type: 'boolean', default: false, description: 'Accept a version older than the installed one.' },
    allow_publisher_change: { type: 'boolean', default: false, description: 'Accept a version signed by another publisher.' },
    start: { type: 'boolean', default: false, description: 'Start the plugin once it is installed (a running plugin keeps running its new version anyway).' },
    path: { type: 'string', minLength: 1, maxLength: 4096, description: 'Install from this path on the daemon\'s host instead of an uploaded body (admin only, like every install).' },
  },
  additionalProperties: false,
};

/** What an install did. */
export const INSTALL_OUTCOME: JsonSchema = {
  type: 'object',
  properties: {
    action: { type: 'string', enum: ['installed', 'upgraded', 'downgraded', 'unchanged'] },
    from: { type: ['string', 'null'] },
    diff: { type: ['object', 'null'], description: 'The permission difference from the version before (store.md).' },
    plugin: PLUGIN_VIEW,
  },
  required: ['action', 'from', 'diff', 'plugin'],
};

const byName = (params: Readonly<Record<string, string>>): string | undefined => params['name'];

function lifecycleRoute(action: LifecycleAction, summary: string): Route<DaemonServices> {
  return route<DaemonServices>({
    operation: `plugins.${action}`,
    method: 'POST',
    url: `/v1/plugins/:name/${action}`,
    summary,
    role: 'operator',
    mutates: true,
    params: PLUGIN_NAME_PARAMS,
    resource: byName,
    response: { status: 200, content: PLUGIN_VIEW, description: 'The plugin after the action.' },
    handler: ({ services, params }) => services.plugins.lifecycle(params['name'] as string, action),
  });
}

/** The plugin operations. */
export const PLUGIN_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'plugins.list',
    method: 'GET',
    url: '/v1/plugins',
    summary: 'Every installed plugin with its state, desired state and identity.',
    role: 'viewer',
    mutates: false,
    response: { status: 200, content: { type: 'object', properties: { plugins: { type: 'array', items: PLUGIN_VIEW } }, required: ['plugins'] }, description: 'The installed plugins, by name.' },
    handler: async ({ services }) => ({ plugins: await services.plugins.list() }),
  }),
  route<DaemonServices>({
    operation: 'plugins.get',
    method: 'GET',
    url: '/v1/plugins/:name',
    summary: 'One installed plugin.',
    role: 'viewer',
    mutates: false,
    params: PLUGIN_NAME_PARAMS,
    resource: byName,
    response: { status: 200, content: PLUGIN_VIEW, description: 'The plugin.' },
    handler: ({ services, params }) => services.plugins.get(params['name'] as string),
  }),
  route<DaemonServices>({
    operation: 'plugins.install',
    method: 'POST',
    url: '/v1/plugins',
    summary: 'Install or upgrade a plugin from a signed package.',
    description:
      'The body is the .forgepkg (application/octet-stream), or empty with ?path= naming a package on the daemon\'s host. ' +
      'The package is verified, installed atomically and loaded; a plugin that was running runs the new version. An upgrade that ' +
      'asks for more permissions is refused with FO_STORE_APPROVAL_REQUIRED (403) and the permission diff in details until approve_permissions is set; ' +
      'an uploaded package so refused is kept as a pending upgrade (details.pendingUpgrade, see /v1/upgrades) for an admin to approve.',
    role: 'admin',
    mutates: true,
    query: INSTALL_QUERY,
    body: 'binary',
    resource: () => undefined,
    response: { status: 200, content: INSTALL_OUTCOME, description: 'What the install did.' },
    handler: async ({ services, query, body, principal }) => {
      const path = query['path'] as string | undefined;
      // No body arrives as an empty one (http/api.ts).
      const bytes = body instanceof Buffer && body.length > 0 ? body : undefined;
      if ((path === undefined) === (bytes === undefined)) {
        throw new ForgeError('FO_DAEMON_BAD_REQUEST', 'expected either a package as the request body or ?path=, not both and not neither');
      }
      const held = { allowDowngrade: query['allow_downgrade'] === true, allowPublisherChange: query['allow_publisher_change'] === true, start: query['start'] === true };
      try {
        return await services.plugins.install(bytes ?? (path as string), { approvePermissions: query['approve_permissions'] === true, ...held });
      } catch (error) {
        if (bytes === undefined || !ForgeError.is(error, 'FO_STORE_APPROVAL_REQUIRED')) throw error;
        throw await services.upgrades.hold(bytes, error, principal.name, held);
      }
    },
  }),
  route<DaemonServices>({
    operation: 'plugins.uninstall',
    method: 'DELETE',
    url: '/v1/plugins/:name',
    summary: 'Stop, unload and remove a plugin (its data goes too).',
    role: 'admin',
    mutates: true,
    params: PLUGIN_NAME_PARAMS,
    resource: byName,
    response: {
      status: 200,
      content: { type: 'object', properties: { name: { type: 'string' }, version: { type: ['string', 'null'] } }, required: ['name', 'version'] },
      description: 'What was removed.',
    },
    handler: ({ services, params }) => services.plugins.uninstall(params['name'] as string),
  }),
  route<DaemonServices>({
    operation: 'plugins.rollback',
    method: 'POST',
    url: '/v1/plugins/:name/rollback',
    summary: 'Switch back to the version the last upgrade replaced.',
    role: 'admin',
    mutates: true,
    params: PLUGIN_NAME_PARAMS,
    resource: byName,
    response: { status: 200, content: PLUGIN_VIEW, description: 'The plugin after the rollback.' },
    handler: ({ services, params }) => services.plugins.rollback(params['name'] as string),
  }),
  lifecycleRoute('start', 'Start a plugin (and its dependencies first); it will be started again when the daemon restarts.'),
  lifecycleRoute('stop', 'Stop a plugin (its dependents first).'),
  lifecycleRoute('pause', 'Pause a running plugin; calls wait for resume up to their time limit.'),
  lifecycleRoute('resume', 'Resume a paused plugin.'),
  lifecycleRoute('restart', 'Stop and start a plugin.'),
  lifecycleRoute('unload', 'Stop and unload a plugin; it stays installed.'),
  lifecycleRoute('load', 'Load an installed plugin (verifying it again) without starting it.'),
  route<DaemonServices>({
    operation: 'plugins.call',
    method: 'POST',
    url: '/v1/plugins/:name/call/:export',
    summary: 'Call an export of a running plugin with the request body as its input.',
    description: 'Input and output are raw bytes (application/octet-stream). A W3C traceparent header joins the call to the caller\'s trace.',
    role: 'operator',
    mutates: true,
    params: {
      type: 'object',
      properties: {
        name: (PLUGIN_NAME_PARAMS['properties'] as Record<string, unknown>)['name'],
        export: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.$-]{0,127}$', description: 'The export to call.' },
      },
      required: ['name', 'export'],
      additionalProperties: false,
    },
    body: 'binary',
    resource: byName,
    response: { status: 200, content: 'binary', description: 'The call\'s output bytes.' },
    handler: ({ services, params, body, request }) => {
      const { traceparent, tracestate } = request.headers;
      return services.plugins.call(params['name'] as string, params['export'] as string, body instanceof Buffer ? new Uint8Array(body) : new Uint8Array(0), {
        ...(typeof traceparent === 'string' ? { traceparent } : {}),
        ...(typeof tracestate === 'string' ? { tracestate } : {}),
      });
    },
  }),
];
