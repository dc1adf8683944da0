/**
 * Conformance cases for limits that hostile plugins try to get around: fuel across
 * plugin-to-plugin calls, and floods of guest output (WASI stdout and stderr). Part of the one suite every
 * backend runs ({@link describeBackendConformance} calls {@link describeLimitEvasions}).
 */
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { codeOf } from '@forgeone/common/testing';
import { HOST_CALL_FUEL } from '../../abi/index.js';
import { guestCodeOf } from '../../abi/test-support/guest-code.js';
import { DEFAULT_FUEL_PER_CALL } from '../../runtime/index.js';
import type { IsolationBackend } from '../spec.js';
import { CALLER_GUEST, CORE_GUEST, FLOOD_GUEST, WASI_GUEST, WEATHER_CALL, readI32, u32 } from './guests.js';
import { events } from './outcomes.js';
import { pluginSpec, type RecordingHost } from './specs.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NOTHING = new Uint8Array(0);

/** Creates the backend under test and its recording host for one test. */
export type Setup = (t: TestContext) => Promise<{ backend: IsolationBackend; host: RecordingHost }>;

/** A caller guest may make the registered call its host answers by calling another plugin. */
const CALLING = { permissions: { syscalls: [WEATHER_CALL] }, registered: [WEATHER_CALL] } as const;

