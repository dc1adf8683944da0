import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALLOW_ALL_GATE, ForgeError } from '@forgeone/common';
import type { PluginGrant } from '@forgeone/microkernel';
import { createForgeHostFunctions } from './forge-host.js';
import { exchangePinned } from './http-hop.js';
import { createIoBridge } from './io-bridge.js';
import type { SyncBridge } from './sync-bridge.js';
import { startTestServer, type TestServer } from './test-support/http-server.js';
import type { RecordingPolicySetup } from '@forgeone/microkernel/testing';
import { decodeHttp, httpRequest, relayPlugin, type TestPlugin } from './test-support/plugin.js';

let server: TestServer;
let bridge: SyncBridge;

before(async () => {
  server = await startTestServer();
  bridge = createIoBridge('forge-io-test');
});

after(async () => {
  await bridge.close();
  await server.stop();
});

/**
 * A plugin whose manifest allows 127.0.0.1 and localhost (any port) and whose operator
 * granted 127.0.0.1 (restricted network access) and named it as an explicit host.
 */
async function httpPlugin(options: { grant?: PluginGrant; explicitHosts?: string[]; policy?: RecordingPolicySetup; limits?: Parameters<typeof createForgeHostFunctions>[0]['limits'] } = {}): Promise<TestPlugin> {
  return relayPlugin(
    { ioBridge: bridge, explicitHosts: options.explicitHosts ?? ['127.0.0.1'], ...(options.limits === undefined ? {} : { limits: options.limits }) },
    options.policy ?? {
      ceiling: { network: ['connect'], allowed_hosts: ['127.0.0.1', 'localhost'] },
      grant: options.grant ?? { hosts: ['127.0.0.1'] },
    },
  );
}

