/**
 * Install by reference and marketplace search, against a real registry (docker-registry
 * 2.8 on 127.0.0.1, listed in daemon.pull_registries) and a real TUF marketplace.
 * Hostile cases: a registry serving other bytes than the signed index names, a revoked
 * version, a registry nobody listed, hostile bodies, callers below admin.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { OciClient, parseReference, pushPackage } from '@forgeone/plugin-manager';
import { REPOSITORY_LAYOUT, addRevocation, addVersion, initRepository, publishIndex, serveDirectory, type ServingDirectory } from '@forgeone/plugin-manager/marketplace';
import { readPackage } from '@forgeone/plugin-manager/signing';
import { requireRegistry, startRegistry, type TestRegistry } from '@forgeone/plugin-manager/test-support';
import { forge } from '../test-support/cli.js';
import { signedPlugin } from '../test-support/signed-plugin.js';
import { signedSample, testDaemon, type TestDaemon } from '../test-support/daemon.js';
import { call } from './client.js';

interface Outcome {
  readonly action: string;
  readonly reference: string;
  readonly dependencies: readonly { name: string; version: string; action: string }[];
  readonly plugin: { readonly name: string; readonly version: string; readonly state: string; readonly digest: string };
}

interface Found {
  readonly total: number;
  readonly results: readonly {
    readonly name: string;
    readonly publisher: string;
    readonly revoked: { readonly reason: string } | null;
    readonly versions: readonly { version: string; digest: string; oci: string; permissions: unknown; revoked: { reason: string } | null }[];
  }[];
}

const PUBLISHER = 'ACME Plugins';
const NET_TOML = '[permissions]\nnetwork = ["connect"]\nallowed_hosts = ["api.example.org"]\nsyscalls = ["forge.emit_event"]\n';

describe('forge daemon: install by reference from a registry and the marketplace', () => {
  let registry: TestRegistry | undefined;
  let served: ServingDirectory | undefined;
  let d: TestDaemon | undefined;
  let repo = '';
  let market = '';

  before(async () => {
    registry = await startRegistry().catch((error: unknown) => {
      if (process.env['CI'] === 'true') throw error;
      return undefined;
    });
    if (registry === undefined) return;
    market = await mkdtemp(join(tmpdir(), 'forge-pull-market-'));
    repo = join(market, 'repo');
    const { rootFile } = await initRepository(repo);
    served = await serveDirectory(join(repo, REPOSITORY_LAYOUT.published));
    d = await testDaemon({
      yaml: `  marketplace:\n    url: ${served.url}\n    trusted_root: ${rootFile}\n    cache_directory: market-cache\n    refresh_interval: 1h\n`,
      daemonYaml: `    pull_registries:\n      - "${registry.host}"\n`,
    });
  });
  after(async () => {
    await d?.close();
    await served?.close();
    await registry?.stop();
    if (market !== '') await rm(market, { recursive: true, force: true });
  });

  const push = async (bytes: Uint8Array, reference: string): Promise<void> => {
    await pushPackage(new OciClient({ registry: parseReference(reference).registry }), parseReference(reference), bytes);
  };
  /** Lists `bytes` in the index at `oci` (with `digest`, default its own) and makes the daemon verify the new index. */
  const publish = async (daemon: TestDaemon, bytes: Uint8Array, oci: string, digest?: string): Promise<string> => {
    const { manifest, digest: own } = await readPackage(bytes);
    await publishIndex(repo, (index) =>
      addVersion(index, {
        name: manifest.name,
        publisher: PUBLISHER,
        description: manifest.description,
        keywords: ['demo'],
        version: { version: manifest.version, digest: digest ?? own, oci, permissions: manifest.permissions, published: '2026-12-01T00:00:00Z' },
      }),
    );
    await call(daemon.socket, { method: 'POST', path: '/v1/marketplace/refresh' });
    return own;
  };
  const pull = (daemon: TestDaemon, json: unknown, target = daemon.socket) => call<Outcome>(target, { method: 'POST', path: '/v1/plugins/pull', json });
  const installed = async (daemon: TestDaemon, name: string): Promise<string> => codeOf(call(daemon.socket, { method: 'GET', path: `/v1/plugins/${name}` }));

  it('shows a listed plugin\'s versions and permissions to a viewer, refuses viewers and operators, and installs it for an admin with the index\'s digest', async (t) => {
    if (!requireRegistry(t) || registry === undefined || d === undefined) return;
    const bytes = await signedPlugin(d.dir, { name: 'netty', version: '1.2.0', toml: NET_TOML });
    const oci = `${registry.host}/forge/netty:1.2.0`;
    await push(bytes, oci);
    const digest = await publish(d, bytes, oci);

    const viewer = d.tcp(d.daemon.services.tokens.create('v', 'viewer').token);
    const operator = d.tcp(d.daemon.services.tokens.create('o', 'operator').token);
    const found = await call<Found>(viewer, { method: 'GET', path: '/v1/marketplace/search?q=nett' });
    assert.equal(found.total, 1);
    const [result] = found.results;
    assert.deepEqual([result?.name, result?.publisher, result?.revoked, result?.versions.length], ['netty', PUBLISHER, null, 1]);
    assert.deepEqual(result?.versions[0], {
      version: '1.2.0',
      digest,
      oci,
      permissions: (await readPackage(bytes)).manifest.permissions,
      published: '2026-12-01T00:00:00Z',
      revoked: null,
    });
    assert.equal(await codeOf(pull(d, { reference: oci, digest }, viewer)), 'FO_DAEMON_FORBIDDEN');
    assert.equal(await codeOf(pull(d, { reference: oci, digest }, operator)), 'FO_DAEMON_FORBIDDEN');
    assert.equal(await installed(d, 'netty'), 'FO_STORE_NOT_INSTALLED');

    const outcome = await pull(d, { reference: oci, digest, start: true });
    assert.deepEqual([outcome.action, outcome.reference, outcome.dependencies, outcome.plugin.name, outcome.plugin.version, outcome.plugin.digest], ['installed', oci, [], 'netty', '1.2.0', digest]);
    assert.equal((await call<{ state: string }>(d.socket, { method: 'GET', path: '/v1/plugins/netty' })).state, 'running');
    const records = (await d.auditEvents()).filter((record) => record['action'] === 'api.plugins.pull');
    assert.deepEqual(
      records.map((record) => record['decision']),
      ['deny', 'deny', 'allow'],
    );
  });

  it('refuses a registry that serves other bytes than the signed index names, whether the client sends the digest or not; nothing is installed', async (t) => {
    if (!requireRegistry(t) || registry === undefined || d === undefined) return;
    const honest = await signedPlugin(d.dir, { name: 'swapped', version: '1.0.0' });
    const evil = await signedPlugin(d.dir, { name: 'swapped', version: '1.0.0', toml: NET_TOML });
    const oci = `${registry.host}/forge/swapped:1.0.0`;
    const digest = await publish(d, honest, oci);
    await push(evil, oci);
    for (const body of [{ reference: oci, digest }, { reference: oci }]) {
      assert.equal(await codeOf(pull(d, body)), 'FO_MARKET_DIGEST_MISMATCH', JSON.stringify(body));
    }
    assert.equal(await installed(d, 'swapped'), 'FO_STORE_NOT_INSTALLED');
    const denied = (await d.auditEvents()).filter((record) => record['action'] === 'plugin.pull' && record['resource'] === oci);
    assert.equal(denied.length, 2);
    assert.match(String(denied[0]?.['reason']), /^FO_MARKET_DIGEST_MISMATCH: /);
  });

  it('refuses a revoked version before pulling it, and search shows it revoked', async (t) => {
    if (!requireRegistry(t) || registry === undefined || d === undefined) return;
    const bytes = await signedPlugin(d.dir, { name: 'gone', version: '1.0.0' });
    // Listed but never pushed: a pull would answer FO_OCI_NOT_FOUND, so the revocation must come first.
    const oci = `${registry.host}/forge/gone:1.0.0`;
    await publishIndex(repo, (index) => addRevocation(index, { publisher: PUBLISHER, plugin: 'gone', reason: 'exfiltrates data', date: '2026-12-02T00:00:00Z' }));
    const digest = await publish(d, bytes, oci);
    assert.equal(await codeOf(pull(d, { reference: oci, digest })), 'FO_MARKET_PLUGIN_REVOKED');
    assert.equal(await codeOf(pull(d, { reference: `${registry.host}/forge/elsewhere:9.9.9`, digest })), 'FO_MARKET_PLUGIN_REVOKED', 'by digest, wherever it is said to be');
    const found = await call<Found>(d.socket, { method: 'GET', path: '/v1/marketplace/search?q=gone' });
    assert.deepEqual([found.results[0]?.revoked?.reason, found.results[0]?.versions[0]?.revoked?.reason], ['exfiltrates data', 'exfiltrates data']);
  });

  it('installs the dependencies a plugin lacks from the same registry, and removes them again when the plugin is held for permission approval', async (t) => {
    if (!requireRegistry(t) || registry === undefined || d === undefined) return;
    const host = registry.host;
    await push(await signedPlugin(d.dir, { name: 'base', version: '1.0.0' }), `${host}/forge/base:1.0.0`);
    await push(await signedPlugin(d.dir, { name: 'app', version: '1.0.0', toml: '[dependencies]\nbase = "^1.0.0"\n' }), `${host}/forge/app:1.0.0`);
    const first = await pull(d, { reference: `${host}/forge/app:1.0.0` });
    assert.deepEqual([first.action, first.plugin.version, first.dependencies], ['installed', '1.0.0', [{ name: 'base', version: '1.0.0', action: 'installed' }]]);

    await push(await signedPlugin(d.dir, { name: 'extra', version: '1.0.0' }), `${host}/forge/extra:1.0.0`);
    await push(await signedPlugin(d.dir, { name: 'app', version: '2.0.0', toml: `[dependencies]\nbase = "^1.0.0"\nextra = "^1.0.0"\n\n${NET_TOML}` }), `${host}/forge/app:2.0.0`);
    const refusal = await pull(d, { reference: `${host}/forge/app:2.0.0` }).then(
      () => assert.fail('an upgrade asking for more permissions installed without approval'),
      (error: unknown) => error as { code: string; details: { pendingUpgrade?: string } },
    );
    assert.equal(refusal.code, 'FO_STORE_APPROVAL_REQUIRED');
    assert.equal(typeof refusal.details.pendingUpgrade, 'string');
    assert.equal(await installed(d, 'extra'), 'FO_STORE_NOT_INSTALLED', 'the dependency this pull added is removed again');
    assert.equal((await call<{ version: string }>(d.socket, { method: 'GET', path: '/v1/plugins/app' })).version, '1.0.0');
    const pending = await call<{ upgrades: { id: string; name: string; to: string }[] }>(d.socket, { method: 'GET', path: '/v1/upgrades' });
    assert.deepEqual(pending.upgrades.map((upgrade) => [upgrade.id, upgrade.name, upgrade.to]), [[refusal.details.pendingUpgrade, 'app', '2.0.0']]);
  });

  it('refuses registries nobody listed (loopback, link-local), unknown fields, bad digests and oversized bodies', async (t) => {
    if (!requireRegistry(t) || registry === undefined || d === undefined) return;
    const port = registry.host.split(':')[1] ?? '';
    for (const reference of [`127.0.0.2:${port}/forge/base:1.0.0`, `localhost:${port}/forge/base:1.0.0`, '169.254.169.254/latest/meta-data:1']) {
      assert.equal(await codeOf(pull(d, { reference })), 'FO_DAEMON_REGISTRY_NOT_ALLOWED', reference);
    }
    assert.equal(await codeOf(pull(d, { reference: `${registry.host}/forge/base:1.0.0`, path: '/etc/passwd' })), 'FO_DAEMON_BAD_REQUEST');
    assert.equal(await codeOf(pull(d, { reference: `${registry.host}/forge/base:1.0.0`, digest: 'sha256:ABC' })), 'FO_DAEMON_BAD_REQUEST');
    assert.equal(await codeOf(pull(d, { reference: `${registry.host}/forge/${'a'.repeat(5000)}:1.0.0` })), 'FO_DAEMON_BODY_TOO_LARGE');
    assert.equal(await codeOf(pull(d, { reference: 'no-registry-host' })), 'FO_OCI_BAD_REFERENCE');
  });
});

