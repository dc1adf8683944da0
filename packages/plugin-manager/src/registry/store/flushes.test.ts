/**
 * What a change flushes, and when (docs/store.md, "What each flush is for"): every file
 * and every directory with entries that the commit rename makes reachable, and the
 * scratch directory holding them and its entry in staging/, are on disk before that
 * rename, each flushed once; the rename's two parent directories right after it; nothing
 * else (not the lock). A power cut cannot be tested, so this is what the guarantee after
 * one rests on. Linux only: a flush is traced to its path through /proc/self/fd.
 */
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, open, readdir, realpath, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { inCi } from '@forgeone/common/testing';
import type { StoreOperation, StoreStep } from './steps.js';
import { LEFT_DATA } from './test-support/crash-world.js';
import { makeSigned, openStore, tempDir } from './test-support/fixtures.js';

/** A flush (completed) or a store step, in the order they happened. */
type Event = { readonly flushed: string } | { readonly step: string };

const events: Event[] = [];
let restore: (() => void) | undefined;

/** Records every FileHandle.sync of this process, by the path its descriptor has. */
async function traceFlushes(): Promise<void> {
  const probe = await open(await tempDir('forge-flush-probe-'), 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const original = proto.sync;
  proto.sync = async function (this: FileHandle): Promise<void> {
    const path = readlinkSync(`/proc/self/fd/${this.fd}`);
    await original.call(this);
    events.push({ flushed: path });
  };
  restore = () => {
    proto.sync = original;
  };
}

function supported(t: TestContext): boolean {
  if (process.platform === 'linux' && existsSync('/proc/self/fd')) return true;
  if (inCi()) throw new Error('CI runs on Linux, where /proc/self/fd shows which path a flush was for');
  t.skip('needs Linux /proc/self/fd to see which path a flush was for');
  return false;
}

/** Files and directories with entries under `dir`, relative to `root`: what a commit makes reachable. */
async function reachable(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  if (entries.length > 0) found.push(relative(root, dir));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await reachable(root, path)));
    else found.push(relative(root, path));
  }
  return found;
}

/** The flushes that completed before one step (and after the step before it). */
type Segment = readonly [step: string, flushed: readonly string[]];

/**
 * The flushes between consecutive steps, the paths relative to the store root:
 * `staging/<txn>/<staged>` reads as `into` (where the rename puts it), the transaction
 * directory as `TXN`, a temporary state file as `<dir>/.state.json.tmp`. Flushes after
 * the last step come under `(end)`.
 */
function segments(root: string, staged: string, into: string): Segment[] {
  const staging = join(root, '.store', 'staging');
  const name = (path: string): string => {
    if (path.startsWith(staging + '/')) {
      const [txn, first, ...rest] = relative(staging, path).split('/');
      if (txn === undefined || first === undefined) return 'TXN';
      assert.equal(first, staged, `a flush in staging is of the tree being built: ${path}`);
      return [into, ...rest].join('/');
    }
    return relative(root, path).replace(/\.state\.json\.tmp-.*$/, '.state.json.tmp') || '.';
  };
  const out: Segment[] = [];
  let current: string[] = [];
  for (const event of events) {
    if ('step' in event) {
      out.push([event.step, current]);
      current = [];
    } else current.push(name(event.flushed));
  }
  out.push(['(end)', current]);
  return out;
}

/** The flushes before the first step `step` (and after the one before it). */
function at(all: readonly Segment[], step: string): readonly string[] {
  const found = all.find(([name]) => name === step);
  assert.ok(found !== undefined, `step ${step} among ${all.map(([name]) => name).join(', ')}`);
  return found[1];
}

/** Every flush after the first step `from` (from the start when undefined) up to the first step `to`. */
function between(all: readonly Segment[], from: string | undefined, to: string): string[] {
  const steps = all.map(([name]) => name);
  const start = from === undefined ? -1 : steps.indexOf(from);
  const end = steps.indexOf(to);
  assert.ok((from === undefined || start !== -1) && end > start, `steps ${from} then ${to} among ${steps.join(', ')}`);
  return all.slice(start + 1, end + 1).flatMap(([, flushed]) => flushed);
}

