/**
 * Offline install with dependencies from an image layout: a plugin and its dependencies
 * mirrored from a registry (as forge pull --to does), the registry then stopped, and
 * the plan read from the disk alone; the annotations that choose a dependency are
 * checked against the package, and a failed install removes what it added.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { rejectsWithCode } from '@forgeone/common/testing';
import { makeSigned, openStore } from '../store/test-support/fixtures.js';
import { OciClient } from './client.js';
import { planFromRegistry } from './dependencies.js';
import { PLUGIN_NAME_ANNOTATION, PLUGIN_VERSION_ANNOTATION, REF_NAME_ANNOTATION, writeLayout } from './layout.js';
import { planFromLayout } from './layout-plan.js';
import type { Descriptor } from './manifest.js';
import { installPlan, installedIn, type PlannedPlugin } from './plan.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { requireRegistry, startRegistryIfPossible, type TestRegistry } from './test-support/registry.js';

/** A package whose plugin.toml has a [dependencies] table. */
function withDependencies(name: string, version: string, dependencies: Record<string, string>, signed = true): Promise<Buffer> {
  const table = Object.entries(dependencies).map(([dependency, range]) => `${dependency} = "${range}"`).join('\n');
  return makeSigned({ name, version, permissions: `filesystem = ["read"]\n\n[dependencies]\n${table}`, ...(signed ? {} : { signer: null }) });
}

/** Writes `plan` into a new layout as forge pull --to does: each plugin under NAME:VERSION, the root also under `tag`. */
async function mirror(plan: readonly PlannedPlugin[], tag: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'forge-layout-plan-')), 'mirror');
  const listed = plan.map((planned) => ({ artifact: planned.artifact, refName: `${planned.name}:${planned.version}`, plugin: { name: planned.name, version: planned.version } }));
  await writeLayout(dir, [...listed, { ...(listed[listed.length - 1] as (typeof listed)[number]), refName: tag }]);
  return dir;
}

const nothingInstalled = (): Promise<undefined> => Promise.resolve(undefined);
const names = (plan: readonly PlannedPlugin[]): string[] => plan.map((planned) => `${planned.name} ${planned.version}`);

