/**
 * The OpenAPI 3.1 document of a route table: one operation per route (operationId =
 * the route's operation), its parameters from the params and query schemas, its
 * request body (a JSON schema, or application/octet-stream), its success response and
 * the one error body for every 4xx and 5xx, bearer security on every non-public route
 * and the role it needs as `x-forge-role`. Generated, never written by hand, so the
 * reference cannot drift from what the server validates.
 */
import type { JsonSchema, Route } from './route.js';
import { ERROR_SCHEMA } from './route.js';

/** An OpenAPI document, as JSON. */
export type OpenApiDocument = Readonly<Record<string, unknown>>;

/** What the document says about itself. */
export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

/** The name OpenAPI gives fastify's wildcard (`*`) parameter. */
export const WILDCARD_PARAM = 'wildcard';

/** A fastify path (`/v1/plugins/:name`) in OpenAPI's template syntax (`/v1/plugins/{name}`), and its parameter names. */
export function openApiPath(url: string): { readonly path: string; readonly params: readonly string[] } {
  const params: string[] = [];
  const path = url
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        params.push(segment.slice(1));
        return `{${segment.slice(1)}}`;
      }
      if (segment === '*') {
        params.push(WILDCARD_PARAM);
        return `{${WILDCARD_PARAM}}`;
      }
      return segment;
    })
    .join('/');
  return { path, params };
}

function properties(schema: JsonSchema | undefined): Readonly<Record<string, JsonSchema>> {
  return (schema?.['properties'] ?? {}) as Readonly<Record<string, JsonSchema>>;
}

/** A parameter: the description moves from the schema to the parameter, where readers look for it. */
function parameter(name: string, where: 'path' | 'query', schema: JsonSchema, required: boolean): Record<string, unknown> {
  const { description, ...rest } = schema;
  return { name, in: where, required, ...(description === undefined ? {} : { description }), schema: rest };
}

function parameters<S>(route: Route<S>, templateParams: readonly string[]): Record<string, unknown>[] {
  const pathSchemas = properties(route.params);
  const list = templateParams.map((name) => parameter(name, 'path', pathSchemas[name === WILDCARD_PARAM ? '*' : name] ?? { type: 'string' }, true));
  const required = new Set((route.query?.['required'] ?? []) as readonly string[]);
  for (const [name, schema] of Object.entries(properties(route.query))) list.push(parameter(name, 'query', schema, required.has(name)));
  return list;
}

function requestBody<S>(route: Route<S>): Record<string, unknown> | undefined {
  if (route.body === undefined) return undefined;
  if (route.body === 'binary') {
    return { required: false, description: 'Raw bytes.', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
  }
  return { required: true, content: { 'application/json': { schema: route.body } } };
}

/** The media type and schema of a success response. */
export function responseContent(response: Route<unknown>['response']): Record<string, unknown> | undefined {
  const { content, items } = response;
  switch (content) {
    case 'none':
      return undefined;
    case 'binary':
      return { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } };
    case 'html':
      return { 'text/html': { schema: { type: 'string' } } };
    case 'ndjson':
      return { 'application/x-ndjson': { schema: items ?? {}, 'x-forge-stream': 'one JSON value of this schema per line' } };
    case 'event-stream':
      return { 'text/event-stream': { schema: items ?? {}, 'x-forge-stream': 'Server-Sent Events whose data lines hold JSON of this schema' } };
    default:
      return { 'application/json': { schema: content } };
  }
}

function operation<S>(route: Route<S>, templateParams: readonly string[]): Record<string, unknown> {
  const body = requestBody(route);
  const content = responseContent(route.response);
  const error = { description: 'The error body; the status is that of the code\'s kind (docs/reference/errors.md).', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const params = parameters(route, templateParams);
  return {
    operationId: route.operation,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    tags: [route.operation.split('.')[0] ?? route.operation],
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(body === undefined ? {} : { requestBody: body }),
    responses: {
      [String(route.response.status)]: { description: route.response.description, ...(content === undefined ? {} : { content }) },
      '4XX': error,
      '5XX': error,
    },
    security: route.role === 'public' ? [] : [{ bearer: [] }],
    'x-forge-role': route.role,
    ...(route.role === 'public' ? {} : { 'x-forge-audit': { action: `api.${route.operation}`, mutates: route.mutates } }),
  };
}

/** The OpenAPI 3.1 document of `routes` (see the module comment). */
export function openApiDocument<S>(routes: readonly Route<S>[], info: OpenApiInfo): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { path, params } = openApiPath(route.url);
    const item = (paths[path] ??= {});
    item[route.method.toLowerCase()] = operation(route, params);
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: info.description },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token, fo_<id>_<secret> (forge token create, or POST /v1/tokens). Callers on the unix socket need none.' },
      },
    },
  };
}
