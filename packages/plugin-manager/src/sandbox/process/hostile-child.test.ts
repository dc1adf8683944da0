import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import type { ErrorCode } from '@forgeone/common';
import { rejectsWithCode } from '@forgeone/common/testing';
import { CORE_GUEST } from '../test-support/guests.js';
import { FOLDED_ACTION } from '../audit-fold.js';
import { RecordingHost, pluginSpec, type SpecOptions } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { MAX_REPORTED_AUDITS } from './relay.js';

// Needs bubblewrap, user namespaces and writable cgroups, as backend.test.ts.
const SCRIPT = fileURLToPath(new URL('./test-support/hostile-child.js', import.meta.url));

let next = 0;

/** The pids of processes running the hostile program (the sandbox's, seen from the host). */
function hostilePids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').includes(SCRIPT)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Waits until no hostile sandbox runs (killing is asynchronous), failing after 20 s. */
async function assertNoSandboxLeft(): Promise<void> {
  for (let waited = 0; hostilePids().length > 0; waited += 50) {
    if (waited > 20_000) assert.deepEqual(hostilePids(), [], 'the sandbox process still runs');
    await sleep(50);
  }
}

async function setup(t: TestContext, transport: 'ring' | 'fifo' = 'fifo'): Promise<{ backend: ProcessBackend; host: RecordingHost }> {
  const host = new RecordingHost();
  const backend = await ProcessBackend.create(host, { childScript: SCRIPT, transport });
  t.after(() => backend.close());
  return { backend, host };
}

/** A folding plugin (level all, 100 kept, 400 ms limit) whose sandbox answers its first call and makes `move` at the second, which the host kills at its limit. */
async function killedAtSecondCall(t: TestContext, move: string): Promise<{ host: RecordingHost; id: string }> {
  const { backend, host } = await setup(t);
  next += 1;
  const id = `hostile-late${move}-${next}`;
  const handle = await backend.load(await pluginSpec(CORE_GUEST, { id, auditLevel: 'all', auditMaxCallRecords: 100, timeoutMs: 400 }));
  const input = new Uint8Array([1, 2, 3]);
  assert.deepEqual(await handle.call('echo', input), input, 'the first call is answered well');
  await rejectsWithCode(handle.call('echo', input), 'FO_SANDBOX_TIMEOUT', 'the second call is never answered');
  return { host, id };
}

/** Loads a plugin whose sandbox makes `move`, expecting the load to fail with `code`. */
async function hostileLoad(t: TestContext, move: string, code: ErrorCode, transport: 'ring' | 'fifo' = 'fifo', options: SpecOptions = {}): Promise<{ backend: ProcessBackend; host: RecordingHost; id: string }> {
  const { backend, host } = await setup(t, transport);
  next += 1;
  const id = `hostile-${move}-${next}`;
  await rejectsWithCode(backend.load(await pluginSpec(CORE_GUEST, { ...options, id })), code, move);
  assert.deepEqual(backend.sandboxes(), [], 'the failed sandbox is no longer the backend’s');
  await assertNoSandboxLeft();
  return { backend, host, id };
}

function protocolAudits(host: RecordingHost, id: string): [string, string | undefined, boolean][] {
  return host.auditOf(id).filter(([action]) => action === 'sandbox.protocol');
}

