/**
 * The pool workers' CPU priority and time slice (thread-priority.ts, PoolOptions.workerNice
 * and workerSliceUs), read back from /proc for every thread of this process; a nice value
 * this process may not set is refused, in a process that lacks the privilege (run as
 * nobody, or in a user namespace, whose root the kernel does not let lower it); and the
 * fast wait's moving average (pool-dispatch.ts nextMeanUs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { nextMeanUs } from './pool-dispatch.js';
import { ISOLATION_NICE } from './pool-protocol.js';
import { DEFAULT_SLICE_US, PoolBackend, type PoolOptions } from './pool.js';
import { until } from './test-support/cpus.js';
import { CORE_GUEST } from './test-support/guests.js';
import { RecordingHost, pluginSpec } from './test-support/specs.js';
import { inCi, requireTool } from '@forgeone/common/testing';
import { niceRefusal, sliceRefusal, threadSchedBuilt } from './thread-priority.js';

const NOTHING = new Uint8Array(0);

interface ThreadInfo {
  readonly tid: string;
  readonly nice: number;
  /** se.slice, in ns. */
  readonly sliceNs: number;
}

/** Every thread of this process: its nice value (stat field 19) and time slice (sched: se.slice). */
function threads(): ThreadInfo[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const sched = readFileSync(`/proc/self/task/${tid}/sched`, 'utf8');
      return [{ tid, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]), sliceNs: Number(/^se\.slice\s*:\s*(\d+)/m.exec(sched)?.[1] ?? Number.NaN) }];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

/** Reads `threads()` until `done` holds for them (a worker sets its slice when it parks, after its spin), for up to 10 s; the last reading. */
function settled(done: (all: ThreadInfo[]) => boolean): Promise<ThreadInfo[]> {
  return until(threads, done, 10_000);
}

/** The threads a pool started: those that were not there before, once every worker is up. */
async function poolThreads(t: TestContext, options: PoolOptions, before: ReadonlySet<string>): Promise<{ backend: PoolBackend; started: () => ThreadInfo[] }> {
  const backend = new PoolBackend(new RecordingHost(), options);
  t.after(() => backend.close());
  const size = options.size ?? 1;
  // A plugin per worker, called: every worker has started and set itself up.
  for (let i = 0; i < size; i += 1) await (await backend.load(await pluginSpec(CORE_GUEST))).call('echo', NOTHING);
  return { backend, started: () => threads().filter((thread) => !before.has(thread.tid)) };
}

const tids = (): Set<string> => new Set(threads().map((thread) => thread.tid));
const linux = process.platform === 'linux';
const sliceSkip = linux ? sliceRefusal() : 'not Linux';
// CI builds the native module (npm run build): there a slice refused for want of it is a broken build, not a reason to skip.
if (linux && inCi() && !threadSchedBuilt()) throw new Error(`${sliceSkip ?? 'thread-sched.node did not load'}; CI must build it (npm run build)`);

/** True when this process is root (running as nobody needs it); under CI it must be (.ci/run runs as root), elsewhere the test is skipped with the reason. */
function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  if (inCi()) throw new Error('the test runs a process as nobody, which needs root; CI runs as root');
  t.skip('needs root to run a process as nobody');
  return false;
}

