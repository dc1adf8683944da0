/**
 * The one conformance suite every isolation backend runs: calls and payload sizes,
 * lifecycle steps, limits (fuel, memory, wall clock), denials and their audit entries,
 * registered host calls, logs, events, anomalies, traps, unloading and policy updates.
 * A backend's test file calls {@link describeBackendConformance} once.
 *
 * Every test builds its own backend and recording host and closes the backend at the
 * end, so a backend that leaks state between plugins or tests fails here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { codeOf, hasCode } from '@forgeone/common/testing';
import { guestCodeOf } from '../../abi/test-support/guest-code.js';
import type { BackendHost, IsolationBackend } from '../spec.js';
import { describeAuditFolding, describeKilledCallAudit, describeStoppedBurstAudit } from './conformance-fold.js';
import { describeLimitEvasions } from './conformance-limits.js';
import { CORE_GUEST, NOT_A_PLUGIN, RELAY_GUEST, WASI_GUEST, WEATHER_CALL, readI32, u32 } from './guests.js';
import { events } from './outcomes.js';
import { RecordingHost, TEST_POLICY, pluginSpec } from './specs.js';


/** What differs between backends, stated rather than skipped. */
export interface ConformanceOptions {
  /**
   * True when the backend stops a call at its wall-clock limit (pool, process); false
   * when fuel is the only bound and an overrun is logged instead (inline).
   */
  readonly preemptsTimeouts: boolean;
  /**
   * True when a thread of the host relays what runs the plugins (process: the relay reads
   * the sandbox's frames): frames it had not read yet when the sandbox is killed are lost
   * (security.md §40). Default false.
   */
  readonly relayed?: boolean;
}

/** Creates the backend under test for one test, reporting to `host`. */
export type BackendFactory = (host: BackendHost) => IsolationBackend | Promise<IsolationBackend>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const WASI_ENOTCAPABLE = 76;

