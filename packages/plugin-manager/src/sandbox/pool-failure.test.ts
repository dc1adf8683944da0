import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { codeOf } from '@forgeone/common/testing';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { ISOLATION_NICE } from './pool-protocol.js';
import { PoolBackend, type PoolOptions } from './pool.js';
import type { PluginHandle } from './spec.js';
import { CORE_GUEST, RELAY_GUEST, TRAPPING_FREE_GUEST, WASI_GUEST, WEATHER_CALL, readI32, u32 } from './test-support/guests.js';
import { events } from './test-support/outcomes.js';
import { RecordingHost, pluginSpec } from './test-support/specs.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NOTHING = new Uint8Array(0);

function pool(t: TestContext, options: PoolOptions): { backend: PoolBackend; host: RecordingHost } {
  const host = new RecordingHost();
  const backend = new PoolBackend(host, options);
  t.after(() => backend.close());
  return { backend, host };
}

describe('the pool backend', () => {
  it('refuses bad options with FO_SANDBOX_BAD_OPTION, listing every problem', () => {
    assert.throws(
      () => new PoolBackend(new RecordingHost(), { size: 0, slotBytes: 12, fastWaitUs: -1, busyCallMs: 0 }),
      (error: unknown) => ForgeError.is(error, 'FO_SANDBOX_BAD_OPTION') && (error.details['problems'] as string[]).length === 4,
    );
  });

  it('spreads plugins over the workers, the fewest plugins first', async (t) => {
    const { backend } = pool(t, { size: 2 });
    const handles: PluginHandle[] = [];
    for (let i = 0; i < 4; i += 1) handles.push(await backend.load(await pluginSpec(CORE_GUEST)));
    assert.deepEqual(
      handles.map((handle) => backend.workerOf(handle)),
      [0, 1, 0, 1],
    );
    assert.deepEqual(
      backend.workers().map((worker) => worker.plugins),
      [2, 2],
    );
  });

  it('after a timeout of a call that computes (no host call to stop it at), re-creates the worker\'s other plugins with fresh state and rejects their queued calls with FO_SANDBOX_RESTARTED', async (t) => {
    const { backend } = pool(t, { size: 1 });
    // Fuel enough to spin past the limit: only terminating the worker stops it.
    const sleeper = await backend.load(await pluginSpec(CORE_GUEST, { timeoutMs: 300, fuel: 10n ** 15n }));
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
    const seen = events(neighbour);
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 1);
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 2);
    const stuck = sleeper.call('spin', NOTHING);
    const queued = neighbour.call('count', NOTHING);
    assert.equal(await codeOf(stuck), 'FO_SANDBOX_TIMEOUT');
    assert.equal(await codeOf(queued), 'FO_SANDBOX_RESTARTED', 'the queued call did not run');
    assert.deepEqual(
      seen.map((event) => (event.type === 'restarted' ? ['restarted', event.reason.code] : [event.type])),
      [['restarted', 'FO_SANDBOX_TIMEOUT']],
    );
    assert.equal(neighbour.state, 'ready');
    assert.equal(neighbour.stats().restarts, 1);
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 1, 'a fresh instance: the counter starts over');
    assert.equal(sleeper.state, 'poisoned');
    assert.equal(backend.workers()[0]?.restarts, 1);
  });

  it('when a worker dies during a call, fails that call with FO_SANDBOX_WORKER_FAILED and re-creates the neighbours', async (t) => {
    const { backend } = pool(t, { size: 1, workerUrl: new URL('./test-support/crash-worker.js', import.meta.url) });
    const crasher = await backend.load(await pluginSpec(CORE_GUEST));
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
    const seen = events(neighbour);
    await neighbour.call('count', NOTHING);
    assert.equal(await codeOf(crasher.call('crash_worker', NOTHING)), 'FO_SANDBOX_WORKER_FAILED');
    assert.equal(crasher.state, 'poisoned');
    assert.equal(crasher.fault?.code, 'FO_SANDBOX_WORKER_FAILED');
    assert.deepEqual(
      seen.map((event) => event.type),
      ['restarted'],
    );
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 1);
    await crasher.unload();
    assert.equal(crasher.state, 'unloaded');
  });

  it("fails a neighbour's call that was in flight when another plugin's timeout replaced the worker with FO_SANDBOX_WORKER_REPLACED, not the culprit's code", async (t) => {
    const { backend, host } = pool(t, { size: 1 });
    const neighbour = await backend.load(await pluginSpec(RELAY_GUEST, { permissions: { syscalls: [WEATHER_CALL] }, registered: [WEATHER_CALL] }));
    const culprit = await backend.load(await pluginSpec(WASI_GUEST, { timeoutMs: 300 }));
    assert.equal(backend.workerOf(neighbour), backend.workerOf(culprit));
    const seen = events(neighbour);
    // The neighbour's call asks the host, which calls the culprit on the same worker (nested); the culprit hangs.
    host.answer = () => decoder.decode(culprit.callSync?.('sleep', u32(60_000)) ?? NOTHING);
    assert.equal(await codeOf(neighbour.call('weather', encoder.encode('{"city":"Oslo"}'))), 'FO_SANDBOX_WORKER_REPLACED');
    assert.equal(culprit.state, 'poisoned');
    assert.equal(culprit.fault?.code, 'FO_SANDBOX_TIMEOUT', 'only the culprit carries the timeout');
    assert.equal(neighbour.state, 'ready', 'the neighbour is not poisoned');
    assert.deepEqual(
      seen.map((event) => (event.type === 'restarted' ? ['restarted', event.reason.code] : [event.type])),
      [['restarted', 'FO_SANDBOX_TIMEOUT']],
    );
    host.answer = (_plugin, _name, request) => request;
    assert.equal(decoder.decode(await neighbour.call('weather', encoder.encode('{"city":"Rome"}'))), '{"city":"Rome"}', 'the re-created neighbour answers');
  });

  it('loads a plugin that ran out of fuel onto an isolation worker when it is loaded again', async (t) => {
    const { backend } = pool(t, { size: 2 });
    const good = await backend.load(await pluginSpec(CORE_GUEST, { id: 'good' }));
    const spinnerSpec = await pluginSpec(CORE_GUEST, { id: 'spinner', fuel: 1_000_000n });
    const spinner = await backend.load(spinnerSpec);
    assert.equal(await codeOf(spinner.call('spin', NOTHING)), 'FO_SANDBOX_CPU_LIMIT');
    await spinner.unload();
    const again = await backend.load(spinnerSpec);
    const isolation = backend.workers().find((worker) => worker.isolation);
    assert.ok(isolation !== undefined, 'an isolation worker was started');
    assert.equal(backend.workerOf(again), isolation.id);
    assert.notEqual(backend.workerOf(good), isolation.id);
    const other = await backend.load(await pluginSpec(CORE_GUEST));
    assert.notEqual(backend.workerOf(other), isolation.id, 'well-behaved plugins never go there');
  });

  it('runs the isolation worker’s thread at nice ISOLATION_NICE, and every other thread as it was', async (t) => {
    const niced = (): number => threadNices().filter((nice) => nice === ISOLATION_NICE).length;
    assert.equal(niced(), 0, 'no thread of this process is niced before');
    const { backend } = pool(t, { size: 2 });
    const spinnerSpec = await pluginSpec(CORE_GUEST, { id: 'spinner', fuel: 1_000_000n });
    const spinner = await backend.load(spinnerSpec);
    assert.equal(await codeOf(spinner.call('spin', NOTHING)), 'FO_SANDBOX_CPU_LIMIT');
    assert.equal(niced(), 0, 'the regular workers keep the process’s nice value');
    await spinner.unload();
    const again = await backend.load(spinnerSpec);
    assert.equal(await codeOf(again.call('spin', NOTHING)), 'FO_SANDBOX_CPU_LIMIT', 'it runs there, and its limit still stops it');
    assert.equal(niced(), 1, 'exactly one thread, the isolation worker, runs niced');
  });

  it('keeps a plugin that ran out of fuel among the others when isolation is off', async (t) => {
    const { backend } = pool(t, { size: 1, isolateBusy: false });
    const spinnerSpec = await pluginSpec(CORE_GUEST, { id: 'spinner', fuel: 1_000_000n });
    const spinner = await backend.load(spinnerSpec);
    await codeOf(spinner.call('spin', NOTHING));
    await spinner.unload();
    const again = await backend.load(spinnerSpec);
    assert.equal(backend.workerOf(again), 0);
    assert.equal(backend.workers().length, 1);
  });

  it('takes one call per plugin in turn, so a plugin with a backlog delays a neighbour by one call', async (t) => {
    const { backend } = pool(t, { size: 1 });
    const busy = await backend.load(await pluginSpec(CORE_GUEST));
    const quiet = await backend.load(await pluginSpec(CORE_GUEST));
    const order: string[] = [];
    const track = (name: string, promise: Promise<unknown>): Promise<void> => promise.then(() => void order.push(name));
    // Each busy call loops 3 million times: long enough that none finishes while the others are queued.
    const calls = [1, 2, 3, 4].map((i) => track(`busy${i}`, busy.call('work', u32(3_000_000))));
    calls.push(track('quiet', quiet.call('echo', encoder.encode('hi'))));
    await Promise.all(calls);
    assert.deepEqual(order, ['busy1', 'quiet', 'busy2', 'busy3', 'busy4']);
  });

  it('runs callSync from a registered host call into a plugin of the same worker, nested in the call', async (t) => {
    const { backend, host } = pool(t, { size: 1 });
    const relay = await backend.load(await pluginSpec(RELAY_GUEST, { permissions: { syscalls: [WEATHER_CALL] }, registered: [WEATHER_CALL] }));
    const target = await backend.load(await pluginSpec(CORE_GUEST));
    assert.equal(backend.workerOf(relay), backend.workerOf(target));
    host.answer = (_plugin, _name, request) => decoder.decode(target.callSync?.('echo', encoder.encode(`via host: ${request}`)) ?? NOTHING);
    assert.equal(decoder.decode(await relay.call('weather', encoder.encode('{"city":"Oslo"}'))), 'via host: {"city":"Oslo"}');
    assert.equal(readI32(target.callSync?.('count', NOTHING) ?? NOTHING), 1);
    // The relay's own instance is busy with the call that asked: the ABI refuses re-entry.
    host.answer = () => decoder.decode(relay.callSync?.('time_now', NOTHING) ?? NOTHING);
    assert.equal(await guestCodeOf(relay.call('weather', encoder.encode('{"city":"Oslo"}'))), 'FO_ABI_REENTRANT_CALL');
    assert.equal(relay.state, 'ready');
  });

  it('never hands the large output of a call that failed afterwards to the next call', async (t) => {
    const { backend } = pool(t, { size: 1, slotBytes: 4096 });
    const hostile = await backend.load(await pluginSpec(TRAPPING_FREE_GUEST));
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
    const secret = new Uint8Array(65_536).fill(0x53);
    assert.equal(await codeOf(hostile.call('big', secret)), 'FO_ABI_GUEST_TRAP', 'forge_free trapped after the output was read');
    const mine = new Uint8Array(65_536).fill(0x4d);
    const output = await neighbour.call('echo', mine);
    assert.ok(Buffer.from(output).equals(Buffer.from(mine)), "the neighbour gets its own bytes, not the failed call's");
  });

  it('lets an idle pool end the process without close()', () => {
    const script = `
      import { PoolBackend } from ${JSON.stringify(new URL('./index.js', import.meta.url).href)};
      import { pluginSpec, RecordingHost } from ${JSON.stringify(new URL('./test-support/specs.js', import.meta.url).href)};
      import { CORE_GUEST } from ${JSON.stringify(new URL('./test-support/guests.js', import.meta.url).href)};
      const backend = new PoolBackend(new RecordingHost(), { size: 2 });
      const handle = await backend.load(await pluginSpec(CORE_GUEST));
      const out = await handle.call('echo', new TextEncoder().encode('done'));
      console.log(new TextDecoder().decode(out));`;
    const dir = mkdtempSync(join(tmpdir(), 'forge-pool-'));
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, script);
    let run;
    try {
      run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(run.error, undefined, 'the process ended by itself');
    assert.equal(run.stdout.trim(), 'done', run.stderr);
    assert.equal(run.status, 0);
  });
});

/** The nice value of every thread of this process (/proc/self/task/TID/stat, field 19). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}