describe('process backend against a compromised sandbox', () => {
  it('kills a sandbox that reports telemetry for a plugin it does not host, and audits the violation', async (t) => {
    const { host, id } = await hostileLoad(t, 'foreign', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.deepEqual(host.auditOf('someone-else'), [], 'nothing reaches the audit log in the other plugin’s name');
    const reason = host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '';
    assert.match(reason, /does not host/);
  });

  it('kills a sandbox that sends a 4 GiB length prefix, without reading it', async (t) => {
    const { host, id } = await hostileLoad(t, 'huge', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.match(host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /4294967295 bytes/);
  });

  it('kills a sandbox that asks the host for a plugin slot it was not given', async (t) => {
    const { host, id } = await hostileLoad(t, 'slot', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.equal(
      host.audits.some((entry) => entry.action === 'forge.http_request'),
      false,
      'no hop was decided',
    );
  });

  it('kills a sandbox that answers a job with flags the protocol does not define', async (t) => {
    const { host, id } = await hostileLoad(t, 'flags', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
  });

  it('kills a sandbox that ends a job relayed over the FIFOs with a DONE for a call id the host never sent', async (t) => {
    const { host, id } = await hostileLoad(t, 'callid', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.match(host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /a DONE for call 1001 while call 1 was in flight/);
  });

  it('kills a sandbox that sends a host-to-sandbox frame kind during a job', async (t) => {
    const { host, id } = await hostileLoad(t, 'kind', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
  });

  it('fails the job with FO_SANDBOX_WORKER_FAILED when the sandbox exits mid-job, with no protocol audit', async (t) => {
    const { host, id } = await hostileLoad(t, 'exit', 'FO_SANDBOX_WORKER_FAILED');
    assert.deepEqual(protocolAudits(host, id), []);
  });

  it('kills a sandbox that ends a job with an error only the host decides (a memory-limit kill)', async (t) => {
    const { host, id } = await hostileLoad(t, 'liar', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.match(host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /FO_SANDBOX_MEMORY_LIMIT is for the host to decide/);
  });

  it('cuts the message of a job error to 4 KiB before it reaches the caller', async (t) => {
    const { backend } = await setup(t);
    next += 1;
    const error = await rejectsWithCode(backend.load(await pluginSpec(CORE_GUEST, { id: `hostile-verbose-${next}` })), 'FO_ABI_GUEST_TRAP', 'the load');
    assert.ok(error.message.length < 5000, `a message of ${error.message.length} characters`);
    assert.match(error.message, /\.\.\. \(cut by the host\)$/);
  });

  it('kills a sandbox that claims more unread bytes in the shared ring than it holds', async (t) => {
    const { host, id } = await hostileLoad(t, 'overrun', 'FO_SANDBOX_PROTOCOL_VIOLATION', 'ring');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.match(host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /claims \d+ unread bytes in a ring of 262144/);
  });

  it('kills a sandbox that claims to have read bytes the host never wrote, at the host’s next write', async (t) => {
    const { backend, host } = await setup(t, 'ring');
    next += 1;
    const id = `hostile-readahead-${next}`;
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id }));
    await rejectsWithCode(handle.call('echo', new Uint8Array(16)), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the call after the move');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.match(host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /read \d+ bytes past what was written/);
    await backend.close();
    await assertNoSandboxLeft();
  });

  it('keeps the shared memory sealed: the sandbox cannot shrink it under the host’s mapping', async (t) => {
    const { backend } = await setup(t, 'ring');
    next += 1;
    // The hostile sandbox answers the load only when ftruncate failed with EPERM (else it exits 66).
    await backend.load(await pluginSpec(CORE_GUEST, { id: `hostile-truncate-${next}` }));
    assert.equal(backend.sandboxes().length, 1);
  });

  it('through the shared ring, also kills a sandbox that sends a 4 GiB length prefix, without reading it', async (t) => {
    const { host, id } = await hostileLoad(t, 'huge', 'FO_SANDBOX_PROTOCOL_VIOLATION', 'ring');
    assert.deepEqual(protocolAudits(host, id), [['sandbox.protocol', undefined, false]]);
    assert.match(host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /4294967295 bytes/);
  });

  it('takes at most MAX_REPORTED_AUDITS audit entries from a sandbox per job, and records how many it dropped', async (t) => {
    const { backend, host } = await setup(t);
    next += 1;
    const id = `hostile-flood-${next}`;
    await backend.load(await pluginSpec(CORE_GUEST, { id }));
    const entries = host.auditOf(id);
    assert.equal(entries.length, MAX_REPORTED_AUDITS + 1);
    assert.deepEqual(entries.at(-1)?.slice(0, 3), ['sandbox.audit_dropped', undefined, false]);
    const dropped = host.audits.filter((entry) => entry.plugin === id && entry.action === 'sandbox.audit_dropped');
    assert.match(dropped[0]?.reason ?? '', new RegExp(`reported ${5 * 4096 - MAX_REPORTED_AUDITS} audit entries beyond`));
  });

  it('drops a sandbox’s forged allowed entries for calls the host decides, and keeps its denials', async (t) => {
    const { backend, host } = await setup(t);
    next += 1;
    const id = `hostile-forge-${next}`;
    await backend.load(await pluginSpec(CORE_GUEST, { id }));
    assert.deepEqual(host.auditOf(id), [['forge.http_request', 'evil.example', false]]);
    assert.equal(backend.sandboxes().length, 1);
    // The process check of the other tests sees a live sandbox, so its "gone" means gone.
    assert.notDeepEqual(hostilePids(), [], 'the running sandbox is found by its program');
    await backend.close();
    await assertNoSandboxLeft();
  });

  it("kills a sandbox that reports a folding call's counts beyond what its plugin's fuel pays for, or for a plugin that folds nothing; no summary is written from them", async (t) => {
    const folding = await hostileLoad(t, 'foldhuge', 'FO_SANDBOX_PROTOCOL_VIOLATION', 'fifo', { auditLevel: 'all', auditMaxCallRecords: 100 });
    assert.deepEqual(protocolAudits(folding.host, folding.id), [['sandbox.protocol', undefined, false]]);
    assert.match(folding.host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /folded: expected 1 to 50000 \(the host calls its fuel pays for\)/);
    assert.deepEqual(folding.host.auditOf(folding.id).filter(([action]) => action === FOLDED_ACTION), []);
    const plain = await hostileLoad(t, 'foldhuge', 'FO_SANDBOX_PROTOCOL_VIOLATION');
    assert.match(plain.host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /the plugin folds no audit records/);
  });

  it('writes the summary of a killed call from what its sandbox reported, under the host’s name for the call and the plugin’s own limit: a lying sandbox over-states only its own plugin’s allowed calls', async (t) => {
    const { host, id } = await killedAtSecondCall(t, 'foldspin');
    const summaries = host.audits.filter((entry) => entry.action === FOLDED_ACTION);
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]?.plugin, id, 'attributed to the plugin whose call was killed');
    const data = summaries[0]?.data ?? {};
    assert.deepEqual([data['call'], data['kept'], data['folded'], data['ended'], data['cause']], ['echo', 100, 5000, 'killed', 'FO_SANDBOX_TIMEOUT']);
    assert.deepEqual(protocolAudits(host, id), [], 'well-formed counts are no violation');
  });

  it('checks a killed sandbox’s ledger as its frames: keeps its own plugin’s record of a call it decides, drops what the host decides, names no other plugin, and counts nothing past the fuel', async (t) => {
    const { host, id } = await killedAtSecondCall(t, 'ledger');
    assert.deepEqual(
      host.audits.map((entry) => [entry.plugin, entry.action, entry.resource, entry.allowed]),
      [
        [id, 'forge.kv_get', 'kv:own', true],
        [id, 'sandbox.protocol', undefined, false],
      ],
      'only the record a frame could have carried: no forged forge.http_request, nothing for a slot it does not host, no summary past the fuel but the violation',
    );
    assert.match(host.audits.find((entry) => entry.action === 'sandbox.protocol')?.reason ?? '', /malformed ledger.*1 to \d+ \(the host calls its fuel pays for\)/);
  });
});
