import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { rejectsWithCode, throwsCode } from '@forgeone/common/testing';
import { BUMP_ALLOCATOR } from '../../abi/test-support/guests.js';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import type { PluginHandle } from '../spec.js';
import { ProcessBackend } from './backend.js';
import { RING_BYTES, RING_WORDS, RingChannel, sharedMemory } from './ring.js';
import { KIND, encodeFrame } from './wire.js';

// Needs bubblewrap, user namespaces, writable cgroups (as backend.test.ts) and
// native/shared-memory.node (npm run build): the ring is the default transport with it.
const SCRIPT = fileURLToPath(new URL('./test-support/hostile-child.js', import.meta.url));
const INPUT = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
let next = 0;

async function hostile(t: TestContext): Promise<{ backend: ProcessBackend; host: RecordingHost }> {
  const host = new RecordingHost();
  const backend = await ProcessBackend.create(host, { childScript: SCRIPT });
  t.after(() => backend.close());
  return { backend, host };
}

/** Loads `hostile-late<move>-N` and makes its first call (through the relay: a new export name). */
async function lateMove(t: TestContext, move: string): Promise<{ backend: ProcessBackend; host: RecordingHost; id: string; call: () => Promise<Uint8Array>; callSync: () => Uint8Array }> {
  const { backend, host } = await hostile(t);
  next += 1;
  const id = `hostile-late${move}-${next}`;
  const handle = await backend.load(await pluginSpec(CORE_GUEST, { id }));
  assert.deepEqual(await handle.call('echo', INPUT), INPUT, 'the first call is answered well');
  const callSync = handle.callSync?.bind(handle);
  assert.ok(callSync !== undefined);
  return { backend, host, id, call: () => handle.call('echo', INPUT), callSync: () => callSync('echo', INPUT) };
}

/** The input of the guest's `work` export: `n` rounds of work, echoed. */
const iterations = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** A real sandbox with plugin `id` loaded and its `work` export named (through the relay, by a first short call). */
async function working(t: TestContext, id: string): Promise<{ backend: ProcessBackend; handle: PluginHandle }> {
  const backend = await ProcessBackend.create(new RecordingHost());
  t.after(() => backend.close());
  const handle = await backend.load(await pluginSpec(CORE_GUEST, { id }));
  assert.deepEqual(await handle.call('work', iterations(10)), iterations(10), 'the export is named through the relay');
  return { backend, handle };
}

/** The calls the first sandbox's direct path answered and handed over so far. */
function sent(backend: ProcessBackend): readonly [number, number] {
  const direct = backend.sandboxes()[0]?.direct;
  return [direct?.answered ?? 0, direct?.handedOver ?? 0];
}

/** What the first sandbox's direct path answered and handed over since `before` ({@link sent}). */
function since(backend: ProcessBackend, before: readonly [number, number]): number[] {
  const now = sent(backend);
  return [now[0] - before[0], now[1] - before[1]];
}

function protocolReasons(host: RecordingHost, id: string): string[] {
  return host.audits.filter((entry) => entry.plugin === id && entry.action === 'sandbox.protocol' && !entry.allowed).map((entry) => entry.reason ?? '');
}

