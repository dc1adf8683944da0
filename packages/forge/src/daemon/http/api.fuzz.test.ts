/**
 * Fuzz: the daemon API's request validation. Generated requests to every route that
 * neither streams nor reaches the network (path parameters from a hostile pool, query
 * strings and JSON bodies mixing each route's own keys with arbitrary ones and values)
 * are answered; a refusal is a 4xx whose body names a catalogued FO_ code, never a 500
 * or any other 5xx; a caller over TCP without the route's role (no token, or a lesser
 * role) is always refused with 401 or 403; and the daemon keeps answering health checks.
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { isErrorCode } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { signedSample, testDaemon, type TestDaemon } from '../../test-support/daemon.js';
import { call } from '../client.js';
import { DAEMON_ROUTES } from '../routes/index.js';
import { ROLES, roleAllows, type Role } from '../tokens.js';

/** Streams (would stay open) and routes that go to a registry over the network. */
const SKIPPED = new Set(['/v1/events', '/v1/plugins/pull', '/v1/marketplace/refresh', '/v1/marketplace/search']);
const ROUTES = DAEMON_ROUTES.filter((route) => !SKIPPED.has(route.url));

let d: TestDaemon;
const tokens: Partial<Record<Role, string>> = {};
before(async () => {
  d = await testDaemon();
  for (const role of ROLES) tokens[role] = d.daemon.services.tokens.create(`fuzz-${role}`, role).token;
  // A real plugin, so the plugin routes reach their handlers, not only "no such plugin".
  await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
});
after(() => d.close());

const PARAMS = ['sample-plugin', 'sample-plugin', 'greet', 'nobody', '..', '%2e%2e', '%2F', 'a'.repeat(300), '%00', 'x%20y', '0123456789abcdef', '-1', 'constructor', '__proto__', '%E2%80%AE'];
const VALUES = fc.oneof(fc.constantFrom('', '0', '-1', '1e309', 'true', 'yesterday', '1h', '9'.repeat(40), 'NaN', '%00', '[]', '{}', 'a,b,,', '2999-01-01T00:00:00Z'), fc.string({ maxLength: 12 }));

function keysOf(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties === undefined ? [] : Object.keys(properties);
}

const request = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    route: fc.constant(route),
    // Who asks: the socket (its own user, admin), or TCP with no token or a token of each role.
    as: fc.constantFrom<'socket' | 'none' | Role>('socket', 'none', ...ROLES),
    params: fc.array(fc.constantFrom(...PARAMS), { minLength: 4, maxLength: 4 }),
    query: fc.dictionary(fc.oneof(fc.constantFrom(...keysOf(route.query), 'limit', 'since'), fc.string({ maxLength: 6 })), VALUES, { maxKeys: 3 }),
    body: fc.option(
      fc.oneof(
        fc.dictionary(fc.oneof(fc.constantFrom(...keysOf(route.body), 'name', 'role', '__proto__'), fc.string({ maxLength: 6 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
        fc.jsonValue({ maxDepth: 3 }),
      ),
      { nil: undefined },
    ),
  }),
);

describe('daemon API fuzz: every refusal is a 4xx with a catalogued code', () => {
  it('generated requests to every route', async () => {
    const prop = fc.asyncProperty(request, async ({ route, as, params, query, body }) => {
      let index = 0;
      const path = route.url.replace(/:[a-z]+/g, () => params[index++] ?? 'x');
      // Never ask to follow a log: that is a stream, which stays open.
      const search = Object.entries(query)
        .filter(([key]) => key !== 'follow')
        .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
        .join('&');
      const target = as === 'socket' ? d.socket : d.tcp(as === 'none' ? undefined : tokens[as]);
      const response = await d.request(target, {
        method: route.method,
        path: search === '' ? path : `${path}?${search}`,
        ...(body === undefined ? {} : { json: body }),
        timeoutMs: 30_000,
      });
      const what = `${as}: ${route.method} ${path}?${search} ${JSON.stringify(body)} -> ${response.status} ${response.body.toString('utf8').slice(0, 300)}`;
      assert.ok(response.status < 500, `a server error: ${what}`);
      const allowed = route.role === 'public' || as === 'socket' || (as !== 'none' && roleAllows(as, route.role));
      const code = (response.json as { error?: { code?: unknown } } | undefined)?.error?.code;
      if (!allowed) {
        assert.ok(response.status >= 400, `a caller without the role ${route.role} succeeded: ${what}`);
        // With plain parameters the path names its route, and the role is what refuses it (a `..`
        // or an over-long segment can make it name no route: a 400 or 404 then, which tells nothing).
        const plain = params.slice(0, index).every((param) => /^[a-z0-9][a-z0-9._-]{0,62}$/.test(param));
        if (plain) assert.ok(response.status === 401 || response.status === 403, `a caller without the role ${route.role} was not refused as such: ${what}`);
      }
      if (response.status >= 400) {
        assert.ok(typeof code === 'string' && code.startsWith('FO_') && isErrorCode(code), `a refusal without a catalogued code: ${what}`);
      }
    });
    await runFuzz('api.fuzz', 250, (settings) => fc.check(prop, settings), (details) => fc.asyncDefaultReportMessage(details));
    assert.deepEqual(await call(d.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  });
});