describe('forge.http_request', () => {
  it('performs a request to a granted host and returns status, headers, final URL and body', async () => {
    const plugin = await httpPlugin();
    const response = decodeHttp(plugin.call('http_request', httpRequest({ url: `${server.origin}/hello` })));
    assert.equal(response.status, 200);
    assert.equal(response.text(), 'hello');
    assert.equal(response.header('x-test'), 'yes');
    assert.equal(response.url, `${server.origin}/hello`);
    assert.deepEqual(plugin.policy.audit.map((entry) => [entry.action, entry.resource, entry.allowed]), [['forge.http_request', `127.0.0.1:${server.port}`, true]]);
  });

  it('sends the method, headers and body the plugin gave', async () => {
    const plugin = await httpPlugin();
    const response = decodeHttp(
      plugin.call('http_request', httpRequest({ method: 'POST', url: `${server.origin}/echo?q=1#frag`, headers: [['X-Plugin', 'tester'], ['Content-Type', 'text/plain']], body: 'payload' })),
    );
    const echoed = JSON.parse(response.text()) as { method: string; path: string; headers: Record<string, string>; body: string };
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.path, '/echo?q=1', 'the fragment is not sent');
    assert.equal(echoed.headers['x-plugin'], 'tester');
    assert.equal(echoed.headers['host'], `127.0.0.1:${server.port}`);
    assert.equal(Buffer.from(echoed.body, 'base64').toString(), 'payload');
  });

  it('refuses a host outside allowed_hosts with FO_ABI_HOST_DENIED and audits the denial', async () => {
    const plugin = await httpPlugin();
    assert.equal(plugin.code('http_request', httpRequest({ url: 'http://example.net/' })), 'FO_ABI_HOST_DENIED');
    assert.equal(plugin.code('http_request', httpRequest({ url: `http://localhost:${server.port}/hello` })), 'FO_ABI_HOST_DENIED', 'in the manifest but not granted by the operator');
    assert.deepEqual(plugin.policy.denials(), [
      ['forge.http_request', 'example.net:80'],
      ['forge.http_request', `localhost:${server.port}`],
    ]);
  });

  it('follows a redirect to an allowed host, re-asking the gate for the new host', async () => {
    const plugin = await httpPlugin({
      policy: { auditLevel: 'all', ceiling: { network: ['connect'], allowed_hosts: ['127.0.0.1', 'localhost'] }, grant: { hosts: ['127.0.0.1', 'localhost'] } },
      explicitHosts: ['127.0.0.1', 'localhost'],
    });
    const next = encodeURIComponent(`http://localhost:${server.port}/hello`);
    const response = decodeHttp(plugin.call('http_request', httpRequest({ url: `${server.origin}/redirect?to=${next}` })));
    assert.equal(response.status, 200);
    assert.equal(response.text(), 'hello');
    assert.equal(response.url, `http://localhost:${server.port}/hello`);
    assert.deepEqual(
      plugin.policy.audit.map((entry) => [entry.action, entry.resource, entry.allowed]),
      [
        ['forge.http_request', `127.0.0.1:${server.port}`, true],
        ['forge.http_request', `localhost:${server.port}`, true],
      ],
      'one gate check per hop',
    );
  });

  it('refuses a redirect to a host outside the policy with FO_SYSCALL_HTTP_REDIRECT_DENIED, auditing the refused hop', async () => {
    const plugin = await httpPlugin();
    const elsewhere = encodeURIComponent('http://example.net/steal');
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/redirect?to=${elsewhere}` })), 'FO_SYSCALL_HTTP_REDIRECT_DENIED');
    const ungranted = encodeURIComponent(`http://localhost:${server.port}/hello`);
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/redirect?to=${ungranted}&status=307` })), 'FO_SYSCALL_HTTP_REDIRECT_DENIED');
    assert.deepEqual(plugin.policy.denials(), [
      ['forge.http_request', 'example.net:80'],
      ['forge.http_request', `localhost:${server.port}`],
    ]);
    // Each refused hop is audited once (by the gate), with the URL the redirect asked for.
    assert.deepEqual(
      plugin.policy.audit.filter((entry) => !entry.allowed).map((entry) => entry.requested),
      ['http://example.net/steal', `http://localhost:${server.port}/hello`],
    );
    // Each refused hop is audited once (by the gate), with the URL the redirect asked for.
    assert.deepEqual(
      plugin.policy.audit.filter((entry) => !entry.allowed).map((entry) => entry.requested),
      ['http://example.net/steal', `http://localhost:${server.port}/hello`],
    );
  });

  it('returns a redirect as is when the plugin did not ask to follow', async () => {
    const plugin = await httpPlugin();
    const response = decodeHttp(plugin.call('http_request', httpRequest({ url: `${server.origin}/redirect?to=${encodeURIComponent('http://example.net/')}`, follow: false })));
    assert.equal(response.status, 302);
    assert.equal(response.header('location'), 'http://example.net/');
    assert.equal(response.text(), 'moved');
  });

  it('stops a redirect loop with FO_SYSCALL_HTTP_TOO_MANY_REDIRECTS', async () => {
    const plugin = await httpPlugin({ limits: { http: { maxRedirects: 3 } } });
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/loop` })), 'FO_SYSCALL_HTTP_TOO_MANY_REDIRECTS');
  });

  it('refuses an un-granted loopback target even when policy allows its host: manifest allowed_hosts are not an explicit grant', async () => {
    const plugin = await httpPlugin({ explicitHosts: [], policy: { networkAccess: 'full', ceiling: { network: ['connect'], allowed_hosts: ['127.0.0.1'] } } });
    const failure = plugin.failure('http_request', httpRequest({ url: `${server.origin}/hello` }));
    assert.equal(failure.code, 'FO_SYSCALL_HTTP_PRIVATE_ADDRESS');
    assert.match(failure.message, /a loopback address/);
    assert.doesNotMatch(failure.message, /127\.0\.0\.1(?!:)/, 'the guest learns the range, not the address it resolved to');
    // Policy allowed the host; the address rule refused it: audited with the URL asked for and the address.
    assert.deepEqual(
      plugin.policy.audit.filter((entry) => !entry.allowed).map((entry) => [entry.action, entry.resource, entry.requested]),
      [['forge.http_request', `127.0.0.1:${server.port}`, `${server.origin}/hello`]],
    );
    assert.match(plugin.policy.audit.find((entry) => !entry.allowed)?.reason ?? '', /^FO_SYSCALL_HTTP_PRIVATE_ADDRESS: .*\(it resolved to 127\.0\.0\.1\)$/);
  });

  it('refuses a name that resolves to loopback when only the IP was granted explicitly', async () => {
    const plugin = await httpPlugin({ grant: { hosts: ['127.0.0.1', 'localhost'] }, explicitHosts: ['127.0.0.1'] });
    assert.equal(plugin.code('http_request', httpRequest({ url: `http://localhost:${server.port}/hello` })), 'FO_SYSCALL_HTTP_PRIVATE_ADDRESS');
  });

  it('refuses loopback reached through an IPv4-mapped IPv6 literal', async () => {
    const plugin = await httpPlugin({ explicitHosts: [], policy: { networkAccess: 'full', ceiling: { network: ['connect'], allowed_hosts: ['[::ffff:7f00:1]'] } } });
    assert.equal(plugin.code('http_request', httpRequest({ url: `http://[::ffff:127.0.0.1]:${server.port}/hello` })), 'FO_SYSCALL_HTTP_PRIVATE_ADDRESS');
  });

  it('refuses loopback when the explicit grant names another port', async () => {
    const plugin = await httpPlugin({ explicitHosts: [`127.0.0.1:${server.port === 1 ? 2 : 1}`] });
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/hello` })), 'FO_SYSCALL_HTTP_PRIVATE_ADDRESS');
  });

  it('shows policy the canonical host: decimal and hex IPv4 forms are 127.0.0.1', async () => {
    const plugin = await httpPlugin();
    assert.equal(decodeHttp(plugin.call('http_request', httpRequest({ url: `http://2130706433:${server.port}/hello` }))).status, 200);
    assert.equal(decodeHttp(plugin.call('http_request', httpRequest({ url: `http://0x7f.1:${server.port}/hello` }))).status, 200);
    assert.deepEqual(new Set(plugin.policy.audit.map((entry) => entry.resource)), new Set([`127.0.0.1:${server.port}`]));
  });

  it('connects to the address it checked and never resolves the name again (no DNS-rebinding window)', async () => {
    // pinned.invalid cannot resolve: the exchange succeeds only if it uses the checked address.
    const hop = { method: 'GET', url: `http://pinned.invalid:${server.port}/echo`, headers: [], body: new Uint8Array(0), timeoutMs: 5000, maxResponseBytes: 100_000, allowNonPublic: true, redirectsFollowed: false };
    const result = await exchangePinned(hop, { address: '127.0.0.1', family: 4 }, AbortSignal.timeout(5000));
    assert.equal(result.status, 200);
    assert.equal((JSON.parse(new TextDecoder().decode(result.body)) as { headers: Record<string, string> }).headers['host'], `pinned.invalid:${server.port}`);
  });

  it('accepts a HEAD answer whose declared length exceeds the cap, since no body follows', async () => {
    const plugin = await httpPlugin({ limits: { http: { maxResponseBytes: 100 } } });
    const response = decodeHttp(plugin.call('http_request', httpRequest({ method: 'HEAD', url: `${server.origin}/bytes?n=5000` })));
    assert.equal(response.status, 200);
    assert.equal(response.header('content-length'), '5000');
    assert.equal(response.body.length, 0);
  });

  it('answers a server that never responds with FO_SYSCALL_HTTP_TIMEOUT', async () => {
    const plugin = await httpPlugin();
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/hang`, timeoutMs: 200 })), 'FO_SYSCALL_HTTP_TIMEOUT');
    assert.equal(decodeHttp(plugin.call('http_request', httpRequest({ url: `${server.origin}/hello` }))).status, 200, 'the next request works');
  });

  it('refuses a response body over the cap with FO_SYSCALL_HTTP_RESPONSE_TOO_LARGE, declared or streamed', async () => {
    const plugin = await httpPlugin({ limits: { http: { maxResponseBytes: 5000 } } });
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/bytes?n=5001` })), 'FO_SYSCALL_HTTP_RESPONSE_TOO_LARGE');
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/stream?n=20000` })), 'FO_SYSCALL_HTTP_RESPONSE_TOO_LARGE');
    assert.equal(decodeHttp(plugin.call('http_request', httpRequest({ url: `${server.origin}/bytes?n=5000` }))).body.length, 5000, 'the cap itself is accepted');
    assert.equal(decodeHttp(plugin.call('http_request', httpRequest({ url: `${server.origin}/stream?n=5000` }))).body.length, 5000);
  });

  it('refuses a request body over the cap with FO_SYSCALL_PAYLOAD_TOO_LARGE', async () => {
    const plugin = await httpPlugin({ limits: { http: { maxRequestBodyBytes: 10 } } });
    assert.equal(plugin.code('http_request', httpRequest({ method: 'POST', url: `${server.origin}/echo`, body: '12345678901' })), 'FO_SYSCALL_PAYLOAD_TOO_LARGE');
  });

  it('refuses malformed requests before policy: bad URLs, methods and headers', async () => {
    const plugin = await httpPlugin();
    const cases: [Parameters<typeof httpRequest>[0], string][] = [
      [{ url: 'ftp://127.0.0.1/' }, 'FO_SYSCALL_HTTP_BAD_URL'],
      [{ url: '/relative' }, 'FO_SYSCALL_HTTP_BAD_URL'],
      [{ url: `http://user:pass@127.0.0.1:${server.port}/` }, 'FO_SYSCALL_HTTP_BAD_URL'],
      [{ url: `${server.origin}/`, method: 'CONNECT' }, 'FO_SYSCALL_HTTP_BAD_REQUEST'],
      [{ url: `${server.origin}/`, headers: [['Host', 'evil.example']] }, 'FO_SYSCALL_HTTP_BAD_REQUEST'],
      [{ url: `${server.origin}/`, headers: [['Transfer-Encoding', 'chunked']] }, 'FO_SYSCALL_HTTP_BAD_REQUEST'],
      [{ url: `${server.origin}/`, headers: [['X-Split', 'a\r\nInjected: yes']] }, 'FO_SYSCALL_HTTP_BAD_REQUEST'],
      [{ url: `${server.origin}/`, headers: [['Bad Name', 'x']] }, 'FO_SYSCALL_HTTP_BAD_REQUEST'],
    ];
    for (const [spec, code] of cases) assert.equal(plugin.code('http_request', httpRequest(spec)), code, JSON.stringify(spec));
    assert.equal(plugin.code('http_request', new Uint8Array(3)), 'FO_ABI_BAD_REQUEST');
    assert.deepEqual(plugin.policy.audit, [], 'none of them reached policy');
  });

  it('reports a refused connection as FO_SYSCALL_HTTP_FAILED', async () => {
    const plugin = await httpPlugin({ grant: { hosts: ['127.0.0.1'] } });
    const failure = plugin.failure('http_request', httpRequest({ url: 'http://127.0.0.1:1/' }));
    assert.equal(failure.code, 'FO_SYSCALL_HTTP_FAILED');
    assert.match(failure.message, /ECONNREFUSED/);
  });

  it('answers FO_SYSCALL_NOT_CONFIGURED without an I/O bridge', async () => {
    const plugin = await relayPlugin({}, { ceiling: { network: ['connect'], allowed_hosts: ['127.0.0.1'] }, grant: { hosts: ['127.0.0.1'] } });
    assert.equal(plugin.code('http_request', httpRequest({ url: `${server.origin}/hello` })), 'FO_SYSCALL_NOT_CONFIGURED');
  });

  it('refuses wildcards and malformed entries among the explicit hosts', () => {
    assert.throws(
      () => createForgeHostFunctions({ plugin: 'p', gate: ALLOW_ALL_GATE, explicitHosts: ['*.corp', 'a b', '127.0.0.1:99999', 'db.internal', '[::1]:8080'] }),
      (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_INVALID_OPTIONS') && (error.details['problems'] as string[]).length === 3,
    );
  });
});
