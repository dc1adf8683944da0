/**
 * A sandbox process keeps off the CPU its host thread waits on, as a pool worker does
 * (thread-priority.ts HostCpuAvoider): the host sends the CPU in each JOB it waits for
 * (wire.ts jobFlags), on the direct path and through the relay.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool } from '@forgeone/common/testing';
import { CORE_GUEST, u32 } from '../test-support/guests.js';
import { allowed, pin, requireCpus, until } from '../test-support/cpus.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { jobFlags, readJobFlags } from './wire.js';

describe('process backend: a sandbox keeps off its host thread’s CPU', () => {
  it('packs the trace flag and the CPU into a JOB’s flags word', () => {
    for (const trace of [false, true]) {
      for (const cpu of [-1, 0, 1, 4095]) assert.deepEqual(readJobFlags(jobFlags(trace, cpu)), { trace, cpu });
    }
    assert.equal(jobFlags(false, -1), 0, 'no CPU, no trace: the word an older host sent');
    assert.equal(jobFlags(true, -1), 1);
  });

  it('a sandbox the host waits on moves off the host’s CPU', async (t) => {
    if (!requireCpus(t) || !requireTool(t, 'taskset')) return;
    const hostMask = allowed(process.pid);
    const backend = await ProcessBackend.create(new RecordingHost(), {});
    t.after(async () => {
      pin(process.pid, hostMask.join(','));
      await backend.close();
    });
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id: 'near-sandbox' }));
    await handle.call('echo', u32(1));
    const cgroup = backend.sandboxes()[0]?.cgroup;
    assert.ok(cgroup !== undefined, 'the sandbox has a cgroup (its processes are listed there)');
    const pids = readFileSync(join(cgroup.dirs[0] ?? '', 'cgroup.procs'), 'utf8').split('\n').filter((line) => /^\d+$/.test(line));
    // Node's process (bubblewrap's name the script too, but run one thread).
    const sandbox = pids.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sandbox-child') && readdirSync(`/proc/${pid}/task`).length > 1);
    assert.ok(sandbox !== undefined, `the sandbox's Node process among ${pids.join(', ')}`);
    // It starts with the host's CPUs (and may have moved off the host's CPU already).
    const start = hostMask;
    // The host and every thread of the sandbox on one CPU: the kernel's worst placement.
    const shared = start[0] ?? 0;
    pin(process.pid, shared);
    pin(sandbox, shared, true);
    const callSync = handle.callSync?.bind(handle);
    assert.ok(callSync !== undefined, 'a confined plugin’s handle calls synchronously');
    callSync('echo', u32(2));
    const moved = await until(() => allowed(`/proc/${sandbox}/status`), (cpus) => cpus.join() !== String(shared));
    assert.deepEqual(moved, start.filter((cpu) => cpu !== shared), 'the thread that serves calls is off the host’s CPU, within the CPUs it started with');
  });
});