/** Runs `script` (ES module text, from a file anyone may read) with `command` before node; its last line of output. */
function runAs(command: readonly string[], script: string): { out: string; err: string } {
  const dir = mkdtempSync(join(tmpdir(), 'forge-priority-'));
  chmodSync(dir, 0o755);
  const file = join(dir, 'pool.mjs');
  writeFileSync(file, script, { mode: 0o644 });
  try {
    const run = spawnSync(command[0] as string, [...command.slice(1), process.execPath, file], { encoding: 'utf8', timeout: 60_000 });
    return { out: run.stdout.trim().split('\n').at(-1) ?? '', err: `${run.stderr}${run.error?.message ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A script that starts a pool with `options`, loads a plugin and prints the error code (or "ok"). */
function poolScript(options: PoolOptions): string {
  const url = (path: string): string => JSON.stringify(new URL(path, import.meta.url).href);
  return `
    import { PoolBackend } from ${url('./index.js')};
    import { pluginSpec, RecordingHost } from ${url('./test-support/specs.js')};
    import { CORE_GUEST } from ${url('./test-support/guests.js')};
    let backend;
    try {
      backend = new PoolBackend(new RecordingHost(), ${JSON.stringify(options)});
      await backend.load(await pluginSpec(CORE_GUEST));
      console.log('ok');
    } catch (error) {
      console.log(error.code + ' ' + error.message);
    } finally {
      await backend?.close();
    }`;
}

describe('pool worker priority', { skip: linux ? false : 'Linux only' }, () => {
  it('gives the regular workers the default time slice while they park, the isolation worker none, and other threads none', { skip: sliceSkip }, async (t) => {
    const before = tids();
    const { backend } = await poolThreads(t, { size: 2 }, before);
    const short = (all: ThreadInfo[]): ThreadInfo[] => all.filter((thread) => thread.sliceNs === DEFAULT_SLICE_US * 1000);
    // Idle, both workers park (after their spin) with the short slice.
    const idle = await settled((all) => short(all).length >= 2);
    assert.equal(short(idle).length, 2, 'both regular workers, and nothing else');
    assert.ok(
      short(idle).every((thread) => !before.has(thread.tid)),
      'no thread that was there before the pool has the slice',
    );
    assert.ok(
      threads().every((thread) => thread.nice === 0 || thread.nice === ISOLATION_NICE),
      'nice values unchanged',
    );
    // The isolation worker: a plugin that ran out of fuel is re-loaded there.
    const spinnerSpec = await pluginSpec(CORE_GUEST, { id: 'spinner', fuel: 1_000_000n });
    const spinner = await backend.load(spinnerSpec);
    await spinner.call('spin', NOTHING).catch(() => undefined);
    await spinner.unload();
    await (await backend.load(spinnerSpec)).call('spin', NOTHING).catch(() => undefined);
    const after = await settled((all) => short(all).length >= 2);
    const isolation = after.filter((thread) => thread.nice === ISOLATION_NICE && !before.has(thread.tid));
    assert.equal(isolation.length, 1, 'the isolation worker started');
    assert.notEqual(isolation[0]?.sliceNs, DEFAULT_SLICE_US * 1000, 'the isolation worker keeps the kernel’s slice');
    assert.equal(short(after).length, 2);
  });

  it('keeps the kernel’s slice while a worker spins for its next request', { skip: sliceSkip }, async (t) => {
    // A worker that spins for a long time after each call: read while it spins.
    const before = tids();
    const { backend, started } = await poolThreads(t, { size: 1, workerSpinUs: 10_000, fastWaitUs: 10_000 }, before);
    const kernel = threads().find((thread) => thread.tid === String(process.pid))?.sliceNs;
    const handle = await backend.load(await pluginSpec(CORE_GUEST));
    let spinning = false;
    // Calls back to back keep it spinning (unless the pool finds the CPU contended: then it parks, so keep trying for a while); one reading in between must show the kernel's slice.
    for (const until = Date.now() + 10_000; !spinning && Date.now() < until; ) {
      await handle.call('echo', NOTHING);
      spinning = started().some((thread) => thread.sliceNs === kernel && thread.nice === 0) && started().every((thread) => thread.sliceNs !== DEFAULT_SLICE_US * 1000);
    }
    assert.ok(spinning, 'while it spins, the worker has the kernel’s slice');
    const parked = await settled((all) => all.some((thread) => !before.has(thread.tid) && thread.sliceNs === DEFAULT_SLICE_US * 1000));
    assert.ok(
      parked.some((thread) => !before.has(thread.tid) && thread.sliceNs === DEFAULT_SLICE_US * 1000),
      'parked again, the short one',
    );
  });

  it('sets the slice workerSliceUs asks for, and none with 0', { skip: sliceSkip }, async (t) => {
    const before = tids();
    await poolThreads(t, { size: 2, workerSliceUs: 250 }, before);
    const all = await settled((threads) => threads.filter((thread) => thread.sliceNs === 250_000).length >= 2);
    assert.equal(all.filter((thread) => thread.sliceNs === 250_000 && !before.has(thread.tid)).length, 2);
    const again = tids();
    const { started: none } = await poolThreads(t, { size: 1, workerSliceUs: 0 }, again);
    const kernel = threads().find((thread) => thread.tid === String(process.pid))?.sliceNs;
    assert.ok(none().length >= 1);
    assert.ok(
      none().every((thread) => thread.sliceNs === kernel),
      'every thread of that pool keeps the kernel’s slice (the main thread’s)',
    );
  });

  it('runs the regular workers at workerNice and the isolation worker at the larger of it and ISOLATION_NICE', { skip: niceRefusal(-3) }, async (t) => {
    const before = tids();
    const { backend, started } = await poolThreads(t, { size: 2, workerNice: -3 }, before);
    assert.equal(threads().filter((thread) => thread.nice === -3).length, 2, 'the two regular workers, nothing else');
    const spinnerSpec = await pluginSpec(CORE_GUEST, { id: 'spinner', fuel: 1_000_000n });
    const spinner = await backend.load(spinnerSpec);
    await spinner.call('spin', NOTHING).catch(() => undefined);
    await spinner.unload();
    await (await backend.load(spinnerSpec)).call('spin', NOTHING).catch(() => undefined);
    assert.equal(started().filter((thread) => thread.nice === ISOLATION_NICE).length, 1, 'the isolation worker stays at ISOLATION_NICE');

    const later = tids();
    const { started: low } = await poolThreads(t, { size: 1, workerNice: 15 }, later);
    const lowLoaded = low();
    assert.ok(lowLoaded.some((thread) => thread.nice === 15), 'a higher nice value needs no privilege');
  });

  it('refuses out-of-range values with FO_SANDBOX_BAD_OPTION', () => {
    for (const options of [{ workerNice: -21 }, { workerNice: 20 }, { workerNice: 1.5 }, { workerSliceUs: 99 }, { workerSliceUs: 100_001 }, { workerSliceUs: -1 }] satisfies PoolOptions[]) {
      assert.throws(
        () => new PoolBackend(new RecordingHost(), options),
        (error: unknown) => ForgeError.is(error, 'FO_SANDBOX_BAD_OPTION') && /worker(Nice|SliceUs)/.test(error.message),
        JSON.stringify(options),
      );
    }
  });

  it('refuses a nice value below its own in a process that may not lower it (nobody): FO_SANDBOX_BAD_OPTION, before any worker starts', (t) => {
    if (!requireRoot(t) || !requireTool(t, 'setpriv', ['--version'])) return;
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const refused = runAs(nobody, poolScript({ size: 1, workerNice: -5 }));
    assert.match(refused.out, /^FO_SANDBOX_BAD_OPTION .*workerNice: -5 is not permitted: .*CAP_SYS_NICE/, refused.err);
    // The same process may raise it, and set the slice (no privilege needed for either).
    const allowed = runAs(nobody, poolScript({ size: 1, workerNice: 5, ...(sliceSkip === undefined ? { workerSliceUs: 200 } : {}) }));
    assert.equal(allowed.out, 'ok', allowed.err);
  });

  it('fails the worker visibly where /proc shows the capability but the kernel refuses it (a user namespace): FO_SANDBOX_WORKER_FAILED', (t) => {
    // The probe: unshare (util-linux) running a command in a new user namespace; skipped without it, a failure under CI.
    if (!requireTool(t, 'unshare', ['-U', '-r', 'true'])) return;
    const run = runAs(['unshare', '-U', '-r'], poolScript({ size: 1, workerNice: -5 }));
    assert.match(run.out, /^FO_SANDBOX_WORKER_FAILED .*EACCES/, run.err);
  });
});

describe('the fast wait’s moving average', () => {
  it('counts a descheduled job as twice the fast wait at most, and leaves the fast wait after four long calls', () => {
    let mean = nextMeanUs(0, 2, 50);
    assert.equal(mean, 2);
    mean = nextMeanUs(mean, 5_000, 50);
    assert.ok(mean < 50, `one 5 ms job keeps the next call on the fast wait (mean ${mean})`);
    for (let i = 0; i < 5; i += 1) mean = nextMeanUs(mean, 2, 50);
    assert.ok(mean < 10, 'and is soon forgotten');
    let slow = nextMeanUs(0, 2, 50);
    const left: boolean[] = [];
    for (let i = 0; i < 5; i += 1) {
      slow = nextMeanUs(slow, 400, 50);
      left.push(slow >= 50);
    }
    assert.deepEqual(left, [false, false, false, true, true], 'a plugin whose calls became long leaves it after the fourth');
    assert.equal(nextMeanUs(0, 30, 0), 0, 'no fast wait: nothing counts');
  });
});