describe('install oci:DIR:TAG with dependencies from the layout, offline', () => {
  let registry: TestRegistry | undefined;
  let stopped = false;
  const plans = new Map<string, PlannedPlugin[]>();
  before(async () => {
    registry = await startRegistryIfPossible();
    if (registry === undefined) return;
    const client = new OciClient({ registry: registry.host });
    const ref = (text: string) => parseReference(`${registry?.host ?? ''}/acme/${text}`);
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) await pushPackage(client, ref(`greeter:${version}`), await makeSigned({ name: 'greeter', version }));
    await pushPackage(client, ref('words:1.0.0'), await makeSigned({ name: 'words', version: '1.0.0' }));
    await pushPackage(client, ref('helper:1.0.0'), await makeSigned({ name: 'helper', version: '1.0.0' }));
    await pushPackage(client, ref('app:1.0.0'), await withDependencies('app', '1.0.0', { greeter: '^1.0.0', words: '1.x' }));
    await pushPackage(client, ref('unsigned-app:1.0.0'), await withDependencies('unsigned-app', '1.0.0', { greeter: '^1.0.0' }, false));
    plans.set('app', await planFromRegistry(client, ref('app:1.0.0'), nothingInstalled));
    plans.set('unsigned-app', await planFromRegistry(client, ref('unsigned-app:1.0.0'), nothingInstalled, { requireSignatures: false }));
    plans.set('helper', await planFromRegistry(client, ref('helper:1.0.0'), nothingInstalled));
    // What follows reads the disk only.
    await registry.stop();
    stopped = true;
  });
  after(() => (stopped ? undefined : registry?.stop()));

  test('installs the dependencies the store lacks from the layout first, then the plugin; an installed one in range is used', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const dir = await mirror(plans.get('app') ?? [], '1.0.0');
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const listed = index.manifests.filter((entry) => entry.annotations?.[PLUGIN_NAME_ANNOTATION] !== undefined).map((entry) => entry.annotations?.[REF_NAME_ANNOTATION]);
    assert.deepEqual(listed.sort(), ['1.0.0', 'app:1.0.0', 'greeter:1.1.0', 'words:1.0.0']);

    const store = await openStore();
    const plan = await planFromLayout(dir, '1.0.0', installedIn(store));
    assert.deepEqual(names(plan), ['greeter 1.1.0', 'words 1.0.0', 'app 1.0.0']);
    assert.deepEqual((await installPlan(store, plan)).map((result) => result.action), ['installed', 'installed', 'installed']);
    assert.deepEqual((await store.list()).map((plugin) => `${plugin.name} ${plugin.version}`).sort(), ['app 1.0.0', 'greeter 1.1.0', 'words 1.0.0']);

    const other = await openStore();
    await other.install(await makeSigned({ name: 'greeter', version: '1.0.0' }));
    assert.deepEqual(names(await planFromLayout(dir, '1.0.0', installedIn(other))), ['words 1.0.0', 'app 1.0.0']);
    const conflicting = await openStore();
    await conflicting.install(await makeSigned({ name: 'greeter', version: '2.0.0' }));
    await rejectsWithCode(planFromLayout(dir, '1.0.0', installedIn(conflicting)), 'FO_DEPS_CONFLICT');
  });

  test('a dependency the layout lacks is FO_DEPS_MISSING naming the layout', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const plan = plans.get('app') ?? [];
    // Only the plugin, as forge pull --to wrote a layout before it mirrored dependencies.
    const dir = await mirror(plan.slice(-1), '1.0.0');
    const error = await rejectsWithCode(planFromLayout(dir, '1.0.0', nothingInstalled), 'FO_DEPS_MISSING');
    assert.match(error.message, /app 1\.0\.0 needs greeter \^1\.0\.0; image layout .* has no version in that range/);
  });

  test('annotations that name another plugin or version than the package is, or two manifests as one version, are refused', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const dir = await mirror(plans.get('app') ?? [], '1.0.0');
    const indexPath = join(dir, 'index.json');
    const original = await readFile(indexPath, 'utf8');
    const helper = (plans.get('helper') ?? [])[0] as PlannedPlugin;
    await writeLayout(dir, [{ artifact: helper.artifact, refName: 'helper:1.0.0', plugin: { name: 'helper', version: '1.0.0' } }]);
    const withHelper = JSON.parse(await readFile(indexPath, 'utf8')) as { manifests: Descriptor[] };
    const retag = (text: string) => JSON.stringify({
      ...withHelper,
      manifests: withHelper.manifests.map((entry) =>
        entry.annotations?.[PLUGIN_NAME_ANNOTATION] === 'helper' ? { ...entry, annotations: { ...entry.annotations, [PLUGIN_NAME_ANNOTATION]: 'words', [PLUGIN_VERSION_ANNOTATION]: text } } : entry,
      ),
    });
    // helper's package listed as words 1.9.0: chosen by the annotations, refused by what the package says it is.
    await writeFile(indexPath, retag('1.9.0'));
    const liar = await rejectsWithCode(planFromLayout(dir, '1.0.0', nothingInstalled), 'FO_OCI_PROTOCOL');
    assert.match(liar.message, /expected plugin words 1\.9\.0, the package is helper 1\.0\.0/);
    // helper's package listed as words 1.0.0 beside the real one: which one is meant is unknowable.
    await writeFile(indexPath, retag('1.0.0'));
    const twice = await rejectsWithCode(planFromLayout(dir, '1.0.0', nothingInstalled), 'FO_OCI_PROTOCOL');
    assert.match(twice.message, /2 different manifests are listed as words 1\.0\.0/);
    await writeFile(indexPath, original);
    assert.equal((await planFromLayout(dir, 'app:1.0.0', nothingInstalled)).length, 3);
  });

  test('when the plugin is refused, its dependencies are removed again; one that cannot be is named', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const dir = await mirror(plans.get('unsigned-app') ?? [], 'latest');
    const store = await openStore();
    const plan = await planFromLayout(dir, 'latest', installedIn(store), { requireSignatures: false });
    assert.deepEqual(names(plan), ['greeter 1.1.0', 'unsigned-app 1.0.0']);
    await rejectsWithCode(installPlan(store, plan), 'FO_VERIFY_UNSIGNED');
    assert.deepEqual(await store.list(), []);

    const stuck = new Proxy(store, {
      get(target, key) {
        if (key === 'uninstall') return () => Promise.reject(new ForgeError('FO_STORE_LOCKED', 'the store is locked by another process'));
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const error = await rejectsWithCode(installPlan(stuck, plan), 'FO_VERIFY_UNSIGNED');
    assert.match(error.message, /undoing the install left greeter \(the store is locked by another process\) installed/);
    assert.deepEqual(error.details['notRemoved'], [{ name: 'greeter', error: 'the store is locked by another process' }]);
    assert.deepEqual((await store.list()).map((plugin) => plugin.name), ['greeter']);
  });
});