/** The cases; call inside the backend's describe block. */
export function describeLimitEvasions(setup: Setup): void {
  it("lends a callee only the caller's remaining fuel: a callee that loops forever stops the caller with FO_SANDBOX_CPU_LIMIT", async (t) => {
    const { backend, host } = await setup(t);
    const caller = await backend.load(await pluginSpec(CALLER_GUEST, { ...CALLING, fuel: 2_000_000n }));
    const callee = await backend.load(await pluginSpec(CORE_GUEST, { fuel: 50_000_000n }));
    const seen = events(callee);
    host.answer = (_plugin, _name, _request, fuel) => decoder.decode(callee.callSync?.('spin', NOTHING, fuel) ?? NOTHING);
    assert.equal(await codeOf(caller.call('relay', encoder.encode('{}'))), 'FO_SANDBOX_CPU_LIMIT');
    const lent = callee.stats().lastFuelUsed;
    assert.ok(lent > 0n && lent < 2_000_000n, `the callee ran on what the caller had left, not on a fresh budget of its own (it used ${lent} units)`);
    assert.equal(caller.stats().lastFuelUsed, 2_000_000n, "the caller's budget paid for both");
    // Running out of lent fuel was the caller's budget running out: the callee is re-created, not poisoned.
    assert.equal(callee.state, 'ready');
    assert.deepEqual(
      seen.map((event) => (event.type === 'restarted' ? ['restarted', event.reason.code] : [event.type])),
      [['restarted', 'FO_SANDBOX_CPU_LIMIT']],
    );
    assert.equal(readI32(await callee.call('count', NOTHING)), 1, 'a fresh instance');
  });

  it("charges every nested call to its caller: calling another plugin in a loop stops when the caller's budget is spent", async (t) => {
    const { backend, host } = await setup(t);
    const caller = await backend.load(await pluginSpec(CALLER_GUEST, { ...CALLING, fuel: 2_000_000n }));
    const callee = await backend.load(await pluginSpec(CORE_GUEST, { fuel: 50_000_000n }));
    // Each nested call loops 10,000 times (well over 10,000 units): 1,000 of them need
    // several times the caller's budget.
    host.answer = (_plugin, _name, _request, fuel) => String(readI32(callee.callSync?.('work', u32(10_000), fuel) ?? NOTHING));
    assert.equal(await codeOf(caller.call('relay_n', new Uint8Array([...u32(1000), ...encoder.encode('{}')]))), 'FO_SANDBOX_CPU_LIMIT');
    assert.ok(host.served.length < 1000, `the loop stopped when the caller's fuel was spent (after ${host.served.length} nested calls)`);
    assert.equal(readI32(await callee.call('work', u32(3))), 3, 'the callee still answers');
  });

  it('ends a chain of plugin calls A -> B -> A -> ... with FO_SANDBOX_CPU_LIMIT: a refused re-entry refills no fuel', async (t) => {
    const { backend, host } = await setup(t);
    const a = await backend.load(await pluginSpec(CALLER_GUEST, { ...CALLING, fuel: 100_000n }));
    const b = await backend.load(await pluginSpec(CALLER_GUEST, { ...CALLING, fuel: 50_000_000n }));
    const reentries: string[] = [];
    host.answer = (plugin, _name, request, fuel) => {
      const next = plugin === a.id ? b : a;
      try {
        next.callSync?.('relay', encoder.encode(request), fuel);
      } catch (error) {
        reentries.push(ForgeError.is(error) ? error.code : String(error));
      }
      return '{}';
    };
    // A calls B 20,000 times; each time B calls A back (refused: A is busy) and returns.
    assert.equal(await codeOf(a.call('relay_n', new Uint8Array([...u32(20_000), ...encoder.encode('{}')]))), 'FO_SANDBOX_CPU_LIMIT');
    assert.ok(host.served.length < 2 * 20_000, `the chain stopped on A's budget (after ${host.served.length} host calls)`);
    assert.ok(reentries.length > 0 && reentries.every((code) => code === 'FO_ABI_REENTRANT_CALL' || code === 'FO_SANDBOX_CPU_LIMIT'), reentries.slice(0, 5).join(' '));
  });

  for (const route of ['flood', 'flood_indirect'] as const) {
    it(`charges every host call HOST_CALL_FUEL units: an endless loop of forge.time_now (${route === 'flood' ? 'call' : 'call_indirect through a table'}) stops with FO_SANDBOX_CPU_LIMIT after at most budget / HOST_CALL_FUEL calls`, async (t) => {
      const { backend, host } = await setup(t);
      const budget = 1_000_000n;
      const handle = await backend.load(await pluginSpec(FLOOD_GUEST, { fuel: budget, auditLevel: 'all' }));
      assert.equal(await codeOf(handle.call(route, NOTHING)), 'FO_SANDBOX_CPU_LIMIT');
      await handle.unload();
      // At level `all` every allowed host call is an audit record: the count of calls the host served.
      const calls = host.audits.filter((entry) => entry.plugin === handle.id && entry.action === 'forge.time_now' && entry.allowed).length;
      assert.ok(calls <= Number(budget / HOST_CALL_FUEL), `${calls} host calls on a budget of ${budget}: at most ${budget / HOST_CALL_FUEL} can be paid for`);
      // The guest's own instructions per iteration (the loop, forge_alloc for the answer) cost far less than 100 units.
      assert.ok(calls >= Number(budget / (HOST_CALL_FUEL + 100n)), `${calls} host calls: the flood ran until its fuel was spent`);
      assert.ok(host.audits.every((entry) => entry.plugin !== handle.id || entry.allowed), 'nothing was refused on the way');
    });
  }

  it("holds guest stdout to forge.log's rate limit: 100,000 writes make at most burst + rate x elapsed records, and one summary counts the rest", async (t) => {
    const { backend, host } = await setup(t);
    // 50 lines at once, then one every 100 s: the bucket stays empty for the whole test.
    // On the default fuel_per_call (10^9): each write's host call costs HOST_CALL_FUEL, 10^8 units for them all.
    const handle = await backend.load(await pluginSpec(WASI_GUEST, { fuel: DEFAULT_FUEL_PER_CALL, hostCallLimits: { rates: { log: { perSecond: 0.01, burst: 50 } } } }));
    const started = performance.now();
    const errno = readI32(await handle.call('print', new Uint8Array([...u32(100_000), ...u32(1), ...encoder.encode('flood\n')])));
    assert.equal(errno, 0, "every fd_write succeeded: the guest is not told to retry (it would spin)");
    // forge.log draws on the same bucket, now empty.
    assert.equal(await guestCodeOf(handle.call('log', new Uint8Array([2, ...encoder.encode('and me?')]))), 'FO_SYSCALL_RATE_LIMITED');
    await handle.unload();
    const elapsedS = (performance.now() - started) / 1000;
    const lines = host.messagesOf(handle.id, 'stdout');
    assert.ok(lines.length <= 50 + 0.01 * elapsedS, `${lines.length} stdout records for 100,000 lines`);
    assert.ok(lines.every((line) => line === 'flood'));
    const summaries = host.logs.filter((entry) => entry.plugin === handle.id && entry.record.fields['source'] === 'stdio');
    assert.equal(summaries.length, 1, 'one summary, when the plugin stopped');
    assert.equal(lines.length + Number(summaries[0]?.record.fields['suppressed']), 100_000, 'every line is either logged or counted');
  });

  it("keeps each plugin's log budget its own when plugins share their limits: one plugin's flood of forge.log does not silence its neighbour", async (t) => {
    const { backend } = await setup(t);
    // The same limits: a backend may share the resolved (frozen) limits between them, never the buckets.
    const limits = { hostCallLimits: { rates: { log: { perSecond: 0.01, burst: 2 } } } } as const;
    const loud = await backend.load(await pluginSpec(CORE_GUEST, limits));
    const quiet = await backend.load(await pluginSpec(CORE_GUEST, limits));
    const line = (text: string): Uint8Array => new Uint8Array([2, ...encoder.encode(text)]);
    for (let i = 0; i < 2; i += 1) await loud.call('log', line('loud'));
    assert.equal(await guestCodeOf(loud.call('log', line('and more'))), 'FO_SYSCALL_RATE_LIMITED', "the loud plugin's burst is spent");
    for (let i = 0; i < 2; i += 1) assert.deepEqual(await quiet.call('log', line('quiet')), NOTHING, `the neighbour's record ${i + 1} of its own burst of 2`);
    assert.equal(await guestCodeOf(quiet.call('log', line('one too many'))), 'FO_SYSCALL_RATE_LIMITED', 'and its own burst ends where it should');
  });

  it('cuts a line written without a newline: 100 MiB of it make one record of at most 4 KiB that says it was cut', async (t) => {
    const { backend, host } = await setup(t);
    const handle = await backend.load(await pluginSpec(WASI_GUEST, { maxMemoryBytes: 8 << 20 }));
    const chunk = new Uint8Array(65_536).fill(0x61);
    // 1,600 writes of 64 KiB: 100 MiB, not one newline.
    assert.equal(readI32(await handle.call('print', new Uint8Array([...u32(1600), ...u32(2), ...chunk]))), 0);
    await handle.unload();
    const records = host.logs.filter((entry) => entry.plugin === handle.id && entry.record.fields['source'] === 'stderr');
    assert.equal(records.length, 1, `one record for the whole line (found ${records.length})`);
    const record = records[0]?.record;
    assert.equal(record?.fields['truncated'], true);
    assert.ok((record?.message.length ?? Infinity) <= 4096 + 64, `the record holds at most the line's first 4 KiB (${record?.message.length} characters)`);
    assert.ok(record?.message.startsWith('a'.repeat(4096)));
  });
}
