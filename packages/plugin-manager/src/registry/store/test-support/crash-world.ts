/**
 * The scenarios and checks the store crash tests share (crash.test.ts kills a change at
 * every named step, crash-random.test.ts at seeded random moments): packages written
 * once, a fresh store per run set up with the scenario's installed versions, and the
 * check that a store reopened after a kill is exactly at the old or the new state.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { publisherKey } from '../data.js';
import type { PluginStore } from '../store.js';
import { NOW, makeSigned, openStore, tempDir, writeTrustDir } from './fixtures.js';
import type { ChildJob } from './store-child.js';

/** Which versions are current and previous; null: not installed. */
export type Expected = { readonly current: string; readonly previous: string | undefined } | null;

export interface Scenario {
  readonly operation: ChildJob['operation'];
  /** Versions installed, in order, before the change. */
  readonly installed: readonly string[];
  /** The version the change installs (install only). */
  readonly installs?: string;
  readonly before: Expected;
  readonly after: Expected;
  /** The first step at which the change has taken effect. */
  readonly commitStep: string;
  /** Before the change, a plugin loaded before its install left data under `hello/data/`. */
  readonly leftData?: boolean;
}

/** The data a plugin loaded before its install leaves: `hello/data/<key>/note`. */
export const LEFT_DATA = join('hello', 'data', publisherKey({ publisher: 'Store Publisher', attested: true }), 'note');

const ASSETS = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`part-${i}.bin`, Buffer.alloc(4096, i)]));

export const SCENARIOS: Record<string, Scenario> = {
  'a first install': { operation: 'install', installed: [], installs: '1.0.0', before: null, after: { current: '1.0.0', previous: undefined }, commitStep: 'install:committed' },
  'an upgrade that drops the oldest version': {
    operation: 'install',
    installed: ['1.0.0', '2.0.0'],
    installs: '3.0.0',
    before: { current: '2.0.0', previous: '1.0.0' },
    after: { current: '3.0.0', previous: '2.0.0' },
    commitStep: 'install:switched',
  },
  'an install over the data of a plugin loaded before': {
    operation: 'install',
    installed: [],
    installs: '1.0.0',
    before: null,
    after: { current: '1.0.0', previous: undefined },
    commitStep: 'install:switched',
    leftData: true,
  },
  'an uninstall': { operation: 'uninstall', installed: ['1.0.0', '2.0.0'], before: { current: '2.0.0', previous: '1.0.0' }, after: null, commitStep: 'uninstall:trashed' },
  'a rollback': {
    operation: 'rollback',
    installed: ['1.0.0', '2.0.0'],
    before: { current: '2.0.0', previous: '1.0.0' },
    after: { current: '1.0.0', previous: '2.0.0' },
    commitStep: 'rollback:switched',
  },
};

export interface World {
  readonly directory: string;
  readonly trust: string;
  readonly packages: Map<string, string>;
}

/** Packages for every version, written once, and a trust directory for the children. */
export async function world(): Promise<World> {
  const dir = await tempDir('forge-crash-');
  const packages = new Map<string, string>();
  for (const version of ['1.0.0', '2.0.0', '3.0.0']) {
    const file = join(dir, `hello-${version}.forgepkg`);
    await writeFile(file, await makeSigned({ version, assets: ASSETS }));
    packages.set(version, file);
  }
  return { directory: join(dir, 'plugins'), trust: await writeTrustDir(dir), packages };
}

let counter = 0;

/** A fresh store directory set up with the scenario's installed versions. */
export async function prepare(base: World, scenario: Scenario): Promise<World> {
  counter += 1;
  const directory = `${base.directory}-${counter}`;
  const store = await openStore({ directory });
  for (const version of scenario.installed) await store.install(base.packages.get(version)!);
  if (scenario.leftData === true) {
    await mkdir(dirname(join(directory, LEFT_DATA)), { recursive: true, mode: 0o700 });
    await writeFile(join(directory, LEFT_DATA), 'kept');
  }
  return { ...base, directory };
}

export function jobFor(w: World, scenario: Scenario, extra: Partial<ChildJob> = {}): ChildJob {
  const target = scenario.operation === 'install' ? w.packages.get(scenario.installs!)! : 'hello';
  return { directory: w.directory, trust: w.trust, now: NOW, operation: scenario.operation, target, ...extra };
}

/** Every step the change goes through, as `operation:step:count`, from an uninterrupted run. */
export async function stepsOf(base: World, scenario: Scenario): Promise<string[]> {
  const w = await prepare(base, scenario);
  const steps: string[] = [];
  const counts = new Map<string, number>();
  const store = await openStore({
    directory: w.directory,
    onStep: (operation, step) => {
      const key = `${operation}:${step}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      steps.push(`${key}:${counts.get(key) ?? 1}`);
    },
  });
  if (scenario.operation === 'install') await store.install(w.packages.get(scenario.installs!)!);
  else if (scenario.operation === 'uninstall') await store.uninstall('hello');
  else await store.rollback('hello');
  return steps;
}

/** Opens the store again and checks it is exactly at `expected`, intact and clean. */
export async function assertConsistent(directory: string, expected: Expected, label: string, leftData = false): Promise<PluginStore> {
  const store = await openStore({ directory });
  const plugin = await store.find('hello');
  if (leftData) assert.equal(await readFile(join(directory, LEFT_DATA), 'utf8'), 'kept', `${label}: the data is kept`);
  if (expected === null && leftData) {
    assert.equal(plugin, undefined, `${label}: not installed`);
    assert.deepEqual(await readdir(join(directory, 'hello')), ['data'], `${label}: nothing but the data`);
  } else if (expected === null) {
    assert.equal(plugin, undefined, `${label}: not installed`);
    assert.deepEqual(await readdir(directory), ['.store'], `${label}: nothing under the plugin directory`);
  } else {
    assert.ok(plugin !== undefined, `${label}: installed`);
    assert.equal(plugin.version, expected.current, `${label}: current version`);
    assert.equal(plugin.previous?.version, expected.previous, `${label}: previous version`);
    await store.verify('hello');
    const kept = [expected.current, ...(expected.previous === undefined ? [] : [expected.previous])].sort();
    assert.deepEqual((await readdir(join(directory, 'hello', 'versions'))).sort(), kept, `${label}: only current and previous are kept`);
    assert.deepEqual((await readdir(join(directory, 'hello'))).sort(), ['data', 'state.json', 'versions'], `${label}: no temporary files`);
  }
  assert.deepEqual(await readdir(join(directory, '.store', 'staging')), [], `${label}: staging is empty`);
  assert.deepEqual(await readdir(join(directory, '.store', 'trash')), [], `${label}: trash is empty`);
  assert.deepEqual((await readdir(join(directory, '.store'))).sort(), ['format.json', 'staging', 'trash'], `${label}: the dead lock was broken`);
  return store;
}

/** After a crash the store still works: the same change, run again, completes. */
export async function assertUsable(store: PluginStore, w: World, scenario: Scenario, label: string): Promise<void> {
  if (scenario.operation === 'install') {
    const result = await store.install(w.packages.get(scenario.installs!)!);
    assert.equal(result.plugin.version, scenario.installs, `${label}: install again`);
  } else if (scenario.operation === 'uninstall') {
    if ((await store.find('hello')) !== undefined) await store.uninstall('hello');
    assert.equal(await store.find('hello'), undefined, `${label}: uninstall again`);
  }
}
