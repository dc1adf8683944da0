import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { codeOf, codeOfSync } from '@forgeone/common/testing';
import { testDaemon, type TestDaemon } from '../../test-support/daemon.js';
import { call, send } from '../client.js';
import type { Principal } from '../http/route.js';
import type { CreatedToken, TokenInfo } from '../tokens.js';
import { TOKEN_ROUTES, assertMayGrant, tokenLifetime } from './tokens.js';
import type { DaemonServices } from './services.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

async function daemon(): Promise<TestDaemon> {
  const d = await testDaemon();
  running.push(d);
  return d;
}

describe('the tokens API', () => {
  it('creates a token whose secret is shown once, lists tokens without secrets, and revokes one so its next request is refused', async () => {
    const d = await daemon();
    const admin = d.tcp(d.daemon.services.tokens.create('root', 'admin').token);
    const created = await send(admin, { method: 'POST', path: '/v1/tokens', json: { name: 'dashboard', role: 'viewer', expires_in: '30d' } });
    assert.equal(created.status, 201);
    const { token, info } = JSON.parse(created.body.toString('utf8')) as CreatedToken;
    assert.match(token, /^fo_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual([info.name, info.role, info.revokedAt], ['dashboard', 'viewer', null]);
    const days = (Date.parse(info.expiresAt ?? '') - Date.parse(info.createdAt)) / 86_400_000;
    assert.equal(days, 30);
    const viewer = d.tcp(token);
    assert.equal((await send(viewer, { method: 'GET', path: '/v1/plugins' })).status, 200);
    const listed = await send(admin, { method: 'GET', path: '/v1/tokens' });
    // Everything after `fo_<id>_`: the secret's own alphabet has '_' in it.
    const secret = token.split('_').slice(2).join('_');
    assert.equal(secret.length, 43);
    assert.equal(listed.body.toString('utf8').includes(secret), false, 'the list never holds a secret');
    assert.deepEqual(
      (JSON.parse(listed.body.toString('utf8')) as { tokens: TokenInfo[] }).tokens.map((one) => one.name).sort(),
      ['dashboard', 'root'],
    );
    const revoked = await call<TokenInfo>(admin, { method: 'DELETE', path: `/v1/tokens/${info.id}` });
    assert.equal(revoked.id, info.id);
    assert.equal(typeof revoked.revokedAt, 'string');
    assert.equal(await codeOf(call(viewer, { method: 'GET', path: '/v1/plugins' })), 'FO_DAEMON_UNAUTHENTICATED');
    assert.equal(await codeOf(call(admin, { method: 'DELETE', path: '/v1/tokens/0123456789abcdef' })), 'FO_DAEMON_TOKEN_NOT_FOUND');

    const records = (await d.auditEvents()).filter((record) => String(record['action']).startsWith('api.tokens.') || record['action'] === 'token.create');
    assert.deepEqual(
      records.map((record) => [record['action'], record['principal'], record['resource'], record['decision']]),
      [
        ['api.tokens.create', 'token:root', undefined, 'allow'],
        ['token.create', 'token:root', `token:${info.id}`, 'allow'],
        ['api.tokens.revoke', 'token:root', `token:${info.id}`, 'allow'],
        ['api.tokens.revoke', 'token:root', 'token:0123456789abcdef', 'allow'],
      ],
      'changes are audited with the new token\'s id; the list, a read, is not at this level',
    );
    const create = records[1] as { data: Record<string, unknown> };
    assert.deepEqual(create.data, { name: 'dashboard', role: 'viewer', expires_at: info.expiresAt });
  });

  it('refuses an expires_in that is not a duration from 1s to 3650d, an unknown role and an unknown field with FO_DAEMON_BAD_REQUEST', async () => {
    const d = await daemon();
    const cases = [
      { name: 'x', role: 'viewer', expires_in: 'soon' },
      { name: 'x', role: 'viewer', expires_in: '0s' },
      { name: 'x', role: 'viewer', expires_in: '30' },
      { name: 'x', role: 'viewer', expires_in: '3651d' },
      { name: 'x', role: 'viewer', expires_in: '-1d' },
      { name: 'x', role: 'root' },
      { name: 'x', role: 'viewer', secret: 'mine' },
      { name: '', role: 'viewer' },
      { name: 'bad\nname', role: 'viewer' },
    ];
    for (const json of cases) assert.equal(await codeOf(call(d.socket, { method: 'POST', path: '/v1/tokens', json })), 'FO_DAEMON_BAD_REQUEST', JSON.stringify(json));
    assert.deepEqual(d.daemon.services.tokens.list(), [], 'nothing was created');
  });

  it('refuses every token operation to a viewer and an operator (FO_DAEMON_FORBIDDEN, audited): an operator cannot mint an admin token', async () => {
    const d = await daemon();
    const operator = d.tcp(d.daemon.services.tokens.create('ops', 'operator').token);
    const viewer = d.tcp(d.daemon.services.tokens.create('eyes', 'viewer').token);
    assert.equal(await codeOf(call(operator, { method: 'POST', path: '/v1/tokens', json: { name: 'escalate', role: 'admin' } })), 'FO_DAEMON_FORBIDDEN');
    assert.equal(await codeOf(call(operator, { method: 'POST', path: '/v1/tokens', json: { name: 'peer', role: 'operator' } })), 'FO_DAEMON_FORBIDDEN');
    assert.equal(await codeOf(call(viewer, { method: 'POST', path: '/v1/tokens', json: { name: 'peer', role: 'viewer' } })), 'FO_DAEMON_FORBIDDEN');
    assert.equal(await codeOf(call(viewer, { method: 'GET', path: '/v1/tokens' })), 'FO_DAEMON_FORBIDDEN');
    assert.equal(await codeOf(call(operator, { method: 'DELETE', path: `/v1/tokens/${d.daemon.services.tokens.list()[0]?.id ?? ''}` })), 'FO_DAEMON_FORBIDDEN');
    assert.deepEqual(
      d.daemon.services.tokens.list().map((token) => token.name).sort(),
      ['eyes', 'ops'],
    );
    const denials = (await d.auditEvents()).filter((record) => record['decision'] === 'deny');
    assert.deepEqual(
      denials.map((record) => [record['action'], record['principal']]),
      [
        ['api.tokens.create', 'token:ops'],
        ['api.tokens.create', 'token:ops'],
        ['api.tokens.create', 'token:eyes'],
        ['api.tokens.list', 'token:eyes'],
        ['api.tokens.revoke', 'token:ops'],
      ],
    );
    const admin = d.tcp(d.daemon.services.tokens.create('root', 'admin').token);
    const minted = await call<CreatedToken>(admin, { method: 'POST', path: '/v1/tokens', json: { name: 'second admin', role: 'admin' } });
    assert.equal(minted.info.role, 'admin', 'an admin may create any role');
  });

  it('refuses in the handler too a token above the caller\'s role, whatever role the route asks for', () => {
    const principal = (role: Principal['role']): Principal => ({ name: `token:${role}`, role, transport: 'tcp' });
    assert.equal(codeOfSync(() => assertMayGrant(principal('operator'), 'admin')), 'FO_DAEMON_FORBIDDEN');
    assert.equal(codeOfSync(() => assertMayGrant(principal('viewer'), 'operator')), 'FO_DAEMON_FORBIDDEN');
    assert.equal(codeOfSync(() => assertMayGrant(principal('operator'), 'operator')), 'ok');
    assert.equal(codeOfSync(() => assertMayGrant(principal('admin'), 'admin')), 'ok');
    const create = TOKEN_ROUTES.find((route) => route.operation === 'tokens.create');
    const minted: string[] = [];
    const services = { tokens: { create: (name: string) => minted.push(name) }, audit: undefined } as unknown as DaemonServices;
    const context = { services, body: { name: 'escalate', role: 'admin' }, principal: principal('operator'), params: {}, query: {} } as unknown as Parameters<NonNullable<typeof create>['handler']>[0];
    assert.equal(codeOfSync(() => create?.handler(context)), 'FO_DAEMON_FORBIDDEN');
    assert.deepEqual(minted, [], 'no token was created');
  });

  it('reads expires_in with parseDuration', () => {
    assert.equal(tokenLifetime('1s'), 1000);
    assert.equal(tokenLifetime('12h'), 12 * 3_600_000);
    assert.equal(tokenLifetime('3650d'), 3650 * 86_400_000);
  });
});
