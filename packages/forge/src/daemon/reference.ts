/**
 * The daemon's API reference, generated from its route table: the OpenAPI 3.1 document
 * (docs/reference/openapi.json) and a page people read (docs/reference/http-api.md),
 * one section per operation. `npm run check` fails when either is stale.
 */
import { HTTP_STATUS } from '@forgeone/common';
import { openApiDocument, openApiPath, responseContent } from './http/openapi.js';
import type { JsonSchema, Route } from './http/route.js';
import { DAEMON_ROUTES } from './routes/index.js';
import type { DaemonServices } from './routes/services.js';
import { FORGE_VERSION } from '../version.js';

const DESCRIPTION =
  'The API of forge daemon, under /v1. Reach it over the daemon\'s unix socket (mode 0600: callers there act as the daemon\'s user, ' +
  'with the admin role) or its loopback TCP listener (daemon.listen) with a bearer token. Every request is authorised by role ' +
  '(viewer < operator < admin) and audited as api.<operationId>. Every failure answers one JSON body, {"error": {code, kind, message, details}}, ' +
  'with the HTTP status of the code\'s kind.';

/** The OpenAPI 3.1 document of the daemon's API. */
export function daemonOpenApi(): Readonly<Record<string, unknown>> {
  return openApiDocument(DAEMON_ROUTES, { title: 'ForgeOne daemon API', version: FORGE_VERSION, description: DESCRIPTION });
}

/** Text for a table cell: one line, pipes and angle brackets escaped. */
function cell(text: string): string {
  return prose(text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|'));
}

/** Text for markdown: `<` would open an HTML tag (`fo_<id>_<secret>`). */
function prose(text: string): string {
  return text.replace(/</g, '&lt;');
}

/** A schema keyword that holds text, or ''. */
function textOf(schema: JsonSchema, key: string): string {
  const value = schema[key];
  return typeof value === 'string' ? value : '';
}

/** A schema's type, in a few words. */
function typeOf(schema: JsonSchema | undefined): string {
  if (schema === undefined) return 'any';
  if (Array.isArray(schema['enum'])) return `one of ${(schema['enum'] as unknown[]).map((value) => `\`${String(value)}\``).join(', ')}`;
  if (Array.isArray(schema['oneOf'])) return (schema['oneOf'] as JsonSchema[]).map((option) => textOf(option, 'title') || typeOf(option)).join(' or ');
  const type = schema['type'];
  const names = Array.isArray(type) ? (type as string[]) : typeof type === 'string' ? [type] : [];
  const shown = names.map((name) => (name === 'array' ? `array of ${typeOf(schema['items'] as JsonSchema | undefined)}` : name));
  return shown.length === 0 ? 'any' : shown.join(' or ');
}

function fieldRows(schema: JsonSchema): string[] {
  const props = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  return Object.entries(props).map(([name, field]) => `| \`${name}\` | ${cell(typeOf(field))} | ${required.has(name) ? 'yes' : 'no'} | ${cell(textOf(field, 'description'))} |`);
}

function fields(title: string, schema: JsonSchema | undefined): string[] {
  if (schema === undefined) return [];
  if (Array.isArray(schema['oneOf'])) {
    return (schema['oneOf'] as JsonSchema[]).flatMap((option) => fields(`${title}, \`${textOf(option, 'title')}\``, option));
  }
  const rows = fieldRows(schema);
  if (rows.length === 0) return [`${title}: ${typeOf(schema)}.`, ''];
  return [`${title}:`, '', '| field | type | required | description |', '| --- | --- | --- | --- |', ...rows, ''];
}

function parameterRows<S>(route: Route<S>): string[] {
  const { params } = openApiPath(route.url);
  const pathSchemas = (route.params?.['properties'] ?? {}) as Record<string, JsonSchema>;
  const rows = params.map((name) => {
    const schema = pathSchemas[name] ?? {};
    const pattern = typeof schema['pattern'] === 'string' ? ` matching \`${schema['pattern']}\`` : '';
    return `| \`${name}\` | path | ${cell(typeOf(schema) + pattern)} | | ${cell(textOf(schema, 'description'))} |`;
  });
  for (const [name, schema] of Object.entries((route.query?.['properties'] ?? {}) as Record<string, JsonSchema>)) {
    const fallback = schema['default'] === undefined ? '' : `\`${JSON.stringify(schema['default'])}\``;
    rows.push(`| \`${name}\` | query | ${cell(typeOf(schema))} | ${cell(fallback)} | ${cell(textOf(schema, 'description'))} |`);
  }
  return rows.length === 0 ? [] : ['| parameter | in | type | default | description |', '| --- | --- | --- | --- | --- |', ...rows, ''];
}

function section<S>(route: Route<S>): string {
  const { path } = openApiPath(route.url);
  const access =
    route.role === 'public'
      ? 'Public: no credentials, not audited.'
      : `Role: **${route.role}** or above. Audited as \`api.${route.operation}\` (${route.mutates ? 'a change: at audit level `decisions` and above' : 'a read: at audit level `all`'}); refusals always.`;
  const lines = [`### \`${route.method} ${path}\``, '', `\`${route.operation}\`: ${prose(route.summary)}`, ''];
  if (route.description !== undefined) lines.push(prose(route.description), '');
  lines.push(access, '', ...parameterRows(route));
  if (route.body === 'binary') lines.push('Request body: `application/octet-stream`, raw bytes.', '');
  else if (route.body !== undefined) lines.push(...fields('Request body (`application/json`)', route.body));
  const { status, description, content, items } = route.response;
  const media = Object.keys(responseContent(route.response) ?? {})[0];
  lines.push(`Answer: **${status}**${media === undefined ? '' : ` \`${media}\``}: ${prose(description)}`, '');
  if (content === 'ndjson') lines.push(...fields('Each line', items));
  else if (content === 'event-stream') lines.push(...fields('Each event\'s data', items));
  else if (typeof content === 'object') lines.push(...fields('Fields', content));
  return lines.join('\n');
}

/** docs/reference/http-api.md. */
export function renderHttpReference(): string {
  return renderRoutes(DAEMON_ROUTES);
}

function renderRoutes(routes: readonly Route<DaemonServices>[]): string {
  const index = routes.map((route) => `| [\`${route.operation}\`](#${anchor(route)}) | \`${route.method} ${openApiPath(route.url).path}\` | ${route.role} | ${cell(route.summary)} |`);
  const statuses = Object.entries(HTTP_STATUS).map(([kind, status]) => `\`${kind}\` ${status}`);
  return `# HTTP API reference: forge daemon

<!-- Generated from packages/forge/src/daemon/routes by \`npm run gen:reference\`. Do not edit. -->

${prose(DESCRIPTION)}

The OpenAPI 3.1 document of the same operations is [openapi.json](openapi.json). Error codes are in
[errors.md](errors.md); the status of each kind is: ${statuses.join(', ')} (except FO_DAEMON_BODY_TOO_LARGE 413,
FO_DAEMON_UNSUPPORTED_MEDIA 415 and FO_DAEMON_TIMEOUT 408). Text that plugins supply (log messages, event names
and payloads, audit resources) arrives as JSON strings: escape it before showing it.

| operation | method and path | role | what |
| --- | --- | --- | --- |
${index.join('\n')}

## Operations

${routes.map(section).join('\n')}`;
}

/** The anchor GitHub gives a section heading `### \`METHOD /path\``. */
function anchor<S>(route: Route<S>): string {
  return `${route.method} ${openApiPath(route.url).path}`.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');
}
