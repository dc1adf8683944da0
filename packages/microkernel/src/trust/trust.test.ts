import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext, type PluginIdentity } from '@forgeone/common';
import { CallCatalog, CedarPolicies, EMPTY_CEILING, MAX_CACHED_DECISIONS, TrustContext, WASI_CALL_COUNT, matchesHostPattern, volumeOf, type Ceiling, type OperatorPolicy } from './index.js';

const host = new IdentityContext('plugin-manager');
const plugin: PluginIdentity = { publisher: 'acme', name: 'notes', version: '1.0.0', digest: `sha256:${'1'.repeat(64)}`, attested: true };
const identity = host.forPlugin(plugin);

const ceiling: Ceiling = {
  filesystem: ['read', 'write'],
  network: ['connect'],
  allowed_hosts: ['api.example.com', '*.cdn.example.com:443'],
  syscalls: ['forge.kv_get', 'forge.kv_set'],
  volumes: [
    { name: 'data', path: '/data', mode: 'rw' },
    { name: 'docs', path: '/docs', mode: 'ro' },
  ],
};

const grants: OperatorPolicy = {
  networkAccess: 'restricted',
  grants: { notes: { hosts: ['api.example.com'], volumes: { data: { host: '/srv/data', mode: 'rw' }, docs: { host: '/srv/docs', mode: 'ro' } } } },
};

function context(policy: OperatorPolicy = grants, pluginCeiling: Ceiling = ceiling): TrustContext {
  const trust = new TrustContext(host, { policy });
  trust.registerPlugin(plugin, pluginCeiling);
  return trust;
}

function allowed(trust: TrustContext, call: string, resource?: string, access?: 'read' | 'write'): boolean {
  return trust.evaluate(identity, call, resource, access === undefined ? {} : { access }).allowed;
}

