/**
 * A pool worker keeps off the CPU its host thread waits on (thread-priority.ts
 * HostCpuAvoider, RequestWords.cpu): on one CPU the two threads' spins only keep each
 * other from running. Read back from /proc (Cpus_allowed_list) for each thread.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { requireTool } from '@forgeone/common/testing';
import { Slot, OP } from './pool-protocol.js';
import { PoolBackend } from './pool.js';
import { CORE_GUEST, u32 } from './test-support/guests.js';
import { RecordingHost, pluginSpec } from './test-support/specs.js';
import { allowed, pin, requireCpus, until } from './test-support/cpus.js';
import { HostCpuAvoider, currentCpu } from './thread-priority.js';

describe('a pool worker keeps off its host thread’s CPU', () => {
  it('carries the CPU in a request, beside the trace and park bits', () => {
    const slot = new Slot(Slot.allocate(64));
    for (const cpu of [-1, 0, 1, 63, 4095]) {
      slot.writeRequest({ op: OP.CALL, plugin: 3, name: 4, length: 5, trace: true, park: true, cpu });
      assert.deepEqual({ ...slot.readRequest(), fuel: 0n }, { op: OP.CALL, plugin: 3, name: 4, length: 5, fuel: 0n, trace: true, park: true, cpu, streamed: false });
    }
    slot.writeRequest({ op: OP.CALL, plugin: 0, name: 0, length: 0 });
    assert.equal(slot.readRequest().cpu, -1);
  });

  it('moves a thread off the CPU it shares, and gives the CPU back on release', (t) => {
    if (!requireCpus(t)) return;
    const before = allowed();
    const avoider = new HostCpuAvoider();
    t.after(() => avoider.release());
    const shared = currentCpu();
    assert.equal(avoider.sharing(-1), false, 'an unknown host CPU is never shared');
    assert.equal(avoider.sharing(shared), true);
    assert.deepEqual(allowed(), before.filter((cpu) => cpu !== shared));
    assert.notEqual(currentCpu(), shared);
    assert.equal(avoider.sharing(shared), false, 'off that CPU now');
    avoider.release();
    assert.deepEqual(allowed(), before);
  });

  it('never widens a mask set from outside before the thread first moved', async (t) => {
    if (!requireCpus(t) || !requireTool(t, 'taskset')) return;
    const cpu = allowed()[0] ?? 0;
    const module = new URL('./thread-priority.js', import.meta.url).href;
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { readFileSync, readlinkSync } = require('node:fs');
       parentPort.postMessage(readlinkSync('/proc/thread-self').split('/').pop());
       parentPort.once('message', async () => {
         const { HostCpuAvoider, currentCpu } = await import(${JSON.stringify(module)});
         const sharing = new HostCpuAvoider().sharing(currentCpu());
         // Read here: the thread ends once this message is sent.
         const allowed = /^Cpus_allowed_list:\\s*(\\S+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))[1];
         parentPort.postMessage({ sharing, cpu: currentCpu(), allowed });
       });`,
      { eval: true },
    );
    t.after(() => worker.terminate());
    const tid = await new Promise<string>((resolve) => worker.once('message', resolve));
    pin(tid, cpu);
    const answer = new Promise<{ sharing: boolean; cpu: number; allowed: string }>((resolve) => worker.once('message', resolve));
    worker.postMessage('go');
    assert.deepEqual(await answer, { sharing: true, cpu, allowed: String(cpu) }, 'it says it shares the CPU (and parks), but stays where it was put');
  });

  it('a worker the host waits on moves off the host’s CPU, and gets it back for calls nobody waits on', async (t) => {
    if (!requireCpus(t) || !requireTool(t, 'taskset')) return;
    const start = allowed();
    const before = new Set(readdirSync('/proc/self/task'));
    const backend = new PoolBackend(new RecordingHost(), { size: 1 });
    const hostMask = allowed(process.pid);
    t.after(async () => {
      spawnSync('taskset', ['-p', '-c', hostMask.join(','), String(process.pid)]);
      await backend.close();
    });
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id: 'near' }));
    await handle.call('echo', u32(1));
    // Every thread the pool started (its workers), and the host, on one CPU: the kernel's worst placement.
    const workers = readdirSync('/proc/self/task').filter((tid) => !before.has(tid));
    assert.ok(workers.length >= 1);
    const shared = start[0] ?? 0;
    pin(process.pid, shared);
    for (const tid of workers) pin(tid, shared);
    const callSync = handle.callSync?.bind(handle);
    assert.ok(callSync !== undefined, 'a pool handle calls synchronously');
    callSync('echo', u32(2));
    // The worker moves once the answer is sent, before it waits for its next job.
    const moved = await until(() => workers.filter((tid) => allowed(tid).join() !== String(shared)), (found) => found.length > 0);
    assert.equal(moved.length, 1, 'the worker that ran the call moved');
    const [worker = ''] = moved;
    assert.deepEqual(allowed(worker), start.filter((cpu) => cpu !== shared), 'off the host’s CPU, within the CPUs it started with');
    // Calls of a few ms each: after four, the host stops waiting for them synchronously (pool-dispatch.ts nextMeanUs).
    for (let i = 0; i < 6; i += 1) await handle.call('work', u32(3_000_000));
    assert.deepEqual(await until(() => allowed(worker), (cpus) => cpus.length === start.length), start, 'every CPU it started with, back');
  });
});
