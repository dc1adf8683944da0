/**
 * Roles over the whole API, not a sample of it: every operation in the route table that
 * needs more than a viewer is refused to a viewer's token (and every admin operation to an
 * operator's) with FO_DAEMON_FORBIDDEN (403) before anything else about the request is
 * looked at, and each refusal is audited with the operation and the token. The refused
 * requests carry bodies that would be valid, so a refusal cannot come from validation.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signedSample, testDaemon, type TestDaemon } from '../test-support/daemon.js';
import type { ApiRequest } from './client.js';
import { ROLES } from './tokens.js';
import { DAEMON_ROUTES } from './routes/index.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

/** A request for `route` with its path parameters filled and a well-formed body. */
function requestFor(route: (typeof DAEMON_ROUTES)[number]): ApiRequest {
  const path = route.url.replace(/:(\w+)/g, (_, name: string) => ({ name: 'sample-plugin', export: 'greet', id: 'x', file: 'index.html' })[name] ?? 'x');
  if (route.body === 'binary') return { method: route.method, path, bytes: new Uint8Array([1, 2, 3]) };
  if (route.body !== undefined) {
    const body = route.operation === 'plugins.pull' ? { reference: 'localhost:5000/acme/app:1.0.0' } : route.operation === 'tokens.create' ? { name: 'mine', role: 'admin' } : {};
    return { method: route.method, path, json: body };
  }
  return { method: route.method, path };
}

describe('forge daemon: every operation above a role is refused to it', () => {
  for (const [role, index] of [['viewer', 0], ['operator', 1]] as const) {
    it(`refuses a token of the ${role} role every operation that needs more (FO_DAEMON_FORBIDDEN, 403, audited)`, async () => {
      const d = await testDaemon();
      running.push(d);
      const target = d.tcp(d.daemon.services.tokens.create(`the-${role}`, role).token);
      const above = DAEMON_ROUTES.filter((route) => route.role !== 'public' && ROLES.indexOf(route.role) > index);
      assert.ok(above.length >= (role === 'viewer' ? 12 : 10), `operations above ${role}: ${above.length}`);
      for (const route of above) {
        const answer = await d.request(target, requestFor(route));
        assert.equal(answer.status, 403, `${route.method} ${route.url} as ${role}: ${answer.body.toString('utf8').slice(0, 200)}`);
        assert.equal((answer.json as { error: { code: string } }).error.code, 'FO_DAEMON_FORBIDDEN', `${route.method} ${route.url}`);
      }
      const denials = (await d.auditEvents()).filter((record) => record['decision'] === 'deny' && record['principal'] === `token:the-${role}`);
      assert.deepEqual(
        denials.map((record) => record['action']).sort(),
        above.map((route) => `api.${route.operation}`).sort(),
        'one audited denial per refused operation, naming it',
      );
    });
  }
});

describe('forge daemon: what a viewer can read', () => {
  it("never shows a viewer the operator's configuration: a secret config value, a grant's volume path, the trust store", async () => {
    const secret = 'sk-live-0123456789abcdef';
    const d = await testDaemon({
      yaml: `  policy:\n    grants:\n      sample-plugin:\n        config:\n          api_key: ${secret}\n        volumes:\n          data: { host: /srv/very-private-volume, mode: rw }\n`,
    });
    running.push(d);
    await d.request(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
    const target = d.tcp(d.daemon.services.tokens.create('reader', 'viewer').token);
    const readable = DAEMON_ROUTES.filter((route) => route.method === 'GET' && (route.role === 'viewer' || route.role === 'public') && route.response.content !== 'event-stream' && route.response.content !== 'ndjson');
    assert.ok(readable.length >= 8, `viewer reads: ${readable.map((route) => route.url).join(', ')}`);
    for (const route of readable) {
      const answer = await d.request(target, requestFor(route));
      const body = answer.body.toString('utf8');
      for (const hidden of [secret, '/srv/very-private-volume', join(d.dir, 'trust')]) assert.ok(!body.includes(hidden), `${route.url} shows ${hidden}`);
    }
  });
});