describe('TrustContext decisions', () => {
  it('knows all 46 WASI preview1 functions', () => {
    assert.equal(WASI_CALL_COUNT, 46);
    assert.equal(new CallCatalog().names().filter((name) => name.startsWith('wasi_snapshot_preview1.')).length, 46);
  });

  it('denies unknown calls and allows basic ones to a plugin that declares nothing', () => {
    const trust = context(grants, EMPTY_CEILING);
    const unknown = trust.evaluate(identity, 'forge.format_disk');
    assert.deepEqual([unknown.allowed, unknown.by], [false, 'catalog']);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.clock_time_get'), true);
    assert.equal(allowed(trust, 'forge.log'), true);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/data/x'), false);
    assert.equal(allowed(trust, 'forge.kv_get', 'kv:a'), false);
    assert.equal(allowed(trust, 'forge.http_request', 'api.example.com'), false);
  });

  it('allows paths inside a mapped volume and nothing outside', () => {
    const trust = context();
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/data/notes.txt'), true);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/data'), true);
    for (const path of ['/database/x', '/etc/passwd', '/data/../etc/passwd', 'data/x', '/data/./x', '/data/x\0y']) {
      const decision = trust.evaluate(identity, 'wasi_snapshot_preview1.path_open', path);
      assert.equal(decision.allowed, false, path);
      assert.equal(decision.by, 'ceiling', path);
    }
  });

  it('refuses writes to a read-only volume, whether the manifest or the operator made it read-only', () => {
    const trust = context();
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_unlink_file', '/data/x'), true);
    assert.equal(trust.evaluate(identity, 'wasi_snapshot_preview1.path_unlink_file', '/docs/x').reason, 'volume docs is read-only in the manifest');
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/x', 'write'), false);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/x', 'read'), true);
    const narrowed = context({ ...grants, grants: { notes: { volumes: { data: { host: '/srv/data', mode: 'ro' } } } } });
    const decision = narrowed.evaluate(identity, 'wasi_snapshot_preview1.path_create_directory', '/data/new');
    assert.deepEqual([decision.allowed, decision.by, decision.reason], [false, 'grant', 'the operator mapped volume data read-only']);
  });

  it('refuses a volume the operator has not mapped', () => {
    const trust = context({ networkAccess: 'full', grants: {} });
    assert.equal(trust.evaluate(identity, 'wasi_snapshot_preview1.path_open', '/data/x').reason, 'the operator has not mapped volume data');
  });

  it('allows hosts in allowed_hosts that the operator granted, per network_access', () => {
    const restricted = context();
    assert.equal(allowed(restricted, 'forge.http_request', 'api.example.com'), true);
    assert.equal(allowed(restricted, 'forge.http_request', 'img.cdn.example.com:443'), false, 'not granted by the operator');
    assert.equal(allowed(restricted, 'forge.http_request', 'evil.com'), false);
    const full = context({ ...grants, networkAccess: 'full' });
    assert.equal(allowed(full, 'forge.http_request', 'img.cdn.example.com:443'), true);
    assert.equal(allowed(full, 'forge.http_request', 'img.cdn.example.com:80'), false);
    assert.equal(allowed(full, 'forge.http_request', 'cdn.example.com:443'), false);
    const none = context({ ...grants, networkAccess: 'none' });
    assert.equal(none.evaluate(identity, 'forge.http_request', 'api.example.com').reason, 'the operator set network_access: none');
  });

  it('allows explicit calls only when the manifest lists them and the operator grant, if it has a list, does too', () => {
    assert.equal(allowed(context(), 'forge.kv_get', 'kv:a'), true);
    assert.equal(allowed(context(), 'forge.kv_delete', 'kv:a'), false);
    const narrowed = context({ ...grants, grants: { notes: { syscalls: ['forge.kv_get'] } } });
    assert.equal(allowed(narrowed, 'forge.kv_get', 'kv:a'), true);
    assert.equal(narrowed.evaluate(identity, 'forge.kv_set', 'kv:a').by, 'grant');
  });

  it('gives a grant that names a publisher only to that publisher\'s plugin of the name: no volumes, hosts or call list for another', () => {
    const scoped = { ...grants.grants['notes'], syscalls: ['forge.kv_get'], publisher: 'acme' };
    const policy: OperatorPolicy = { networkAccess: 'restricted', grants: { notes: scoped } };
    assert.equal(allowed(context(policy), 'wasi_snapshot_preview1.path_open', '/data/x'), true);
    assert.equal(allowed(context(policy), 'forge.http_request', 'api.example.com'), true);
    // Same name, same ceiling, another (trusted) signer.
    const foreign: PluginIdentity = { ...plugin, publisher: 'mallory', digest: `sha256:${'3'.repeat(64)}` };
    const trust = new TrustContext(host, { policy });
    trust.registerPlugin(foreign, ceiling);
    const as = host.forPlugin(foreign);
    const volume = trust.evaluate(as, 'wasi_snapshot_preview1.path_open', '/data/x');
    assert.deepEqual([volume.allowed, volume.by, volume.reason], [false, 'grant', 'the operator has not mapped volume data']);
    const network = trust.evaluate(as, 'forge.http_request', 'api.example.com');
    assert.deepEqual([network.allowed, network.by], [false, 'grant']);
    // Without the grant, its call list does not narrow the foreign plugin either: it gets what an ungranted plugin gets.
    assert.equal(trust.evaluate(as, 'forge.kv_set', 'kv:a').allowed, true);
    // A grant without a publisher is given to any publisher's plugin of the name.
    const open = new TrustContext(host, { policy: grants });
    open.registerPlugin(foreign, ceiling);
    assert.equal(open.evaluate(as, 'wasi_snapshot_preview1.path_open', '/data/x').allowed, true);
  });

  it('lets the host act for itself and denies plugins it does not know', () => {
    const trust = context();
    assert.equal(trust.evaluate(host, 'forge.kv_delete').allowed, true);
    const stranger = host.forPlugin({ ...plugin, digest: `sha256:${'2'.repeat(64)}` });
    assert.equal(trust.evaluate(stranger, 'forge.log').allowed, false);
  });

  it('answers evaluateSyscall(name, args, identity) like evaluate', () => {
    const trust = context();
    assert.deepEqual(trust.evaluateSyscall('wasi_snapshot_preview1.path_open', { resource: '/docs/a', access: 'write' }, identity), trust.evaluate(identity, 'wasi_snapshot_preview1.path_open', '/docs/a', { access: 'write' }));
  });
});

