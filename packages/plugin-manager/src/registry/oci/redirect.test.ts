/**
 * Hostile test: where a registry's redirects and token realm take the client, and what it
 * sends there (Node stand-ins on 127.0.0.1). A blob redirected to another origin gets no
 * credentials; a redirect from https to http is refused; a redirect loop ends. With a
 * guard (the daemon's pulls), every connection asks it first and goes to the addresses it
 * answers, the name never resolved again, and a refusal stops the request before anything
 * is sent.
 */
import assert from 'node:assert/strict';
import { afterEach, before, beforeEach, describe, test } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { codeOfSync, rejectsWithCode } from '@forgeone/common/testing';
import type { PluginStore } from '../store/store.js';
import { makeSigned, openStore } from '../store/test-support/fixtures.js';
import { OciClient, type OciClientOptions } from './client.js';
import { installFromRegistry } from './install.js';
import { parseReference } from './reference.js';
import { serveArtifact, startStandIn, type ServedArtifact, type StandIn } from './test-support/stand-in.js';
import { redirectTarget, type ConnectionGuard } from './transport.js';

const CREDENTIALS = { username: 'puller', password: 's3cret' };

describe('redirects and token realms of a registry', () => {
  let registry: StandIn;
  let elsewhere: StandIn;
  let served: ServedArtifact;
  let store: PluginStore;
  let signed: Buffer;
  /** The Authorization and Host headers `elsewhere` received, in order. */
  let seenElsewhere: { authorization: string | undefined; host: string | undefined }[];
  before(async () => {
    signed = await makeSigned({ name: 'moved' });
  });
  beforeEach(async () => {
    registry = await startStandIn();
    registry.bearer = CREDENTIALS;
    served = await serveArtifact(registry, 'forge/moved', '1.0.0', signed);
    elsewhere = await startStandIn();
    for (const [digest, bytes] of registry.blobs) elsewhere.blobs.set(digest, bytes);
    seenElsewhere = [];
    elsewhere.intercept = (request) => {
      seenElsewhere.push({ authorization: request.headers.authorization, host: request.headers.host });
      return false;
    };
    store = await openStore();
  });
  afterEach(async () => {
    await registry.close();
    await elsewhere.close();
  });

  /** Makes the registry answer the layer's GET with `status` to `location`. */
  const redirectLayer = (location: (path: string) => string, status = 307): void => {
    registry.intercept = (request, response) => {
      const path = `/v2/forge/moved/blobs/${served.layer.digest}`;
      if (request.url !== path || request.headers.authorization === undefined) return false;
      response.writeHead(status, { location: location(path) }).end();
      return true;
    };
  };
  const install = (options: Partial<OciClientOptions> = {}, host = registry.host) =>
    installFromRegistry(new OciClient({ registry: host, plainHttp: true, credentials: CREDENTIALS, retries: 0, ...options }), parseReference(`${host}/forge/moved:1.0.0`), store);

  test('a blob redirected to another origin is fetched there without the registry\'s credentials, by fetch and by a guarded client', async () => {
    redirectLayer((path) => `http://${elsewhere.host}${path}`);
    const guard: ConnectionGuard = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    for (const options of [{}, { guard }]) {
      seenElsewhere = [];
      await store.uninstall('moved').catch(() => undefined);
      assert.equal((await install(options)).installed.plugin.name, 'moved');
      assert.deepEqual(seenElsewhere, [{ authorization: undefined, host: elsewhere.host }], 'one GET of the layer, no Authorization header');
      assert.ok(registry.requests.includes(`GET /v2/forge/moved/blobs/${served.layer.digest}`));
    }
  });

  test('a guarded client connects to the addresses its guard answers, never resolving the name, for the registry, its token realm and each redirect hop', async () => {
    // .invalid never resolves (RFC 6761): a connection that looked the name up would fail.
    const name = `registry.pinned.invalid:${registry.host.split(':')[1] ?? ''}`;
    const blobs = `blobs.pinned.invalid:${elsewhere.host.split(':')[1] ?? ''}`;
    const asked: string[] = [];
    const guard: ConnectionGuard = (url) => {
      asked.push(url.host);
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    redirectLayer((path) => `http://${blobs}${path}`);
    const layerRoute = registry.intercept;
    const hosts: string[] = [];
    registry.intercept = (request, response) => {
      hosts.push(`${(request.url ?? '').startsWith('/token') ? 'token' : 'api'} ${request.headers.host ?? ''}`);
      return layerRoute?.(request, response) ?? false;
    };
    assert.equal((await install({ guard }, name)).installed.plugin.name, 'moved');
    assert.deepEqual([...new Set(asked)].sort(), [blobs, name, registry.host].sort(), 'the registry, its realm (127.0.0.1:port, as the stand-in names it) and the redirect target');
    assert.deepEqual([...new Set(hosts)].sort(), [`api ${name}`, `token ${registry.host}`], 'each Host header names its URL\'s host');
    assert.deepEqual(seenElsewhere, [{ authorization: undefined, host: blobs }]);
  });

  test('a guard refusing a redirect target or a token realm stops the request before anything is sent there, with the guard\'s code', async () => {
    const refuseElsewhere: ConnectionGuard = (url) =>
      url.host === elsewhere.host
        ? Promise.reject(new ForgeError('FO_DAEMON_REGISTRY_NOT_ALLOWED', `not ${url.host}`, { details: { registry: url.host } }))
        : Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    redirectLayer((path) => `http://${elsewhere.host}${path}`);
    await rejectsWithCode(install({ guard: refuseElsewhere }), 'FO_DAEMON_REGISTRY_NOT_ALLOWED');
    registry.intercept = (request, response) => {
      if (request.headers.authorization !== undefined) return false;
      response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${elsewhere.host}/token",service="stand-in"` }).end();
      return true;
    };
    await rejectsWithCode(install({ guard: refuseElsewhere }), 'FO_DAEMON_REGISTRY_NOT_ALLOWED');
    assert.deepEqual(elsewhere.requests, [], 'nothing reached the refused host');
    assert.deepEqual(await store.list(), []);
  });

  test('a redirect loop ends with FO_OCI_PROTOCOL after 10 redirects', async () => {
    registry.bearer = undefined;
    registry.intercept = (request, response) => {
      if (!(request.url ?? '').includes('/manifests/')) return false;
      response.writeHead(302, { location: request.url ?? '/' }).end();
      return true;
    };
    await rejectsWithCode(install(), 'FO_OCI_PROTOCOL');
    assert.equal(registry.requests.filter((line) => line.includes('/manifests/')).length, 11, 'the request and 10 redirects, no retry of a protocol error');
  });

  test('the next hop of a redirect: never from https to http, credentials kept on the same origin only, 303 turns into a GET', () => {
    const from = new URL('https://registry.example.org/v2/a/blobs/sha256:1');
    assert.equal(codeOfSync(() => redirectTarget(from, 307, 'http://registry.example.org/blob', 'GET')), 'FO_OCI_PROTOCOL', 'downgrade to http');
    assert.equal(codeOfSync(() => redirectTarget(from, 302, 'file:///etc/passwd', 'GET')), 'FO_OCI_PROTOCOL');
    assert.equal(codeOfSync(() => redirectTarget(from, 307, 'http://[::1', 'GET')), 'FO_OCI_PROTOCOL');
    assert.deepEqual(redirectTarget(from, 307, '/other', 'GET'), { url: new URL('https://registry.example.org/other'), method: 'GET', dropBody: false, crossOrigin: false });
    assert.equal(redirectTarget(from, 307, 'https://cdn.example.net/b', 'GET')?.crossOrigin, true);
    assert.equal(redirectTarget(from, 307, 'https://registry.example.org:8443/b', 'GET')?.crossOrigin, true, 'another port is another origin');
    assert.deepEqual([redirectTarget(from, 303, '/done', 'PUT')?.method, redirectTarget(from, 303, '/done', 'PUT')?.dropBody], ['GET', true]);
    assert.equal(redirectTarget(from, 308, '/again', 'PUT')?.method, 'PUT');
    assert.equal(redirectTarget(new URL('http://127.0.0.1:5000/v2/'), 307, 'https://127.0.0.1:5443/v2/', 'GET')?.url.protocol, 'https:', 'an upgrade to https is followed');
    assert.equal(redirectTarget(from, 200, '/x', 'GET'), undefined);
    assert.equal(redirectTarget(from, 307, null, 'GET'), undefined);
  });
});
