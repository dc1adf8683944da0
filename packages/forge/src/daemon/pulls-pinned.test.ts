/**
 * Hostile test: the daemon's pulls (POST /v1/plugins/pull) connect only where the pull
 * policy allows, to addresses it checked. A registry the operator listed answers with a
 * Bearer realm or a blob redirect into the daemon's own network (another loopback port,
 * the metadata address): refused with FO_DAEMON_REGISTRY_NOT_ALLOWED naming that host,
 * audited, nothing sent there. A listed registry name is resolved once for the pull and
 * connected to at that answer (a DNS server answering elsewhere afterwards moves nothing).
 * Registries here are Node stand-ins on 127.0.0.1; the daemon resolves names with the
 * resolver seam (startDaemon's `resolve`), a rebinding one here. That the connection goes
 * to the guard's answer and never to a second resolution is shown by
 * registry/oci/redirect.test.ts with a name the system cannot resolve.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { codeOf, forgeErrorOf } from '@forgeone/common/testing';
import { serveArtifact, startStandIn, type StandIn } from '@forgeone/plugin-manager/test-support';
import { signedPlugin } from '../test-support/signed-plugin.js';
import { testDaemon, type TestDaemon } from '../test-support/daemon.js';
import { call } from './client.js';

/** A listed registry name; plain http (the client's default for localhost), answered by the resolver seam. */
const NAME = 'localhost';

describe('forge daemon: where a pull connects', () => {
  let registry: StandIn;
  let inner: StandIn;
  let d: TestDaemon;
  /** How many times the daemon asked its resolver about NAME. */
  let asked = 0;
  let layerPath = '';

  before(async () => {
    registry = await startStandIn();
    inner = await startStandIn();
    const port = registry.host.split(':')[1] ?? '';
    // A rebinding DNS server: the registry's address first, a public-looking address nothing listens on ever after.
    const resolve = (host: string): Promise<readonly string[]> => {
      if (host !== NAME) return Promise.reject(new Error(`ENOTFOUND ${host}`));
      asked += 1;
      return Promise.resolve(asked === 1 ? ['127.0.0.1'] : ['192.0.2.1']);
    };
    d = await testDaemon({ daemonYaml: `    pull_registries:\n      - "${registry.host}"\n      - "${NAME}:${port}"\n`, resolve });
    const served = await serveArtifact(registry, 'forge/moved', '1.0.0', await signedPlugin(d.dir, { name: 'moved', version: '1.0.0' }));
    layerPath = `/v2/forge/moved/blobs/${served.layer.digest}`;
    await serveArtifact(registry, 'forge/named', '1.0.0', await signedPlugin(d.dir, { name: 'named', version: '1.0.0' }));
  });
  afterEach(() => {
    registry.intercept = undefined;
  });
  after(async () => {
    await d.close();
    await registry.close();
    await inner.close();
  });

  const pull = (reference: string) => call<{ action: string; plugin: { name: string } }>(d.socket, { method: 'POST', path: '/v1/plugins/pull', json: { reference } });
  /** Pulls `reference`, expects FO_DAEMON_REGISTRY_NOT_ALLOWED naming `host`, and the plugin.pull deny record saying so. */
  const refused = async (reference: string, host: string): Promise<void> => {
    const refusal = await forgeErrorOf(pull(reference));
    assert.deepEqual([refusal?.code, refusal?.details['registry']], ['FO_DAEMON_REGISTRY_NOT_ALLOWED', host]);
    const denied = (await d.auditEvents()).filter((record) => record['action'] === 'plugin.pull' && record['resource'] === reference && record['decision'] === 'deny');
    assert.match(String(denied[denied.length - 1]?.['reason']), new RegExp(`^FO_DAEMON_REGISTRY_NOT_ALLOWED: the daemon does not connect to ${host.replace(/[.]/g, '\\.')} `));
  };

  it('refuses a Bearer realm of a listed registry on an unlisted inner address, names it, audits it, and sends nothing there', async () => {
    for (const [realm, host] of [
      [`http://${inner.host}/token`, inner.host],
      ['http://169.254.169.254/latest/meta-data/iam', '169.254.169.254'],
    ] as const) {
      registry.intercept = (request, response) => {
        if (request.headers.authorization !== undefined) return false;
        response.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="registry"` }).end();
        return true;
      };
      await refused(`${registry.host}/forge/moved:1.0.0`, host);
    }
    assert.deepEqual(inner.requests, []);
    assert.equal(await codeOf(call(d.socket, { method: 'GET', path: '/v1/plugins/moved' })), 'FO_STORE_NOT_INSTALLED');
  });

  it('refuses a blob redirect to an unlisted inner address, and follows one to a listed registry', async () => {
    const redirect = (location: string): void => {
      registry.intercept = (request, response) => {
        if (request.url !== layerPath) return false;
        response.writeHead(307, { location }).end();
        return true;
      };
    };
    redirect(`http://${inner.host}${layerPath}`);
    await refused(`${registry.host}/forge/moved:1.0.0`, inner.host);
    assert.deepEqual(inner.requests, []);
    redirect(`http://${registry.host}${layerPath}?moved=1`);
    const outcome = await pull(`${registry.host}/forge/moved:1.0.0`);
    assert.deepEqual([outcome.action, outcome.plugin.name], ['installed', 'moved']);
    assert.ok(registry.requests.includes(`GET ${layerPath}?moved=1`));
  });

  it('resolves a listed registry name once for the whole pull and connects to that answer', async () => {
    const port = registry.host.split(':')[1] ?? '';
    const before = registry.requests.length;
    const outcome = await pull(`${NAME}:${port}/forge/named:1.0.0`);
    assert.deepEqual([outcome.action, outcome.plugin.name], ['installed', 'named']);
    assert.equal(asked, 1, 'one resolution for the manifest, the referrers, the layer and the bundles');
    assert.ok(registry.requests.length - before >= 4, 'every request of the pull reached the registry');
  });
});