describe('Cedar policies', () => {
  const catalog = new CallCatalog();

  it('lets a Cedar forbid beat a manifest grant', () => {
    const cedar = CedarPolicies.load('forbid(principal, action == ForgeOne::Action::"forge.http_request", resource) when { resource.name == "api.example.com" };', catalog);
    const trust = context({ ...grants, cedar });
    const decision = trust.evaluate(identity, 'forge.http_request', 'api.example.com');
    assert.deepEqual([decision.allowed, decision.by], [false, 'cedar']);
    assert.match(decision.reason, /forbidden by Cedar policy/);
    assert.equal(allowed(trust, 'forge.kv_get', 'kv:a'), true, 'what the policy does not forbid stays allowed');
  });

  it('can forbid by action group, principal attribute and access', () => {
    const cedar = CedarPolicies.load(
      `forbid(principal, action in ForgeOne::Action::"filesystem", resource) when { context.access == "write" && !principal.attested };`,
      catalog,
    );
    const unsigned = { ...plugin, attested: false };
    const trust = new TrustContext(host, { policy: { ...grants, cedar } });
    trust.registerPlugin(unsigned, ceiling);
    const who = host.forPlugin(unsigned);
    assert.equal(trust.evaluate(who, 'wasi_snapshot_preview1.path_unlink_file', '/data/x').allowed, false);
    assert.equal(trust.evaluate(who, 'wasi_snapshot_preview1.path_open', '/data/x', { access: 'read' }).allowed, true);
  });

  it('requires a permit in require-permit mode', () => {
    const cedar = CedarPolicies.load('permit(principal, action == ForgeOne::Action::"forge.log", resource);', catalog, 'require-permit');
    const trust = context({ ...grants, cedar });
    assert.equal(allowed(trust, 'forge.log'), true);
    assert.equal(trust.evaluate(identity, 'wasi_snapshot_preview1.clock_time_get').reason, 'no Cedar policy permits it');
  });

  it('refuses policies that do not parse or do not fit the schema, listing the problems', () => {
    for (const text of ['forbid(principal, action, resource) when { nonsense', 'forbid(principal, action, resource) when { resource.colour == "red" };']) {
      assert.throws(() => CedarPolicies.load(text, catalog, 'forbid-only', 'ops.cedar'), (error: unknown) => ForgeError.is(error, 'FO_TRUST_POLICY_INVALID') && error.message.startsWith('ops.cedar: '));
    }
  });
});

