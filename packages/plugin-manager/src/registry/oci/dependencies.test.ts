/**
 * forge install REF with dependencies from the same registry (docker-registry 2.8):
 * the newest tag in range of the sibling repository, dependencies installed first, and
 * nothing left installed when any step fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { makeSigned, openStore } from '../store/test-support/fixtures.js';
import { OciClient } from './client.js';
import { planFromRegistry } from './dependencies.js';
import { installPlan } from './plan.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { requireRegistry, startRegistryIfPossible, type TestRegistry } from './test-support/registry.js';

/** A package whose plugin.toml has a [dependencies] table. */
function withDependencies(name: string, version: string, dependencies: Record<string, string>, signed = true): Promise<Buffer> {
  const table = Object.entries(dependencies).map(([dependency, range]) => `${dependency} = "${range}"`).join('\n');
  return makeSigned({ name, version, permissions: `filesystem = ["read"]\n\n[dependencies]\n${table}`, ...(signed ? {} : { signer: null }) });
}

describe('install REF with dependencies from the registry', () => {
  let registry: TestRegistry | undefined;
  let client: OciClient;
  const ref = (text: string) => parseReference(`${registry?.host ?? ''}/acme/${text}`);
  before(async () => {
    registry = await startRegistryIfPossible();
    if (registry === undefined) return;
    client = new OciClient({ registry: registry.host });
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) await pushPackage(client, ref(`greeter:${version}`), await makeSigned({ name: 'greeter', version }));
    await pushPackage(client, ref('greeter:not-semver'), await makeSigned({ name: 'greeter', version: '1.9.0' }));
    await pushPackage(client, ref('app:1.0.0'), await withDependencies('app', '1.0.0', { greeter: '^1.0.0' }));
  });
  after(() => registry?.stop());

  test('installs the newest dependency in range first, then the plugin', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const store = await openStore();
    const plan = await planFromRegistry(client, ref('app:1.0.0'), store);
    assert.deepEqual(plan.map((plugin) => `${plugin.name} ${plugin.version}`), ['greeter 1.1.0', 'app 1.0.0']);
    const done = await installPlan(store, plan);
    assert.deepEqual(done.map((result) => result.action), ['installed', 'installed']);
    assert.deepEqual((await store.list()).map((plugin) => `${plugin.name} ${plugin.version}`).sort(), ['app 1.0.0', 'greeter 1.1.0']);
  });

  test('a dependency already installed in range is used, one out of range is FO_DEPS_CONFLICT', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const store = await openStore();
    await store.install(await makeSigned({ name: 'greeter', version: '1.0.0' }));
    assert.deepEqual((await planFromRegistry(client, ref('app:1.0.0'), store)).map((plugin) => plugin.name), ['app']);
    const other = await openStore();
    await other.install(await makeSigned({ name: 'greeter', version: '2.0.0' }));
    await rejectsWithCode(planFromRegistry(client, ref('app:1.0.0'), other), 'FO_DEPS_CONFLICT');
  });

  test('a dependency the registry lacks in range is FO_DEPS_MISSING, and nothing is installed', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    await pushPackage(client, ref('needy:1.0.0'), await withDependencies('needy', '1.0.0', { greeter: '^3.0.0', absent: '^1.0.0' }));
    const store = await openStore();
    const error = await rejectsWithCode(planFromRegistry(client, ref('needy:1.0.0'), store), 'FO_DEPS_MISSING');
    assert.match(error.message, /absent \^1\.0\.0/);
    assert.deepEqual(await store.list(), []);
  });

  test('a tag whose package is another plugin or version is FO_OCI_PROTOCOL', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    await pushPackage(client, ref('helper:1.2.0'), await makeSigned({ name: 'helper', version: '1.0.0' }));
    await pushPackage(client, ref('liar-app:1.0.0'), await withDependencies('liar-app', '1.0.0', { helper: '^1.1.0' }));
    await rejectsWithCode(planFromRegistry(client, ref('liar-app:1.0.0'), await openStore()), 'FO_OCI_PROTOCOL');
  });

  test('when the plugin itself is refused by the store, the dependencies installed for it are removed again', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    await pushPackage(client, ref('unsigned-app:1.0.0'), await withDependencies('unsigned-app', '1.0.0', { greeter: '^1.0.0' }, false));
    const store = await openStore();
    const plan = await planFromRegistry(client, ref('unsigned-app:1.0.0'), store, { requireSignatures: false });
    assert.deepEqual(plan.map((plugin) => plugin.name), ['greeter', 'unsigned-app']);
    await rejectsWithCode(installPlan(store, plan), 'FO_VERIFY_UNSIGNED');
    assert.deepEqual(await store.list(), []);
  });
});