describe('forge daemon: install by reference without a marketplace', () => {
  it('pulls from a listed registry and refuses marketplace search with FO_MARKET_NOT_CONFIGURED', async (t) => {
    if (!requireRegistry(t)) return;
    const registry = await startRegistry();
    const d = await testDaemon({ daemonYaml: `    pull_registries:\n      - "${registry.host}"\n` });
    t.after(async () => {
      await d.close();
      await registry.stop();
    });
    const bytes = await readFile(await signedSample(d.dir));
    const reference = `${registry.host}/forge/sample-plugin:0.1.0`;
    await pushPackage(new OciClient({ registry: registry.host }), parseReference(reference), bytes);
    const outcome = await call<Outcome>(d.socket, { method: 'POST', path: '/v1/plugins/pull', json: { reference, digest: (await readPackage(bytes)).digest } });
    assert.deepEqual([outcome.action, outcome.plugin.name], ['installed', 'sample-plugin']);
    assert.equal(await codeOf(call(d.socket, { method: 'GET', path: '/v1/marketplace/search?q=sample' })), 'FO_MARKET_NOT_CONFIGURED');
  });
});

describe('forge install REF with a daemon running', () => {
  it('has the daemon pull the plugin and the dependency it lacks, under the daemon\'s registry allow-list, not the CLI\'s reach', async (t) => {
    if (!requireRegistry(t)) return;
    const registry = await startRegistry();
    const d = await testDaemon({ daemonYaml: `    pull_registries:\n      - "${registry.host}"\n` });
    const other = await startRegistry();
    t.after(async () => {
      await d.close();
      await registry.stop();
      await other.stop();
    });
    const client = new OciClient({ registry: registry.host });
    await pushPackage(client, parseReference(`${registry.host}/acme/base:1.2.0`), await signedPlugin(d.dir, { name: 'base', version: '1.2.0' }));
    const app = await signedPlugin(d.dir, { name: 'app', version: '1.0.0', toml: '[dependencies]\nbase = "^1.0.0"\n' });
    await pushPackage(client, parseReference(`${registry.host}/acme/app:1.0.0`), app);
    // No FORGE_DAEMON: the CLI finds the test daemon on the socket its configuration names.
    const run = await forge(['install', `${registry.host}/acme/app:1.0.0`, '--json'], { cwd: d.dir, env: {} });
    assert.equal(run.status, 0, run.stderr);
    const outcome = JSON.parse(run.stdout) as Outcome;
    assert.deepEqual([outcome.action, outcome.plugin.name, outcome.reference], ['installed', 'app', `${registry.host}/acme/app:1.0.0`]);
    assert.deepEqual(outcome.dependencies.map((entry) => [entry.name, entry.version, entry.action]), [['base', '1.2.0', 'installed']]);
    const listed = (await call<{ plugins: { name: string }[] }>(d.socket, { method: 'GET', path: '/v1/plugins' })).plugins.map((plugin) => plugin.name).sort();
    assert.deepEqual(listed, ['app', 'base'], 'both installed in the daemon');

    // A registry the CLI reaches but the daemon's configuration does not list: refused by the daemon, nothing installed.
    await pushPackage(new OciClient({ registry: other.host }), parseReference(`${other.host}/acme/app:1.0.0`), app);
    const refused = await forge(['install', `${other.host}/acme/app:1.0.0`], { cwd: d.dir, env: {} });
    assert.equal(refused.status, 4, refused.stderr);
    assert.match(refused.stderr, /FO_DAEMON_REGISTRY_NOT_ALLOWED/);
  });
});
