import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';

/** CPU the sandbox's cgroup used over `ms`, in microseconds. */
async function cpuOver(backend: ProcessBackend, ms: number): Promise<number> {
  const cgroup = backend.sandboxes()[0]?.cgroup;
  assert.ok(cgroup !== undefined, 'the sandbox has a cgroup');
  const before = (await cgroup.usage()).cpuUsec;
  await sleep(ms);
  return (await cgroup.usage()).cpuUsec - before;
}

/** True once the sandbox's cgroup has used `usec` more CPU, false if it has not within 10 s (a loaded machine may give it little). */
async function usesCpu(backend: ProcessBackend, usec: number): Promise<boolean> {
  const cgroup = backend.sandboxes()[0]?.cgroup;
  assert.ok(cgroup !== undefined, 'the sandbox has a cgroup');
  const before = (await cgroup.usage()).cpuUsec;
  for (let waited = 0; waited < 10_000; waited += 50) {
    if ((await cgroup.usage()).cpuUsec - before > usec) return true;
    await sleep(50);
  }
  return false;
}

describe('process backend: pause and resume through the freezer', () => {
  it('freezes the sandbox after the pause step, so nothing in it uses CPU, and thaws it for resume', async (t) => {
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { entryPoints: { init: 'init', start: 'start' } }));
    await handle.lifecycle('init');
    // A busy process inside the sandbox's cgroup: what the accounting would see of a plugin that kept running.
    const busy = spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    t.after(() => busy.kill('SIGKILL'));
    await new Promise((resolve) => busy.once('spawn', resolve));
    const cgroup = backend.sandboxes()[0]?.cgroup;
    await cgroup?.addProcess(busy.pid as number);
    assert.ok(await usesCpu(backend, 50_000), 'running: the busy process uses CPU');

    assert.equal(await handle.lifecycle('pause'), false, 'no pause entry point; the sandbox is frozen all the same');
    assert.equal(backend.sandboxes()[0]?.frozen, true);
    assert.equal(await cpuOver(backend, 300), 0, 'frozen: not a microsecond of CPU');
    assert.equal(await codeOf(handle.call('count', new Uint8Array(0))), 'FO_LIFECYCLE_NOT_RUNNING', 'a call into a frozen sandbox is refused, not left hanging');

    assert.equal(await handle.lifecycle('resume'), false);
    assert.equal(backend.sandboxes()[0]?.frozen, false);
    assert.ok(await usesCpu(backend, 50_000), 'thawed: it runs again');
    busy.kill('SIGKILL');
    assert.equal((await handle.call('count', new Uint8Array(0))).length, 4, 'the plugin answers after resume');
  });

  it('freezes a publisher sandbox only once every plugin in it is paused', async (t) => {
    const backend = await ProcessBackend.create(new RecordingHost(), { groupBy: 'publisher' });
    t.after(() => backend.close());
    const a = await backend.load(await pluginSpec(CORE_GUEST, { id: 'a' }));
    const b = await backend.load(await pluginSpec(CORE_GUEST, { id: 'b' }));
    assert.equal(backend.sandboxes().length, 1, 'one sandbox for the publisher');
    await a.lifecycle('pause');
    assert.equal(backend.sandboxes()[0]?.frozen, false, 'b still runs');
    assert.equal((await b.call('count', new Uint8Array(0))).length, 4);
    await b.lifecycle('pause');
    assert.equal(backend.sandboxes()[0]?.frozen, true);
    await a.lifecycle('resume');
    assert.equal(backend.sandboxes()[0]?.frozen, false);
    assert.equal((await a.call('count', new Uint8Array(0))).length, 4);
  });
});
