/**
 * Killing a process in the middle of a store change, at every named step and at
 * random moments, then opening the store again: the plugin is always at the old
 * state or the new one, its files verify against the package digests, nothing is
 * left behind, and the store keeps working.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { publisherKey } from './data.js';
import type { PluginStore } from './store.js';
import { LiveChild, runChild } from './test-support/children.js';
import { NOW, makeSigned, openStore, tempDir, writeTrustDir } from './test-support/fixtures.js';
import type { ChildJob } from './test-support/store-child.js';

/** Which versions are current and previous; null: not installed. */
type Expected = { readonly current: string; readonly previous: string | undefined } | null;

interface Scenario {
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
const LEFT_DATA = join('hello', 'data', publisherKey({ publisher: 'Store Publisher', attested: true }), 'note');

const ASSETS = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`part-${i}.bin`, Buffer.alloc(4096, i)]));

const SCENARIOS: Record<string, Scenario> = {
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

interface World {
  readonly directory: string;
  readonly trust: string;
  readonly packages: Map<string, string>;
}

/** Packages for every version, written once, and a trust directory for the children. */
async function world(): Promise<World> {
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
async function prepare(base: World, scenario: Scenario): Promise<World> {
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

function jobFor(w: World, scenario: Scenario, extra: Partial<ChildJob> = {}): ChildJob {
  const target = scenario.operation === 'install' ? w.packages.get(scenario.installs!)! : 'hello';
  return { directory: w.directory, trust: w.trust, now: NOW, operation: scenario.operation, target, ...extra };
}

/** Every step the change goes through, as `operation:step:count`, from an uninterrupted run. */
async function stepsOf(base: World, scenario: Scenario): Promise<string[]> {
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
async function assertConsistent(directory: string, expected: Expected, label: string, leftData = false): Promise<PluginStore> {
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
async function assertUsable(store: PluginStore, w: World, scenario: Scenario, label: string): Promise<void> {
  if (scenario.operation === 'install') {
    const result = await store.install(w.packages.get(scenario.installs!)!);
    assert.equal(result.plugin.version, scenario.installs, `${label}: install again`);
  } else if (scenario.operation === 'uninstall') {
    if ((await store.find('hello')) !== undefined) await store.uninstall('hello');
    assert.equal(await store.find('hello'), undefined, `${label}: uninstall again`);
  }
}

describe('store changes killed at every step', () => {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`leaves the old or the new state when ${name} is killed at any step`, async (t: TestContext) => {
      const base = await world();
      const steps = await stepsOf(base, scenario);
      assert.ok(steps.includes(`${scenario.commitStep}:1`), `the commit step ${scenario.commitStep} is among ${steps.join(', ')}`);
      const commitAt = steps.indexOf(`${scenario.commitStep}:1`);
      for (const [index, step] of steps.entries()) {
        const w = await prepare(base, scenario);
        const end = runChild(jobFor(w, scenario, { crashAt: step }));
        assert.equal(end.signal, 'SIGKILL', `the child reached ${step} and died there (${end.stderr}${JSON.stringify(end.outcome)})`);
        const expected = index < commitAt ? scenario.before : scenario.after;
        const store = await assertConsistent(w.directory, expected, `killed at ${step}`, scenario.leftData);
        await assertUsable(store, w, scenario, `killed at ${step}`);
      }
      t.diagnostic(`${name}: killed at ${steps.length} steps: ${steps.join(' ')}`);
    });
  }
});

describe('store changes killed at random moments', () => {
  it('leaves the old or the new version when an upgrade is killed at a random time', async (t: TestContext) => {
    const base = await world();
    const scenario = SCENARIOS['an upgrade that drops the oldest version']!;
    // Calibrate: how long an uninterrupted upgrade takes after the child is ready.
    const calibration = await prepare(base, scenario);
    const probe = new LiveChild(jobFor(calibration, scenario));
    await probe.line('ready');
    const started = performance.now();
    const done = await probe.ended;
    const window = Math.max(5, performance.now() - started);
    assert.deepEqual(done.outcome, { ok: true, version: '3.0.0' });
    const tally = { before: 0, after: 0 };
    const runs = 24;
    for (let run = 0; run < runs; run += 1) {
      const w = await prepare(base, scenario);
      const child = new LiveChild(jobFor(w, scenario));
      await child.line('ready');
      const delay = randomInt(0, Math.ceil(window * 1.2) + 1);
      await new Promise((resolve) => setTimeout(resolve, delay));
      const end = await child.kill();
      const store = await openStore({ directory: w.directory });
      const version = (await store.get('hello')).version;
      const expected = version === '3.0.0' ? scenario.after : scenario.before;
      assert.ok(version === '2.0.0' || version === '3.0.0', `run ${run}: version ${version}`);
      await assertConsistent(w.directory, expected, `run ${run} killed after ${delay} ms (${end.signal ?? 'finished'})`);
      tally[version === '3.0.0' ? 'after' : 'before'] += 1;
    }
    t.diagnostic(`upgrade takes ~${window.toFixed(1)} ms; ${runs} random kills: ${tally.before} left 2.0.0, ${tally.after} left 3.0.0`);
  });
});