/** Runs every conformance test against the backend `makeBackend` creates. */
export function describeBackendConformance(name: string, makeBackend: BackendFactory, options: ConformanceOptions): void {
  async function setup(t: TestContext): Promise<{ backend: IsolationBackend; host: RecordingHost }> {
    const host = new RecordingHost();
    const backend = await makeBackend(host);
    t.after(() => backend.close());
    return { backend, host };
  }

  describe(`isolation backend conformance: ${name}`, () => {
    it('returns every output byte for byte, for payloads from 0 B to 8 MiB', async (t) => {
      const { backend } = await setup(t);
      const handle = await backend.load(await pluginSpec(CORE_GUEST));
      for (const size of [0, 1, 16, 4096, 65_537, (1 << 20) + 3, 8 << 20]) {
        const input = new Uint8Array(size);
        for (let i = 0; i < size; i += 1) input[i] = (i * 31 + size) & 0xff;
        const output = await handle.call('echo', input);
        assert.equal(output.length, size, `length at ${size} bytes`);
        assert.ok(Buffer.from(output).equals(Buffer.from(input)), `content at ${size} bytes`);
      }
      assert.equal(handle.stats().calls, 7);
    });

    it('receives a streamed input whole (256 KiB to exactly the 1 MiB slot), never the bytes of an earlier answer left in the slot', async (t) => {
      // From 256 KiB an input that fits the slot is copied after the worker is woken
      // (pool-protocol.ts, WORD.INPUT_READY): whatever reads the slot first must wait for
      // it, or it takes the previous answer's bytes (another plugin's, in a shared sandbox).
      const { backend } = await setup(t);
      const handle = await backend.load(await pluginSpec(CORE_GUEST));
      for (let round = 0; round < 8; round += 1) {
        for (const size of [256 * 1024, 1024 * 1024]) {
          const input = new Uint8Array(size).fill(0x41 + round);
          input[size - 1] = round;
          const output = await handle.call('echo', input);
          assert.equal(output.length, size, `length at ${size} bytes, round ${round}`);
          const wrong = output.findIndex((byte, at) => byte !== input[at]);
          assert.equal(wrong, -1, `first wrong byte of ${size}, round ${round}`);
        }
      }
    });

    it('answers concurrent calls to several plugins, each with its own output and state', async (t) => {
      const { backend } = await setup(t);
      const handles = await Promise.all([0, 1, 2].map(async () => backend.load(await pluginSpec(CORE_GUEST))));
      const results = await Promise.all(handles.flatMap((handle, which) => Array.from({ length: 20 }, (_, i) => handle.call('echo', encoder.encode(`${which}:${i}`)))));
      assert.deepEqual(
        results.map((bytes) => decoder.decode(bytes)),
        handles.flatMap((_, which) => Array.from({ length: 20 }, (__, i) => `${which}:${i}`)),
      );
      const counts = await Promise.all(handles.map((handle) => handle.call('count', new Uint8Array(0))));
      assert.deepEqual(counts.map(readI32), [1, 1, 1], 'each instance has its own counter');
    });

    it('runs the lifecycle entry points the manifest names and reports false for the others', async (t) => {
      const { backend } = await setup(t);
      const handle = await backend.load(await pluginSpec(CORE_GUEST, { entryPoints: { init: 'init', start: 'start', stop: 'stop' } }));
      assert.equal(await handle.lifecycle('init'), true);
      assert.equal(await handle.lifecycle('start'), true);
      assert.equal(await handle.lifecycle('pause'), false, 'the manifest names no pause entry point');
      assert.equal(await codeOf(handle.lifecycle('stop')), 'FO_ABI_LIFECYCLE_FAILED', 'stop returns 3');
      assert.equal(handle.state, 'ready', 'a failing status is not a trap');
      assert.equal(readI32(await handle.call('count', new Uint8Array(0))), 1);
    });

    it('refuses to load a module that is not a forge/1 plugin', async (t) => {
      const { backend } = await setup(t);
      assert.equal(await codeOf(backend.load(await pluginSpec(NOT_A_PLUGIN))), 'FO_ABI_MISSING_EXPORT');
    });

    it('stops a runaway call with FO_SANDBOX_CPU_LIMIT, poisoning only that instance', async (t) => {
      const { backend } = await setup(t);
      const runaway = await backend.load(await pluginSpec(CORE_GUEST, { fuel: 2_000_000n }));
      const neighbour = await backend.load(await pluginSpec(CORE_GUEST, { fuel: 2_000_000n }));
      const seen = events(runaway);
      assert.equal(readI32(await neighbour.call('count', new Uint8Array(0))), 1);
      assert.equal(await codeOf(runaway.call('spin', new Uint8Array(0))), 'FO_SANDBOX_CPU_LIMIT');
      assert.equal(runaway.stats().lastFuelUsed, 2_000_000n, 'the whole budget was used');
      assert.equal(runaway.state, 'poisoned');
      assert.equal(runaway.fault?.code, 'FO_SANDBOX_CPU_LIMIT');
      assert.deepEqual(seen.map((event) => event.type), ['poisoned']);
      assert.equal(await codeOf(runaway.call('echo', new Uint8Array(1))), 'FO_ABI_INSTANCE_POISONED');
      assert.equal(readI32(await neighbour.call('count', new Uint8Array(0))), 2, 'the neighbour kept its state');
      assert.equal(await codeOf(neighbour.call('work', u32(10_000_000))), 'FO_SANDBOX_CPU_LIMIT', 'the budget applies per call');
    });

    it('reports a trap with the ABI code and poisons the instance', async (t) => {
      const { backend } = await setup(t);
      const handle = await backend.load(await pluginSpec(CORE_GUEST));
      assert.equal(await codeOf(handle.call('trap', new Uint8Array(0))), 'FO_ABI_GUEST_TRAP');
      assert.equal(handle.state, 'poisoned');
      assert.equal(handle.fault?.code, 'FO_ABI_GUEST_TRAP');
      assert.equal(await codeOf(handle.call('count', new Uint8Array(0))), 'FO_ABI_INSTANCE_POISONED');
      assert.deepEqual([handle.stats().calls, handle.stats().failures], [1, 1], 'a refused call never ran');
    });

    it('caps memory: memory.grow past the limit returns -1', async (t) => {
      const { backend } = await setup(t);
      const handle = await backend.load(await pluginSpec(CORE_GUEST, { maxMemoryBytes: 4 * 65_536 }));
      assert.equal(readI32(await handle.call('grow', u32(2))), 1, 'from 1 page to 3');
      assert.equal(readI32(await handle.call('grow', u32(2))), -1, '5 pages would pass the 4-page cap');
      assert.equal(readI32(await handle.call('grow', u32(1))), 3);
    });

    it('answers a WASI path climbing out of its preopen with ENOTCAPABLE and audits the refusal with the raw path', async (t) => {
      const { backend, host } = await setup(t);
      const dir = mkdtempSync(join(tmpdir(), 'forge-sandbox-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, 'inside.txt'), 'hello');
      const spec = await pluginSpec(WASI_GUEST, {
        permissions: { filesystem: ['read'], volumes: [{ name: 'data', path: '/data', mode: 'ro' }] },
        policy: { ...TEST_POLICY, grants: { tester: { volumes: { data: { host: dir, mode: 'ro' } } } } },
        preopens: [{ host: dir, guest: '/data', readOnly: true }],
      });
      const handle = await backend.load(spec);
      assert.equal(readI32(await handle.call('open', encoder.encode('inside.txt'))), 0, 'inside the volume');
      assert.equal(readI32(await handle.call('open', encoder.encode('../etc/passwd'))), WASI_ENOTCAPABLE);
      assert.deepEqual(
        host.audits.filter((entry) => entry.plugin === spec.id && entry.action.endsWith('path_open')).map((entry) => [entry.resource, entry.allowed, entry.requested]),
        [
          ['/data/inside.txt', true, 'inside.txt'],
          // Never the lexically normalised /etc/passwd: what was asked for, refused, under the directory it was relative to.
          ['/data', false, '../etc/passwd'],
        ],
      );
    });

    it('refuses forge.kv_get the operator did not grant with FO_ABI_HOST_DENIED and audits the denial', async (t) => {
      const { backend, host } = await setup(t);
      const spec = await pluginSpec(RELAY_GUEST, {
        permissions: { syscalls: ['forge.kv_get', 'forge.emit_event', WEATHER_CALL] },
        policy: { ...TEST_POLICY, grants: { tester: { syscalls: [] } } },
        registered: [WEATHER_CALL],
      });
      const handle = await backend.load(spec);
      assert.equal(await guestCodeOf(handle.call('kv_get', encoder.encode('key'))), 'FO_ABI_HOST_DENIED');
      assert.deepEqual(host.auditOf(spec.id), [['forge.kv_get', 'kv:key', false]]);
      assert.equal(handle.state, 'ready', 'a refusal is not a trap');
    });

    it('serves a registered host call through BackendHost.hostCall after the gate decided it with the named resource', async (t) => {
      const { backend, host } = await setup(t);
      const spec = await pluginSpec(RELAY_GUEST, {
        permissions: { syscalls: [WEATHER_CALL] },
        registered: [{ name: WEATHER_CALL, resource: 'key', requires: 'explicit' }],
      });
      const handle = await backend.load(spec);
      const output = await handle.call('weather', encoder.encode('{"city":"Oslo"}'));
      assert.equal(decoder.decode(output), '{"echo":"{\\"city\\":\\"Oslo\\"}"}');
      assert.deepEqual(host.served, [{ plugin: spec.id, name: WEATHER_CALL, request: '{"city":"Oslo"}' }]);
      assert.deepEqual(host.auditOf(spec.id), [[WEATHER_CALL, 'Oslo', true]]);
      assert.equal(await guestCodeOf(handle.call('weather', encoder.encode('{}'))), 'FO_SYSCALL_INVALID_ARGS', "the host's refusal reaches the plugin");
      host.answer = () => {
        throw new ForgeError('FO_TRUST_DENIED', 'not today');
      };
      assert.equal(await guestCodeOf(handle.call('weather', encoder.encode('{"city":"Rome"}'))), 'FO_TRUST_DENIED');
    });

    it('refuses a registered call the manifest does not list, without reaching the host', async (t) => {
      const { backend, host } = await setup(t);
      const spec = await pluginSpec(RELAY_GUEST, { permissions: { syscalls: ['forge.kv_get', WEATHER_CALL] }, registered: [WEATHER_CALL] });
      const handle = await backend.load({ ...spec, ceiling: { ...spec.ceiling, syscalls: [] } });
      assert.equal(await guestCodeOf(handle.call('weather', encoder.encode('{"city":"Oslo"}'))), 'FO_ABI_HOST_DENIED');
      assert.deepEqual(host.served, []);
      assert.deepEqual(host.auditOf(spec.id), [[WEATHER_CALL, undefined, false]]);
    });

    it('delivers forge.log records to BackendHost.log and events to BackendHost.event', async (t) => {
      const { backend, host } = await setup(t);
      const core = await backend.load(await pluginSpec(CORE_GUEST));
      await core.call('log', new Uint8Array([3, ...encoder.encode('disk almost full')]));
      assert.deepEqual(
        host.logs.filter((entry) => entry.plugin === core.id).map((entry) => [entry.record.level, entry.record.message, entry.record.fields['source']]),
        [['warn', 'disk almost full', 'forge.log']],
      );
      const relay = await backend.load(await pluginSpec(RELAY_GUEST, { permissions: { syscalls: ['forge.emit_event', WEATHER_CALL] }, registered: [WEATHER_CALL] }));
      await relay.call('emit_event', new Uint8Array([...u32(5), ...encoder.encode('ready'), 1, 2, 3]));
      assert.deepEqual(
        host.events.map(({ plugin, event }) => [plugin, event.plugin, event.name, [...event.payload]]),
        [[relay.id, relay.id, 'ready', [1, 2, 3]]],
      );
    });

    it('reports a burst of denials to BackendHost.anomaly', async (t) => {
      const { backend, host } = await setup(t);
      const spec = await pluginSpec(RELAY_GUEST, { permissions: { syscalls: ['forge.kv_get', WEATHER_CALL] }, registered: [WEATHER_CALL], policy: { ...TEST_POLICY, grants: { tester: { syscalls: [] } } } });
      const handle = await backend.load(spec);
      for (let i = 0; i < 20; i += 1) await handle.call('kv_get', encoder.encode('k')).catch(() => undefined);
      assert.deepEqual(
        host.anomalies.map(({ plugin, anomaly }) => [plugin, anomaly.kind, anomaly.call]),
        [[spec.id, 'denial_burst', 'forge.kv_get']],
      );
    });

    it('applies a Cedar forbid added at run time through updatePolicy', async (t) => {
      const { backend, host } = await setup(t);
      const spec = await pluginSpec(RELAY_GUEST, { permissions: { syscalls: [WEATHER_CALL] }, registered: [WEATHER_CALL] });
      const handle = await backend.load(spec);
      assert.equal((await handle.call('time_now', new Uint8Array(0))).length, 16, 'allowed at first');
      await backend.updatePolicy({ ...TEST_POLICY, cedar: { text: 'forbid(principal, action == ForgeOne::Action::"forge.time_now", resource);', mode: 'forbid-only', source: 'test.cedar' } });
      assert.equal(await guestCodeOf(handle.call('time_now', new Uint8Array(0))), 'FO_ABI_HOST_DENIED');
      assert.deepEqual(host.auditOf(spec.id).at(-1), ['forge.time_now', undefined, false]);
      assert.match(host.audits.at(-1)?.reason ?? '', /Cedar/);
      await backend.updatePolicy(TEST_POLICY);
      assert.equal((await handle.call('time_now', new Uint8Array(0))).length, 16, 'allowed again');
      assert.equal(await codeOf(backend.updatePolicy({ ...TEST_POLICY, cedar: { text: 'forbid(', mode: 'forbid-only', source: 'bad.cedar' } })), 'FO_TRUST_POLICY_INVALID');
      assert.equal((await handle.call('time_now', new Uint8Array(0))).length, 16, 'an invalid policy changes nothing');
    });

    it("keeps each plugin's own policy when two plugins differ only in it: neither one's Cedar forbid nor the other's allowance crosses over", async (t) => {
      const { backend } = await setup(t);
      const base = { permissions: { syscalls: [WEATHER_CALL] }, registered: [WEATHER_CALL] } as const;
      const forbid = { ...TEST_POLICY, cedar: { text: 'forbid(principal, action == ForgeOne::Action::"forge.time_now", resource);', mode: 'forbid-only' as const, source: 'test.cedar' } };
      // In both orders: a thread sharing equal parts of specs must tell these two apart.
      const allowedFirst = await backend.load(await pluginSpec(RELAY_GUEST, base));
      const forbidden = await backend.load(await pluginSpec(RELAY_GUEST, { ...base, policy: forbid }));
      const allowedAfter = await backend.load(await pluginSpec(RELAY_GUEST, base));
      assert.equal(await guestCodeOf(forbidden.call('time_now', new Uint8Array(0))), 'FO_ABI_HOST_DENIED');
      assert.equal((await allowedFirst.call('time_now', new Uint8Array(0))).length, 16);
      assert.equal((await allowedAfter.call('time_now', new Uint8Array(0))).length, 16);
      assert.equal(await guestCodeOf(forbidden.call('time_now', new Uint8Array(0))), 'FO_ABI_HOST_DENIED', 'still its own');
    });

    it('refuses audited calls while BackendHost.audit fails (fail closed), and answers them again once it takes records', async (t) => {
      const { backend, host } = await setup(t);
      const handle = await backend.load(await pluginSpec(RELAY_GUEST, { permissions: { syscalls: [WEATHER_CALL] }, registered: [WEATHER_CALL], auditLevel: 'all' }));
      assert.equal((await handle.call('time_now', new Uint8Array(0))).length, 16);
      host.auditFailure = new ForgeError('FO_AUDIT_WRITE_FAILED', 'the disk is full');
      // The first call after the failure may pass where audit entries reach the host
      // asynchronously (pool workers); from the next one on, every backend refuses.
      await handle.call('time_now', new Uint8Array(0)).catch(() => undefined);
      assert.equal(await guestCodeOf(handle.call('time_now', new Uint8Array(0))), 'FO_ABI_HOST_DENIED');
      // The log recovers (space freed): pool workers and sandboxes learn it from the record of
      // their next refusal, which the host's log now takes; from the call after it, answered again.
      host.auditFailure = undefined;
      await handle.call('time_now', new Uint8Array(0)).catch(() => undefined);
      assert.equal((await handle.call('time_now', new Uint8Array(0))).length, 16, 'answered again, without a restart');
      assert.equal((await handle.call('time_now', new Uint8Array(0))).length, 16);
      if (backend.name !== 'inline') {
        const refusals = host.audits.filter((entry) => !entry.allowed && /^refused: the host's audit log was failing/.test(entry.reason ?? ''));
        assert.ok(refusals.length >= 1 && refusals.every((entry) => entry.action === 'forge.time_now'), 'the refusal was recorded, naming the call asked for');
      }
    });

    it('rejects calls after unload with FO_SANDBOX_UNLOADED; unloading twice is fine', async (t) => {
      const { backend } = await setup(t);
      const handle = await backend.load(await pluginSpec(CORE_GUEST));
      const other = await backend.load(await pluginSpec(CORE_GUEST));
      await handle.unload();
      await handle.unload();
      assert.equal(handle.state, 'unloaded');
      assert.equal(await codeOf(handle.call('echo', new Uint8Array(1))), 'FO_SANDBOX_UNLOADED');
      assert.equal(await codeOf(handle.lifecycle('init')), 'FO_SANDBOX_UNLOADED');
      assert.equal(readI32(await other.call('count', new Uint8Array(0))), 1, 'the other plugin is untouched');
      await backend.close();
      assert.equal(await codeOf(other.call('echo', new Uint8Array(1))), 'FO_SANDBOX_UNLOADED', 'closing unloads everything');
      assert.equal(await codeOf(backend.load(await pluginSpec(CORE_GUEST))), 'FO_SANDBOX_CLOSED');
    });

    it('answers callSync, when offered, like call', async (t) => {
      const { backend } = await setup(t);
      const handle = await backend.load(await pluginSpec(CORE_GUEST));
      assert.ok(handle.callSync !== undefined, `${name} offers callSync`);
      assert.equal(decoder.decode(handle.callSync('echo', encoder.encode('sync'))), 'sync');
      assert.equal(readI32(handle.callSync('count', new Uint8Array(0))), 1);
      assert.equal(readI32(await handle.call('count', new Uint8Array(0))), 2);
      assert.throws(() => handle.callSync?.('trap', new Uint8Array(0)), hasCode('FO_ABI_GUEST_TRAP'));
    });

    describeLimitEvasions(setup);
    describeAuditFolding(setup);

    if (options.preemptsTimeouts) {
      describeKilledCallAudit(setup, options.relayed === true);
      describeStoppedBurstAudit(setup);
      it('stops a call blocked past its wall-clock limit with FO_SANDBOX_TIMEOUT', async (t) => {
        const { backend } = await setup(t);
        const handle = await backend.load(await pluginSpec(WASI_GUEST, { timeoutMs: 300 }));
        const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
        assert.equal(await codeOf(handle.call('sleep', u32(60_000))), 'FO_SANDBOX_TIMEOUT');
        assert.equal(handle.state, 'poisoned');
        assert.equal(handle.fault?.code, 'FO_SANDBOX_TIMEOUT');
        assert.equal(await codeOf(handle.call('sleep', u32(1))), 'FO_ABI_INSTANCE_POISONED');
        assert.equal(decoder.decode(await neighbour.call('echo', encoder.encode('still here'))), 'still here');
      });
    } else {
      it('returns a call that ran past its wall-clock limit and logs the overrun', async (t) => {
        const { backend, host } = await setup(t);
        const handle = await backend.load(await pluginSpec(WASI_GUEST, { timeoutMs: 20 }));
        assert.equal(readI32(await handle.call('sleep', u32(60))), 0, 'the call completes');
        assert.equal(handle.state, 'ready');
        assert.equal(host.messagesOf(handle.id, 'sandbox').length, 1);
        assert.match(host.messagesOf(handle.id, 'sandbox')[0] ?? '', /past the plugin's 20 ms limit/);
      });
    }
  });
}
