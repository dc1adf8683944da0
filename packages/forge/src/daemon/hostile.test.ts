/**
 * Hostile and unlucky clients, one at a time: each gets its own error code, nothing it
 * sends is buffered beyond the limits, and afterwards the daemon still answers health
 * checks and runs a real plugin call. (Slow and idle clients: slow-clients.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { signedSample, testDaemon, type TestDaemon } from '../test-support/daemon.js';
import { RawConnection, codeOfResponse, type RawTarget } from '../test-support/raw-http.js';
import { call, send, type DaemonTarget } from './client.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let d: TestDaemon;
let admin: string;
let operator: string;
let viewer: string;
before(async () => {
  d = await testDaemon({ daemonYaml: '    max_request_size: 1MB\n    request_timeout: 3s\n' });
  await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
  admin = d.daemon.services.tokens.create('admin', 'admin').token;
  operator = d.daemon.services.tokens.create('operator', 'operator').token;
  viewer = d.daemon.services.tokens.create('viewer', 'viewer').token;
});
after(() => d.close());

/** Health on both transports and a real call into the running sample plugin succeed. */
async function assertServing(): Promise<void> {
  assert.deepEqual(await call(d.socket, { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  assert.deepEqual(await call(d.tcp(), { method: 'GET', path: '/v1/health' }), { status: 'ok' });
  const greeting = await send(d.tcp(operator), { method: 'POST', path: '/v1/plugins/sample-plugin/call/greet', bytes: Buffer.from('still here') });
  assert.deepEqual([greeting.status, greeting.body.toString('utf8')], [200, 'Hello, still here!']);
}

async function codeFor(target: DaemonTarget, request: Parameters<typeof send>[1]): Promise<[number, string]> {
  const response = await d.request(target, request);
  return [response.status, String((response.json as { error?: { code?: string } } | undefined)?.error?.code ?? 'no error')];
}

/** Both transports, the TCP one with `token` in the Authorization header. */
function transports(token: string): { readonly name: string; readonly target: RawTarget; readonly auth: string }[] {
  return [
    { name: 'socket', target: { socket: d.daemon.socket }, auth: '' },
    { name: 'tcp', target: { url: d.daemon.url as string }, auth: `Authorization: Bearer ${token}\r\n` },
  ];
}

describe('forge daemon under hostile clients: bodies', () => {
  it('answers malformed JSON, a prototype-pollution body and a nesting bomb with FO_DAEMON_BAD_REQUEST (400), and keeps serving', async () => {
    const json = { 'content-type': 'application/json' };
    const bodies = ['{"broken":', '{"__proto__":{"role":"admin"}}', '{"constructor":{"prototype":{"role":"admin"}}}', '['.repeat(200_000), '\u0000\u00ff'];
    for (const body of bodies) {
      assert.deepEqual(await codeFor(d.socket, { method: 'POST', path: '/v1/plugins', bytes: Buffer.from(body), headers: json }), [400, 'FO_DAEMON_BAD_REQUEST'], body.slice(0, 30));
      assert.deepEqual(await codeFor(d.tcp(admin), { method: 'POST', path: '/v1/plugins', bytes: Buffer.from(body), headers: json }), [400, 'FO_DAEMON_BAD_REQUEST'], body.slice(0, 30));
    }
    await assertServing();
  });

  it('refuses a declared gigabyte with FO_DAEMON_BODY_TOO_LARGE (413) after reading only the headers, and closes the connection', { timeout: 60_000 }, async () => {
    for (const { name, target, auth } of transports(admin)) {
      const connection = await RawConnection.open(target);
      await connection.write(`POST /v1/plugins HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nContent-Length: ${GiB}\r\n\r\n`);
      await connection.write(Buffer.alloc(64 * 1024, 1));
      // The answer comes while 1 GiB - 64 KiB of the body were never sent: nothing waited for them.
      const response = await connection.nextResponse();
      assert.equal(codeOfResponse(response), 'FO_DAEMON_BODY_TOO_LARGE', name);
      assert.deepEqual([response?.status, response?.headers['connection']], [413, 'close'], name);
      await connection.closed;
      assert.equal(await connection.write(Buffer.alloc(MiB)), false, `${name}: the daemon read no more`);
    }
    await assertServing();
  });

  it('cuts a chunked upload with no declared length at max_request_size (413): the daemon takes at most a few MiB of a 64 MiB stream', { timeout: 60_000 }, async () => {
    for (const { name, target, auth } of transports(admin)) {
      const connection = await RawConnection.open(target);
      await connection.write(`POST /v1/plugins HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x61), Buffer.from('\r\n')]);
      let offered = 0;
      while (offered < 64 * MiB && connection.response() === undefined && (await connection.write(chunk))) offered += chunk.length;
      const response = await connection.nextResponse();
      assert.deepEqual([response?.status, codeOfResponse(response)], [413, 'FO_DAEMON_BODY_TOO_LARGE'], name);
      await connection.closed;
      // The limit is 1 MiB; what the kernel's socket buffers held on top is all the rest.
      assert.ok(connection.accepted < 16 * MiB, `${name}: the daemon let ${connection.accepted} bytes in before refusing`);
    }
    await assertServing();
  });

  it('closes the connection of a refused request whose body it did not read, instead of draining it (no token, a declared gigabyte)', { timeout: 60_000 }, async () => {
    const connection = await RawConnection.open({ url: d.daemon.url as string });
    await connection.write(`POST /v1/plugins HTTP/1.1\r\nHost: forge\r\nContent-Type: application/octet-stream\r\nContent-Length: ${GiB}\r\n\r\n`);
    const response = await connection.nextResponse();
    assert.deepEqual([response?.status, codeOfResponse(response), response?.headers['connection']], [401, 'FO_DAEMON_UNAUTHENTICATED', 'close']);
    let offered = 0;
    while (offered < 64 * MiB && (await connection.write(Buffer.alloc(MiB)))) offered += MiB;
    await connection.closed;
    assert.ok(connection.accepted < 16 * MiB, `the daemon went on reading an unauthenticated body: ${connection.accepted} bytes`);
    await assertServing();
  });
});

describe('forge daemon under hostile clients: routes, tokens and roles', () => {
  it('answers unknown routes and methods with FO_DAEMON_NO_ROUTE (404), with or without a token, and keeps serving', async () => {
    for (const target of [d.socket, d.tcp(), d.tcp(viewer)]) {
      assert.deepEqual(await codeFor(target, { method: 'GET', path: '/v1/nothing-here' }), [404, 'FO_DAEMON_NO_ROUTE']);
      assert.deepEqual(await codeFor(target, { method: 'GET', path: '/v2/plugins' }), [404, 'FO_DAEMON_NO_ROUTE']);
      assert.deepEqual(await codeFor(target, { method: 'DELETE', path: '/v1/plugins' }), [404, 'FO_DAEMON_NO_ROUTE']);
      assert.deepEqual(await codeFor(target, { method: 'GET', path: '/v1/plugins/sample-plugin/call/greet' }), [404, 'FO_DAEMON_NO_ROUTE']);
      assert.deepEqual(await codeFor(target, { method: 'PUT', path: `/v1/plugins/${'a'.repeat(5000)}` }), [404, 'FO_DAEMON_NO_ROUTE']);
    }
    await assertServing();
  });

  it('answers a path the router cannot take (a bad escape, an overlong segment) with FO_DAEMON_BAD_REQUEST (400) in the daemon\'s error body', async () => {
    for (const target of [d.socket, d.tcp(), d.tcp(viewer)]) {
      for (const path of ['/v1/plugins/%ff', '/v1/plugins/%E0%A4%A', `/v1/plugins/${'a'.repeat(150)}`, `/v1/plugins/${'a'.repeat(150)}/call/greet`]) {
        assert.deepEqual(await codeFor(target, { method: path.endsWith('greet') ? 'POST' : 'GET', path }), [400, 'FO_DAEMON_BAD_REQUEST'], path.slice(0, 40));
      }
    }
    await assertServing();
  });

  it('refuses wrong, forged, expired, revoked and malformed tokens alike with FO_DAEMON_UNAUTHENTICATED (401), and keeps serving', async () => {
    const tokens = d.daemon.services.tokens;
    const expired = tokens.create('expired', 'admin', -1).token;
    const revoked = tokens.create('revoked', 'admin');
    tokens.revoke(revoked.info.id);
    const id = /^fo_([0-9a-f]{16})_/.exec(admin)?.[1] as string;
    const headers = [
      `Bearer fo_0123456789abcdef_${'A'.repeat(43)}`,
      `Bearer fo_${id}_${'B'.repeat(43)}`,
      `Bearer ${expired}`,
      `Bearer ${revoked.token}`,
      `Bearer ${admin.slice(0, -1)}`,
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      `Bearer ${'x'.repeat(300)}`,
      'Bearer',
      `bearer ${admin}`,
    ];
    for (const authorization of headers) {
      assert.deepEqual(await codeFor(d.tcp(), { method: 'POST', path: '/v1/plugins/sample-plugin/stop', headers: { authorization } }), [401, 'FO_DAEMON_UNAUTHENTICATED'], authorization.slice(0, 40));
    }
    assert.equal((await call<{ state: string }>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' })).state, 'running');
    await assertServing();
  });

  it('refuses every operator and admin action of a viewer token with FO_DAEMON_FORBIDDEN (403), audits each, and changes nothing', async () => {
    const bytes = await readFile(await signedSample(d.dir, 'again.forgepkg'));
    const attempts: { method: 'POST' | 'DELETE'; path: string; bytes?: Uint8Array; operation: string }[] = [
      ...['start', 'stop', 'pause', 'resume', 'restart', 'unload', 'load'].map((action) => ({ method: 'POST' as const, path: `/v1/plugins/sample-plugin/${action}`, operation: `plugins.${action}` })),
      { method: 'POST', path: '/v1/plugins/sample-plugin/call/greet', bytes: Buffer.from('x'), operation: 'plugins.call' },
      { method: 'POST', path: '/v1/plugins?start=true', bytes, operation: 'plugins.install' },
      { method: 'POST', path: '/v1/plugins/sample-plugin/rollback', operation: 'plugins.rollback' },
      { method: 'DELETE', path: '/v1/plugins/sample-plugin', operation: 'plugins.uninstall' },
    ];
    const before = await call<{ state: string; version: string; digest: string }>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' });
    for (const attempt of attempts) {
      const { operation, ...request } = attempt;
      assert.deepEqual(await codeFor(d.tcp(viewer), request), [403, 'FO_DAEMON_FORBIDDEN'], operation);
    }
    const denials = (await d.auditEvents()).filter((record) => record['decision'] === 'deny' && record['principal'] === 'token:viewer');
    assert.deepEqual(
      denials.map((record) => [record['action'], String(record['reason']).split(':')[0]]),
      attempts.map((attempt) => [`api.${attempt.operation}`, 'FO_DAEMON_FORBIDDEN']),
    );
    const after = await call<{ state: string; version: string; digest: string }>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' });
    assert.deepEqual([after.state, after.version, after.digest], [before.state, before.version, before.digest]);
    await assertServing();
  });
});

describe('forge daemon under hostile clients: header floods', () => {
  it('answers one huge header, thousands of headers and a huge request line with FO_DAEMON_HEADERS_TOO_LARGE (431) and closes the connection', async () => {
    const floods = [
      ['one 20 KiB header', `GET /v1/health HTTP/1.1\r\nHost: forge\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`],
      ['4000 headers', `GET /v1/health HTTP/1.1\r\nHost: forge\r\n${Array.from({ length: 4000 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`],
      ['a 20 KiB request line', `GET /v1/health?${'q'.repeat(20 * 1024)} HTTP/1.1\r\nHost: forge\r\n\r\n`],
    ] as const;
    for (const { name, target } of transports(admin)) {
      for (const [what, request] of floods) {
        const connection = await RawConnection.open(target);
        await connection.write(request);
        const response = await connection.nextResponse();
        assert.deepEqual([response?.status, codeOfResponse(response)], [431, 'FO_DAEMON_HEADERS_TOO_LARGE'], `${name}: ${what}`);
        await connection.closed;
      }
    }
    await assertServing();
  });

  it('answers a request that is not HTTP, or smuggles a second body, with FO_DAEMON_BAD_REQUEST (400) and closes the connection', async () => {
    for (const { name, target, auth } of transports(admin)) {
      const garbage = [
        '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003',
        'GET /v1/health HTTP/1.1\r\nHost forge\r\n\r\n',
        `POST /v1/plugins HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
        // Smuggling: two lengths, or a length and chunks, for one body.
        `POST /v1/plugins HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd`,
        `POST /v1/plugins HTTP/1.1\r\nHost: forge\r\n${auth}Content-Type: application/octet-stream\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ];
      for (const request of garbage) {
        const connection = await RawConnection.open(target);
        await connection.write(request);
        const response = await connection.nextResponse();
        assert.deepEqual([response?.status, codeOfResponse(response)], [400, 'FO_DAEMON_BAD_REQUEST'], `${name}: ${JSON.stringify(request.slice(0, 20))}`);
        await connection.closed;
      }
    }
    await assertServing();
  });
});