describe('process backend: the host thread’s direct path (direct.ts)', () => {
  it('answers plain calls of a known export on the host thread, and hands a call to the relay when it needs it', async (t) => {
    const host = new RecordingHost();
    const backend = await ProcessBackend.create(host);
    t.after(() => backend.close());
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id: 'direct-echo' }));
    for (let i = 0; i < 200; i += 1) assert.deepEqual(await handle.call('echo', INPUT), INPUT);
    const callSync = handle.callSync?.bind(handle);
    assert.ok(callSync !== undefined, 'a sandboxed plugin can be called synchronously');
    for (let i = 0; i < 200; i += 1) assert.deepEqual(callSync('echo', INPUT), INPUT);
    const counts = backend.sandboxes()[0]?.direct;
    assert.ok(counts !== undefined, 'the sandbox has a direct path');
    // The first call of the export names it through the relay; every other one is sent directly.
    assert.equal(counts.answered + counts.handedOver, 399);
    assert.ok(counts.answered > 0, `${JSON.stringify(counts)}: no call answered directly`);
    // A payload over DIRECT_MAX_PAYLOAD goes through the relay, and comes back whole.
    const large = new Uint8Array(200 * 1024).map((_, i) => i % 251);
    assert.deepEqual(await handle.call('echo', large), large);
    assert.equal((backend.sandboxes()[0]?.direct?.answered ?? 0) + (backend.sandboxes()[0]?.direct?.handedOver ?? 0), 399);
  });

  it('waits for a long direct call in the event loop (the sandbox rings the host thread’s doorbell), with no hand-over', async (t) => {
    const { backend, handle } = await working(t, 'direct-work');
    const before = sent(backend);
    // Tens of milliseconds of guest work: far past the host thread's spin.
    let ticks = 0;
    const ticking = setInterval(() => (ticks += 1), 1);
    const answer = await handle.call('work', iterations(5_000_000));
    clearInterval(ticking);
    assert.deepEqual(answer, iterations(5_000_000));
    assert.ok(ticks > 0, 'the event loop ran while the call did');
    assert.deepEqual(since(backend, before), [1, 0]);
  });

  it('waits for a long synchronous direct call blocking on its doorbell, with no hand-over', async (t) => {
    const { backend, handle } = await working(t, 'direct-sync-work');
    const callSync = handle.callSync?.bind(handle);
    assert.ok(callSync !== undefined);
    const before = sent(backend);
    // Tens of milliseconds of guest work: far past the host thread's spin, which used to hand the call over.
    assert.deepEqual(callSync('work', iterations(5_000_000)), iterations(5_000_000));
    for (let i = 0; i < 50; i += 1) assert.deepEqual(callSync('echo', INPUT), INPUT);
    // The echo export is named through the relay by its first call; the other 50 calls are sent directly.
    assert.deepEqual(since(backend, before), [50, 0]);
  });

  it('answers a synchronous call into a parked sandbox (rung awake: the host thread waits in poll(2) without spinning) on the host thread, with no hand-over', async (t) => {
    const { backend, handle } = await working(t, 'direct-sync-parked');
    const callSync = handle.callSync?.bind(handle);
    assert.ok(callSync !== undefined);
    assert.deepEqual(callSync('echo', INPUT), INPUT); // names the export through the relay
    const before = sent(backend);
    for (let i = 0; i < 5; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20)); // far past the sandbox's 50 us spin: it has parked
      assert.deepEqual(callSync('echo', INPUT), INPUT);
      assert.deepEqual(callSync('work', iterations(1000)), iterations(1000), 'and the call right after it, the sandbox awake');
    }
    assert.deepEqual(since(backend, before), [10, 0]);
  });

  it('waits on the doorbell, blocking, for a direct call waited for in the event loop when a synchronous call needs the sandbox, and answers both without a hand-over', async (t) => {
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    // Fuel for about a second of guest work: the long call is surely still running when the synchronous one comes.
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id: 'direct-mixed', fuel: 5_000_000_000n }));
    await handle.call('work', iterations(10));
    await handle.call('echo', INPUT);
    const before = sent(backend);
    const long = handle.call('work', iterations(300_000_000));
    await new Promise((resolve) => setTimeout(resolve, 2)); // the long call now waits in the event loop
    const callSync = handle.callSync?.bind(handle);
    assert.ok(callSync !== undefined);
    assert.deepEqual(callSync('echo', INPUT), INPUT, 'the synchronous call ran after the long one');
    assert.deepEqual(await long, iterations(300_000_000));
    // The synchronous call first waits for the long one in poll(2) on the doorbell (its wait in the event loop is told), then for its own answer.
    assert.deepEqual(since(backend, before), [2, 0]);
  });

  it('sends lifecycle steps the direct way: a step answered on the host thread, one that makes a host call handed to the relay, the sandbox frozen between pause and resume', async (t) => {
    const host = new RecordingHost();
    const backend = await ProcessBackend.create(host);
    t.after(() => backend.close());
    const guest = `(module (import "forge" "log" (func $log (param i32 i32) (result i64))) (memory (export "memory") 1) ${BUMP_ALLOCATOR}
      (data (i32.const 65000) "\\02pausing")
      (func (export "init") (result i32) (i32.const 0))
      (func (export "pause") (result i32) (drop (call $log (i32.const 65000) (i32.const 8))) (i32.const 0))
      (func (export "resume") (result i32) (i32.const 0)))`;
    const handle = await backend.load(await pluginSpec(guest, { id: 'direct-lifecycle', entryPoints: { init: 'init', pause: 'pause', resume: 'resume' }, permissions: { syscalls: ['forge.log'] } }));
    assert.equal(await handle.lifecycle('init'), true);
    const before = sent(backend);
    assert.equal(await handle.lifecycle('pause'), true, 'the pause entry point ran');
    assert.equal(backend.sandboxes()[0]?.frozen, true, 'frozen after its last plugin paused');
    assert.deepEqual(since(backend, before), [0, 1], 'the step made a host call: handed to the relay');
    const paused = sent(backend);
    assert.equal(await handle.lifecycle('resume'), true);
    assert.deepEqual(since(backend, paused), [1, 0], 'answered on the host thread');
    assert.ok(host.logs.some((entry) => entry.plugin === 'direct-lifecycle' && entry.record.message === 'pausing'), 'the host call of the pause step was served');
    assert.ok(host.audits.some((entry) => entry.plugin === 'direct-lifecycle' && entry.action === 'forge.log' && entry.allowed), 'and audited');
  });

  it('kills a sandbox that answers a direct call with flags the protocol does not define, and audits it', async (t) => {
    const { backend, host, id, call } = await lateMove(t, 'flags');
    await rejectsWithCode(call(), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the direct call');
    assert.deepEqual(protocolReasons(host, id).length, 1);
    assert.match(protocolReasons(host, id)[0] ?? '', /job flags 256/);
    assert.equal(backend.sandboxes()[0]?.direct?.handedOver, 1, 'the host thread left the refused answer to the relay');
  });

  it('kills a sandbox that ends a direct call with an error only the host decides', async (t) => {
    const { host, id, call } = await lateMove(t, 'liar');
    await rejectsWithCode(call(), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the direct call');
    assert.match(protocolReasons(host, id)[0] ?? '', /FO_SANDBOX_MEMORY_LIMIT is for the host to decide/);
  });

  it('kills a sandbox that claims more unread bytes than the ring holds during a direct call', async (t) => {
    const { host, id, call } = await lateMove(t, 'overrun');
    await rejectsWithCode(call(), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the direct call');
    assert.match(protocolReasons(host, id)[0] ?? '', /claims \d+ unread bytes in a ring of 262144/);
  });

  it('hands a call to the relay when its sandbox rings the host thread’s doorbell without answering', async (t) => {
    const { backend, call } = await lateMove(t, 'ringbell');
    const before = sent(backend);
    assert.deepEqual(await call(), new Uint8Array(0), 'answered, through the relay');
    assert.equal(since(backend, before)[1], 1);
    assert.equal(backend.sandboxes().length, 1, 'ringing is no violation: the sandbox lives');
  });

  it('hands a synchronous call to the relay when its sandbox rings the host thread’s doorbell without answering', async (t) => {
    const { backend, callSync } = await lateMove(t, 'ringbell');
    const before = sent(backend);
    assert.deepEqual(callSync(), new Uint8Array(0), 'answered, through the relay');
    assert.equal(since(backend, before)[1], 1);
    assert.equal(backend.sandboxes().length, 1, 'ringing is no violation: the sandbox lives');
  });

  it('times a synchronous call out when its sandbox claims to be parked for good and never answers: the lie only chooses how the host waits', async (t) => {
    const { backend, host } = await hostile(t);
    next += 1;
    const id = `hostile-lateparkedlie-${next}`;
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id, timeoutMs: 300 }));
    const callSync = handle.callSync?.bind(handle);
    assert.ok(callSync !== undefined);
    assert.deepEqual(callSync('echo', INPUT), INPUT, 'the first call, through the relay');
    assert.deepEqual(callSync('echo', INPUT), new Uint8Array(0), 'the move’s own answer is taken as sent');
    await new Promise((resolve) => setTimeout(resolve, 20)); // the lie is in the word when the next JOB is sent
    throwsCode(() => callSync('echo', INPUT), 'FO_SANDBOX_TIMEOUT', 'the call after the lie');
    assert.equal(backend.sandboxes()[0]?.restarts, 1, 'the sandbox was ended and replaced');
    assert.deepEqual(protocolReasons(host, id), [], 'a lie in that word is no violation, only lost time of its own');
  });

  it('kills a sandbox whose DONE in the ring is shorter than its words (a lying length prefix), and audits it', async (t) => {
    const { backend, host, id, call } = await lateMove(t, 'short');
    await rejectsWithCode(call(), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the direct call');
    assert.match(protocolReasons(host, id)[0] ?? '', /a frame of kind 18 shorter than its 36 bytes of words/);
    assert.equal(backend.sandboxes()[0]?.direct?.handedOver, 1, 'the host thread took nothing, and left the frame to the relay');
  });

  it('kills a sandbox whose DONE in the ring claims a length past the ring, during a synchronous direct call', async (t) => {
    const { backend, host, id, callSync } = await lateMove(t, 'past');
    throwsCode(callSync, 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the synchronous direct call');
    assert.match(protocolReasons(host, id)[0] ?? '', /a frame of 2147483647 bytes/);
    assert.equal(backend.sandboxes()[0]?.direct?.handedOver, 1, 'the host thread read nothing past the ring, and left the frame to the relay');
  });

  it('kills a sandbox that ends a direct call with a DONE for a call id the host never sent, and audits it', async (t) => {
    const { backend, host, id, call } = await lateMove(t, 'callid');
    await rejectsWithCode(call(), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the direct call');
    assert.match(protocolReasons(host, id)[0] ?? '', /a DONE for call (-?\d+) while call (?!\1)-?\d+ was in flight/);
    assert.equal(backend.sandboxes()[0]?.direct?.handedOver, 1, 'the host thread took nothing, and left the frame to the relay');
  });

  it('kills a sandbox that sends a DONE while no call is in flight (a call answered twice), at the next call, and audits it', async (t) => {
    const { host, id, call } = await lateMove(t, 'twice');
    assert.deepEqual(await call(), new Uint8Array(0), 'the first answer ends the call');
    await rejectsWithCode(call(), 'FO_SANDBOX_PROTOCOL_VIOLATION', 'the next call finds the second answer first');
    assert.match(protocolReasons(host, id)[0] ?? '', /a DONE for call (-?\d+) while call (?!\1)-?\d+ was in flight/);
  });

  it('keeps the relay’s budget on reported audit entries when telemetry floods a direct call', async (t) => {
    const { host, id, call } = await lateMove(t, 'flood');
    assert.deepEqual(await call(), new Uint8Array(0), 'the call is answered after the flood');
    const dropped = host.audits.filter((entry) => entry.plugin === id && entry.action === 'sandbox.audit_dropped');
    assert.equal(dropped.length, 1);
  });
});

describe('shared ring doorbells (ring.ts)', () => {
  it('never blocks the host thread on a sandbox that stops reading its doorbell: a full non-blocking doorbell is not waited for', (t) => {
    const memory = sharedMemory();
    assert.ok(memory !== undefined, 'native/shared-memory.node is built');
    const memfd = memory.create(RING_BYTES);
    t.after(() => closeSync(memfd));
    // A pipe whose read end nobody reads: the sandbox's doorbell, hostile.
    const fifo = pipePair();
    t.after(() => {
      closeSync(fifo.read);
      closeSync(fifo.write);
    });
    const host = new RingChannel(memory.map(memfd, RING_BYTES), 'host', fifo.read, fifo.write);
    const sandbox = new Int32Array(memory.map(memfd, RING_BYTES), 0, 1024);
    const frame = encodeFrame(KIND.JOB, [2, 0, 0, 0, 1], [0n], new Uint8Array(8));
    // 100,000 frames, each while the sandbox says it parked for bytes: far more rings than a pipe holds (64 KiB).
    for (let i = 0; i < 100_000; i += 1) {
      Atomics.store(sandbox, RING_WORDS.SANDBOX_PARKED, 1);
      host.write(frame);
      Atomics.store(sandbox, RING_WORDS.DOWN_READ, Atomics.load(sandbox, RING_WORDS.DOWN_WRITTEN)); // the sandbox consumes the frame, never its bell
    }
    const rung = readSync(fifo.read, Buffer.alloc(1 << 20));
    assert.ok(rung >= 4096 && rung < 100_000, `${rung} rings in the pipe: it filled up, and the writer went on without waiting`);
  });
});

/** A FIFO's two ends, both non-blocking (the host thread's doorbell end is). */
function pipePair(): { read: number; write: number } {
  const dir = mkdtempSync(join(tmpdir(), 'forge-bell-'));
  try {
    const path = join(dir, 'bell');
    execFileSync('mkfifo', ['-m', '600', path]);
    const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    return { read, write: openSync(path, constants.O_WRONLY | constants.O_NONBLOCK) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