describe('decision cache', () => {
  it('answers repeated calls from the cache', () => {
    const trust = context();
    for (let i = 0; i < 10; i += 1) allowed(trust, 'forge.kv_get', 'kv:a');
    assert.deepEqual(trust.stats, { hits: 9, misses: 1 });
  });

  it('is invalidated by a policy reload', () => {
    const trust = context();
    assert.equal(allowed(trust, 'forge.http_request', 'api.example.com'), true);
    const cedar = CedarPolicies.load('forbid(principal, action in ForgeOne::Action::"network", resource);', trust.catalog);
    trust.setPolicy({ ...grants, cedar });
    assert.equal(allowed(trust, 'forge.http_request', 'api.example.com'), false);
    trust.setPolicy(grants);
    assert.equal(allowed(trust, 'forge.http_request', 'api.example.com'), true);
  });

  it('never answers a repeated call for another resource or access, alternating with it', () => {
    const trust = context();
    // /docs is read-only: the same call and path is allowed to read and refused to write.
    for (let round = 0; round < 3; round += 1) {
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/a'), true);
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/a', 'write'), false);
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/a'), true);
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/etc/passwd'), false);
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/etc/passwd'), false);
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/a', 'read'), true);
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/a', 'write'), false);
      assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open'), false);
    }
    assert.deepEqual(trust.stats, { hits: 19, misses: 5 });
  });

  it('keeps each plugin its own last decision when two interleave the same call, and through an eviction of the cache', () => {
    const trust = context();
    const stranger: PluginIdentity = { ...plugin, name: 'stranger', digest: `sha256:${'2'.repeat(64)}` };
    trust.registerPlugin(stranger, { ...ceiling, syscalls: [] });
    const strangerIdentity = host.forPlugin(stranger);
    for (let round = 0; round < 3; round += 1) {
      assert.equal(allowed(trust, 'forge.kv_get', 'kv:a'), true);
      assert.equal(trust.evaluate(strangerIdentity, 'forge.kv_get', 'kv:a', {}).allowed, false, 'not the other plugin’s last decision');
      assert.equal(allowed(trust, 'forge.kv_get', 'kv:a'), true);
    }
    // More distinct resources than the cache holds: it is cleared, the last decision answered again right.
    for (let i = 0; i <= MAX_CACHED_DECISIONS; i += 1) allowed(trust, 'wasi_snapshot_preview1.path_open', `/etc/${i}`);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', `/etc/${MAX_CACHED_DECISIONS}`), false);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/a'), true);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/docs/a'), true);
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', `/etc/${MAX_CACHED_DECISIONS}`), false);
  });

  it('is invalidated when a plugin is registered again with another ceiling', () => {
    const trust = context();
    assert.equal(allowed(trust, 'forge.kv_get', 'kv:a'), true);
    trust.registerPlugin(plugin, { ...ceiling, syscalls: [] });
    assert.equal(allowed(trust, 'forge.kv_get', 'kv:a'), false);
    trust.unregisterPlugin(plugin.digest);
    assert.equal(allowed(trust, 'forge.log'), false);
  });
});

describe('matching helpers', () => {
  it('matches host patterns by name, wildcard and port', () => {
    assert.equal(matchesHostPattern('api.example.com', 'API.example.com:8443'), true);
    assert.equal(matchesHostPattern('*.example.com', 'a.b.example.com'), true);
    assert.equal(matchesHostPattern('*.example.com', 'example.com'), false);
    assert.equal(matchesHostPattern('*.example.com', 'evilexample.com'), false);
    assert.equal(matchesHostPattern('[::1]:80', '[::1]:80'), true);
    assert.equal(matchesHostPattern('[::1]:80', '[::1]:81'), false);
  });

  it('finds the innermost volume of a path', () => {
    const volumes = [
      { name: 'root', path: '/', mode: 'ro' as const },
      { name: 'data', path: '/data', mode: 'rw' as const },
    ];
    assert.equal(volumeOf(volumes, '/data/x')?.name, 'data');
    assert.equal(volumeOf(volumes, '/etc')?.name, 'root');
    assert.equal(volumeOf(volumes, '/data/../etc'), undefined);
  });
});

describe('operator policy from configuration', () => {
  it('builds grants, network access and Cedar from plugin-manager.yaml', async () => {
    const { parseConfig } = await import('@forgeone/common');
    const { operatorPolicyFromConfig } = await import('./index.js');
    const config = parseConfig(
      'plugin_manager:\n  sandbox:\n    network_access: full\n  policy:\n    cedar: ops.cedar\n    grants:\n      notes:\n        volumes:\n          data: { host: /srv/data, mode: rw }\n',
      { name: 'pm.yaml', baseDir: '/etc' },
    );
    const trust = new TrustContext(host);
    trust.setPolicy(operatorPolicyFromConfig(config, trust.catalog, 'forbid(principal, action == ForgeOne::Action::"forge.kv_set", resource);'));
    trust.registerPlugin(plugin, ceiling);
    assert.equal(allowed(trust, 'forge.http_request', 'img.cdn.example.com:443'), true, 'network_access: full');
    assert.equal(allowed(trust, 'wasi_snapshot_preview1.path_open', '/data/x', 'write'), true);
    assert.equal(allowed(trust, 'forge.kv_set', 'kv:a'), false);
    assert.throws(() => operatorPolicyFromConfig(config, trust.catalog, 'forbid(principal'), (error: unknown) => ForgeError.is(error, 'FO_TRUST_POLICY_INVALID') && error.message.startsWith('/etc/ops.cedar: '));
  });
});
