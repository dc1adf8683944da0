import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import { codeOf, codeOfSync } from '@forgeone/common/testing';
import type { PluginHandle } from '../spec.js';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';

// Needs bubblewrap, user namespaces and writable cgroups, as backend.test.ts. The calls
// have a 30 s limit: a call that blocked the host thread until it would fail with
// FO_SANDBOX_TIMEOUT, which no assertion below accepts.
async function killedSandbox(t: TestContext, id: string): Promise<{ backend: ProcessBackend; handle: PluginHandle; callSync: (input: Uint8Array) => Uint8Array }> {
  const backend = await ProcessBackend.create(new RecordingHost());
  t.after(() => backend.close());
  const handle = await backend.load(await pluginSpec(CORE_GUEST, { id, timeoutMs: 30_000 }));
  const callSync = (input: Uint8Array): Uint8Array => {
    if (handle.callSync === undefined) throw new Error('the process backend has callSync');
    return handle.callSync('echo', input);
  };
  assert.equal(callSync(new Uint8Array([1])).length, 1);
  const cgroup = backend.sandboxes()[0]?.cgroup;
  assert.ok(cgroup !== undefined);
  for (const pid of await cgroup.pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      // Killing bwrap first takes the rest with it (--die-with-parent): a pid may be gone already.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  return { backend, handle, callSync };
}

describe('process backend: a sandbox killed from outside', () => {
  it('is re-created once seen dead; a synchronous call meanwhile fails at once with FO_SANDBOX_RESTARTED, then works', async (t) => {
    const { backend, handle, callSync } = await killedSandbox(t, 'killed-idle');
    for (let waited = 0; backend.sandboxes()[0]?.restarts !== 1; waited += 10) {
      assert.ok(waited < 20_000, 'the backend sees the death');
      await sleep(10);
    }
    const seen = new Set<string>();
    for (let code = codeOfSync(() => callSync(new Uint8Array([2]))); code !== 'ok'; code = codeOfSync(() => callSync(new Uint8Array([2])))) {
      seen.add(code);
      await sleep(5);
    }
    assert.deepEqual([...seen].filter((code) => code !== 'FO_SANDBOX_RESTARTED'), [], 'only FO_SANDBOX_RESTARTED while it starts again');
    assert.equal(await codeOf(handle.call('echo', new Uint8Array([3]))), 'ok');
  });

  it('fails the call that ran into the death with FO_SANDBOX_WORKER_FAILED, and the plugin is then poisoned for its registry to restart', async (t) => {
    const { callSync } = await killedSandbox(t, 'killed-busy');
    const first = codeOfSync(() => callSync(new Uint8Array([2])));
    // The death may be seen before the call is sent (then the plugin is re-created, as above).
    if (first === 'FO_SANDBOX_RESTARTED' || first === 'ok') return;
    assert.equal(first, 'FO_SANDBOX_WORKER_FAILED');
    assert.equal(codeOfSync(() => callSync(new Uint8Array([2]))), 'FO_ABI_INSTANCE_POISONED');
  });
});