const sorted = (paths: readonly string[]): string[] => [...paths].sort();

/** The scratch directory of the change and staging/, flushed with the tree so that recovery finds what a power cut left of it. */
const STAGING = ['TXN', '.store/staging'];

function onStep(operation: StoreOperation, step: StoreStep): void {
  if (operation === 'install') events.push({ step });
}

describe('PluginStore flushes', () => {
  before(async () => {
    if (process.platform === 'linux' && existsSync('/proc/self/fd')) await traceFlushes();
  });
  after(() => restore?.());

  it('flushes a first install\'s whole new tree and the staging directories holding it once before its rename, the two parents after, and nothing else', async (t) => {
    if (!supported(t)) return;
    const store = await openStore({ onStep });
    const root = await realpath(store.directory);
    events.length = 0;
    await store.install(await makeSigned({ assets: { 'a/b/deep.txt': 'deep', 'top.txt': 'top' } }));
    const all = segments(root, 'hello', 'hello');
    assert.deepEqual(between(all, undefined, 'staging'), [], 'no flush for the lock or the recovery, nor for the scratch directory on its own');
    const flushed = between(all, 'staging', 'staged');
    assert.deepEqual(sorted(flushed), sorted([...(await reachable(root, join(root, 'hello'))), ...STAGING]), 'every file and directory with entries, each once');
    assert.deepEqual(sorted(at(all, 'committed')), sorted(['.', 'TXN']), 'after the rename: its destination and its source');
    assert.deepEqual(at(all, '(end)'), []);
    t.diagnostic(`a first install flushes ${events.filter((event) => 'flushed' in event).length} times`);
  });

  it('flushes an upgrade\'s version before its rename, versions/ and the scratch directory after, then the state file and its directory, then the trash', async (t) => {
    if (!supported(t)) return;
    const store = await openStore({ onStep });
    for (const version of ['1.0.0', '2.0.0']) await store.install(await makeSigned({ version }));
    const root = await realpath(store.directory);
    events.length = 0;
    await store.install(await makeSigned({ version: '3.0.0' }));
    const all = segments(root, 'version', 'hello/versions/3.0.0');
    assert.deepEqual(between(all, undefined, 'staging'), []);
    assert.deepEqual(sorted(between(all, 'staging', 'staged')), sorted([...(await reachable(root, join(root, 'hello', 'versions', '3.0.0'))), ...STAGING]));
    assert.deepEqual(sorted(at(all, 'committed')), sorted(['hello/versions', 'TXN']));
    assert.deepEqual(at(all, 'state-written'), ['hello/.state.json.tmp'], 'the new state.json before its rename');
    assert.deepEqual(at(all, 'switched'), ['hello'], 'and its directory after');
    assert.deepEqual(sorted(at(all, 'trashed')), sorted(['.store/trash', 'hello/versions']), 'the oldest version moved out');
    assert.deepEqual(at(all, '(end)'), []);
  });

  it('flushes an install over left data: versions/ before its rename, the plugin directory after, then state.json and the plugin directory again', async (t) => {
    if (!supported(t)) return;
    const store = await openStore({ onStep });
    await mkdir(dirname(join(store.directory, LEFT_DATA)), { recursive: true, mode: 0o700 });
    await writeFile(join(store.directory, LEFT_DATA), 'kept');
    const root = await realpath(store.directory);
    events.length = 0;
    await store.install(await makeSigned());
    const all = segments(root, 'versions', 'hello/versions');
    assert.deepEqual(between(all, undefined, 'staging'), []);
    assert.deepEqual(sorted(between(all, 'staging', 'staged')), sorted([...(await reachable(root, join(root, 'hello', 'versions'))), ...STAGING]));
    assert.deepEqual(sorted(at(all, 'committed')), sorted(['hello', 'TXN']), 'versions/ is on disk in place before state.json names it');
    assert.deepEqual(at(all, 'state-written'), ['hello/.state.json.tmp']);
    assert.deepEqual(at(all, 'switched'), ['hello']);
    assert.deepEqual(at(all, '(end)'), []);
  });
});
