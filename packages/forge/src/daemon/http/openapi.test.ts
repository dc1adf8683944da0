import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daemonOpenApi, renderHttpReference } from '../reference.js';
import { DAEMON_ROUTES } from '../routes/index.js';
import { openApiDocument, openApiPath } from './openapi.js';
import { route } from './route.js';

type Operation = {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security: Record<string, string[]>[];
  'x-forge-role': string;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

function operations(document: Record<string, unknown>): { path: string; method: string; operation: Operation }[] {
  const paths = document['paths'] as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method, operation })));
}

describe('the OpenAPI document of the daemon\'s API', () => {
  const document = daemonOpenApi();
  const all = operations(document);

  it('is OpenAPI 3.1 with the error body and bearer security among its components', () => {
    assert.equal(document['openapi'], '3.1.0');
    const components = document['components'] as { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme: string }> };
    assert.deepEqual(Object.keys(components.schemas), ['Error']);
    assert.deepEqual([components.securitySchemes['bearer']?.type, components.securitySchemes['bearer']?.scheme], ['http', 'bearer']);
    assert.ok(all.every(({ method }) => METHODS.includes(method)));
  });

  it('has every route of the table once, under its operationId, method and path', () => {
    assert.deepEqual(
      all.map(({ path, method, operation }) => `${operation.operationId} ${method.toUpperCase()} ${path}`).sort(),
      DAEMON_ROUTES.map((one) => `${one.operation} ${one.method} ${openApiPath(one.url).path}`).sort(),
    );
    assert.equal(new Set(all.map(({ operation }) => operation.operationId)).size, all.length, 'operationIds are unique');
  });

  it('declares every path parameter of every path as a required path parameter, and no other', () => {
    for (const { path, operation } of all) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
      assert.deepEqual(
        declared.map((parameter) => parameter.name),
        inPath,
        `${operation.operationId}: ${path}`,
      );
      assert.ok(
        declared.every((parameter) => parameter.required && typeof parameter.schema['type'] === 'string'),
        operation.operationId,
      );
    }
  });

  it('matches each route\'s params schema to its path: no parameter the server would not validate', () => {
    for (const one of DAEMON_ROUTES) {
      const fromSchema = Object.keys(one.params?.['properties'] ?? {});
      assert.deepEqual(fromSchema, [...openApiPath(one.url).params], one.operation);
    }
  });

  it('secures every non-public operation with the bearer scheme and names its role; public ones need nothing', () => {
    for (const one of DAEMON_ROUTES) {
      const found = all.find(({ operation }) => operation.operationId === one.operation)?.operation;
      assert.equal(found?.['x-forge-role'], one.role);
      assert.deepEqual(found?.security, one.role === 'public' ? [] : [{ bearer: [] }], one.operation);
    }
  });

  it('gives every operation its success response, and the error body for 4XX and 5XX', () => {
    for (const { operation } of all) {
      const statuses = Object.keys(operation.responses);
      assert.equal(statuses.length, 3, operation.operationId);
      for (const range of ['4XX', '5XX']) {
        assert.deepEqual(operation.responses[range]?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Error' }, `${operation.operationId} ${range}`);
      }
    }
    const byId = (id: string): Operation | undefined => all.find(({ operation }) => operation.operationId === id)?.operation;
    assert.deepEqual(Object.keys(byId('plugins.logs')?.responses['200']?.content ?? {}), ['application/x-ndjson']);
    assert.deepEqual(Object.keys(byId('events.stream')?.responses['200']?.content ?? {}), ['text/event-stream']);
    assert.equal(byId('upgrades.discard')?.responses['204']?.content, undefined);
    assert.deepEqual(Object.keys(byId('plugins.install')?.requestBody?.content ?? {}), ['application/octet-stream']);
    assert.deepEqual(Object.keys(byId('tokens.create')?.requestBody?.content ?? {}), ['application/json']);
    assert.deepEqual(
      (byId('plugins.logs')?.parameters ?? []).map((parameter) => [parameter.name, parameter.in]),
      [
        ['name', 'path'],
        ['limit', 'query'],
        ['follow', 'query'],
      ],
    );
  });

  it('turns a fastify wildcard into a declared path parameter', () => {
    const files = route<unknown>({
      operation: 'ui.files',
      method: 'GET',
      url: '/v1/ui/*',
      summary: 'Files.',
      role: 'public',
      mutates: false,
      response: { status: 200, content: 'html', description: 'A file.' },
      handler: () => Promise.resolve(''),
    });
    const [entry] = operations(openApiDocument([files], { title: 't', version: '1', description: 'd' }));
    assert.equal(entry?.path, '/v1/ui/{wildcard}');
    assert.deepEqual(
      entry?.operation.parameters?.map((parameter) => [parameter.name, parameter.in, parameter.required]),
      [['wildcard', 'path', true]],
    );
  });

  it('renders a reference page with a section for every operation', () => {
    const page = renderHttpReference();
    for (const one of DAEMON_ROUTES) assert.ok(page.includes(`### \`${one.method} ${openApiPath(one.url).path}\`\n\n\`${one.operation}\`: `), one.operation);
    assert.equal(page.includes('fo_<id>'), false, 'angle brackets are escaped, not read as HTML');
  });
});
