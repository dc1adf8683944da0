import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import type { PluginHandle } from '../spec.js';
import { ProcessBackend } from './backend.js';

// Lifecycle steps on the host thread's direct path (pool-dispatch.ts OP.LIFECYCLE, direct.ts),
// answered by a compromised sandbox (test-support/hostile-child.ts). Needs what direct.test.ts needs.
const SCRIPT = fileURLToPath(new URL('./test-support/hostile-child.js', import.meta.url));
const ENTRY_POINTS = { init: 'init', pause: 'pause', resume: 'resume' } as const;
let next = 0;

interface Stepped {
  readonly backend: ProcessBackend;
  readonly host: RecordingHost;
  readonly id: string;
  readonly handle: PluginHandle;
}

/**
 * Loads `hostile-late<move>-N` and runs its init step, answered well on the direct path (the
 * second job); the move is the answer to the next job.
 */
async function lateStep(t: TestContext, move: string, timeoutMs?: number): Promise<Stepped> {
  const host = new RecordingHost();
  const backend = await ProcessBackend.create(host, { childScript: SCRIPT });
  t.after(() => backend.close());
  next += 1;
  const id = `hostile-late${move}-${next}`;
  const handle = await backend.load(await pluginSpec(CORE_GUEST, { id, entryPoints: ENTRY_POINTS, ...(timeoutMs === undefined ? {} : { timeoutMs }) }));
  assert.equal(await handle.lifecycle('init'), true, 'the init step is answered well');
  assert.deepEqual(backend.sandboxes()[0]?.direct, { answered: 1, handedOver: 0 }, 'on the host thread');
  return { backend, host, id, handle };
}

function protocolReasons(host: RecordingHost, id: string): string[] {
  return host.audits.filter((entry) => entry.plugin === id && entry.action === 'sandbox.protocol' && !entry.allowed).map((entry) => entry.reason ?? '');
}

describe('process backend: a compromised sandbox answering lifecycle steps sent the direct way', () => {
  it('kills a sandbox that ends a pause step with a DONE for a call id the host never sent; nothing is frozen', async (t) => {
    const { backend, host, id, handle } = await lateStep(t, 'callid');
    await rejectsWithCode(handle.lifecycle('pause'), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the pause step');
    assert.equal(protocolReasons(host, id).length, 1);
    assert.match(protocolReasons(host, id)[0] ?? '', /a DONE for call (-?\d+) while call (?!\1)-?\d+ was in flight/);
    const [sandbox] = backend.sandboxes();
    assert.equal(sandbox?.direct?.handedOver ?? 0, 1, 'the host thread took nothing, and left the frame to the relay');
    assert.equal(sandbox?.frozen, false, 'a refused pause freezes nothing');
  });

  it('kills a sandbox that answers a step twice, at the next step, and audits it', async (t) => {
    const { host, id, handle } = await lateStep(t, 'twice');
    assert.equal(await handle.lifecycle('pause'), true, 'the first answer ends the pause step');
    await rejectsWithCode(handle.lifecycle('resume'), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the resume step finds the second answer first');
    assert.match(protocolReasons(host, id)[0] ?? '', /a DONE for call (-?\d+) while call (?!\1)-?\d+ was in flight/);
  });

  it('kills a sandbox that ends a step with an error only the host decides', async (t) => {
    const { host, id, handle } = await lateStep(t, 'liar');
    await rejectsWithCode(handle.lifecycle('pause'), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the pause step');
    assert.match(protocolReasons(host, id)[0] ?? '', /FO_SANDBOX_MEMORY_LIMIT is for the host to decide/);
  });

  it('kills a sandbox that answers a step with flags the protocol does not define', async (t) => {
    const { host, id, handle } = await lateStep(t, 'flags');
    await rejectsWithCode(handle.lifecycle('pause'), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the pause step');
    assert.match(protocolReasons(host, id)[0] ?? '', /job flags 256/);
  });

  it('kills a sandbox that sends a host-to-sandbox frame kind during a step', async (t) => {
    const { host, id, handle } = await lateStep(t, 'kind');
    await rejectsWithCode(handle.lifecycle('pause'), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the pause step');
    assert.match(protocolReasons(host, id)[0] ?? '', /frame kind/);
  });

  it('keeps the relay’s budget on reported audit entries when telemetry floods a step', async (t) => {
    const { host, id, handle } = await lateStep(t, 'flood');
    assert.equal(await handle.lifecycle('pause'), true, 'the step is answered after the flood');
    assert.equal(host.audits.filter((entry) => entry.plugin === id && entry.action === 'sandbox.audit_dropped').length, 1);
  });

  it('fails a step whose sandbox exits mid-step with FO_SANDBOX_WORKER_FAILED, with no protocol audit', async (t) => {
    const { host, id, handle } = await lateStep(t, 'exit');
    await rejectsWithCode(handle.lifecycle('pause'), 'FO_SANDBOX_WORKER_FAILED', 'the pause step');
    assert.deepEqual(protocolReasons(host, id), []);
  });

  it('times out a pause step its sandbox never answers, ends that sandbox, freezes nothing, and poisons the plugin', async (t) => {
    const { backend, handle } = await lateStep(t, 'silent', 300);
    const before = backend.sandboxes()[0]?.restarts ?? 0;
    await rejectsWithCode(handle.lifecycle('pause'), 'FO_SANDBOX_TIMEOUT', 'the pause step');
    const [sandbox] = backend.sandboxes();
    assert.equal((sandbox?.restarts ?? 0) - before, 1, 'the silent sandbox was ended and replaced');
    assert.equal(sandbox?.frozen, false);
    await rejectsWithCode(handle.lifecycle('resume'), 'FO_ABI_INSTANCE_POISONED', 'the plugin timed out: poisoned');
  });
});
