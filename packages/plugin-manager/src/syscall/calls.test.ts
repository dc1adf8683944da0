import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import type { HostClock } from './clock.js';
import type { PluginEvent } from './events.js';
import { FORGE_HOST_FUNCTION_NAMES, createForgeHostFunctions } from './forge-host.js';
import { DEFAULT_HOST_CALL_LIMITS } from './limits.js';
import { recordingPolicy } from '@forgeone/microkernel/testing';
import { bytes, emitEvent, fileWrite, httpRequest, kvList, kvSet, relayPlugin, u32 } from './test-support/plugin.js';

const roots: string[] = [];
after(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

/** A clock that moves only when told. */
function fakeClock(): { clock: HostClock; advance(ms: number): void } {
  let ms = 5_000;
  return {
    clock: { wallNs: () => BigInt(1_700_000_000_000 + ms) * 1_000_000n, monotonicNs: () => BigInt(ms) * 1_000_000n + 123n },
    advance: (by) => {
      ms += by;
    },
  };
}

/** A forge.log request. */
function log(level: number, message: string): Uint8Array {
  return new Uint8Array([level, ...bytes(message)]);
}

describe('every forge.* call under policy', () => {
  it('answers each call policy denies with FO_ABI_HOST_DENIED, runs nothing, and audits every denial with its resource', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-denied-'));
    roots.push(dir);
    const events: PluginEvent[] = [];
    const plugin = await relayPlugin(
      { kvDirectory: join(dir, 'kv'), config: { db_password: 'hunter2', region: 'eu' }, events: (event) => events.push(event) },
      {
        // An empty ceiling: no explicit calls, no network, no files. Cedar forbids the rest.
        cedar: `
          forbid(principal, action == ForgeOne::Action::"forge.log", resource);
          forbid(principal, action == ForgeOne::Action::"forge.time_now", resource);
          forbid(principal, action == ForgeOne::Action::"forge.random_get", resource);
          forbid(principal, action == ForgeOne::Action::"forge.config_get", resource) when { resource.key == "db_password" };`,
      },
    );
    const requests: [string, Uint8Array, string | undefined][] = [
      ['log', log(2, 'hi'), undefined],
      ['config_get', bytes('db_password'), 'db_password'],
      ['kv_get', bytes('k'), 'kv:k'],
      ['kv_set', kvSet('k', 'v'), 'kv:k'],
      ['kv_delete', bytes('k'), 'kv:k'],
      ['kv_list', kvList('user/'), 'kv:user/*'],
      ['http_request', httpRequest({ url: 'https://api.example.com/v1' }), 'api.example.com:443'],
      ['file_read', bytes('/data/x'), '/data/x'],
      ['file_write', fileWrite('/data/x', 'v'), '/data/x'],
      ['emit_event', emitEvent('job.done', '{}'), 'event:job.done'],
      ['time_now', new Uint8Array(0), undefined],
      ['random_get', u32(16), undefined],
    ];
    assert.deepEqual(
      requests.map(([name]) => name).sort(),
      [...FORGE_HOST_FUNCTION_NAMES].sort(),
      'every host function is exercised',
    );
    for (const [name, request] of requests) assert.equal(plugin.code(name, request), 'FO_ABI_HOST_DENIED', name);
    assert.deepEqual(
      plugin.policy.denials(),
      requests.map(([name, , resource]) => [`forge.${name}`, resource]),
    );
    assert.equal(new TextDecoder().decode(plugin.call('config_get', bytes('region'))), 'eu', 'what policy does not forbid still works');
    assert.deepEqual(events, []);
    assert.equal(plugin.host.kvUsage(), undefined, 'the store was never even opened');
    assert.equal(plugin.logs.filter((record) => record.fields['source'] === 'forge.log').length, 0);
  });

  it('tells the guest that policy refused, never why', async () => {
    const plugin = await relayPlugin({}, {});
    const failure = plugin.failure('emit_event', emitEvent('x'));
    assert.equal(failure.code, 'FO_ABI_HOST_DENIED');
    assert.doesNotMatch(failure.message, /permissions\.syscalls/);
    assert.match(plugin.policy.audit[0]?.reason ?? '', /permissions\.syscalls/, 'the operator sees the reason in the audit');
  });
});

describe('forge.config_get', () => {
  it('returns the configured value, FO_SYSCALL_CONFIG_NOT_FOUND for an unknown key and FO_ABI_BAD_REQUEST for a malformed one', async () => {
    const plugin = await relayPlugin({ config: new Map([['greeting', 'grüß dich'], ['empty', '']]) });
    assert.equal(new TextDecoder().decode(plugin.call('config_get', bytes('greeting'))), 'grüß dich');
    assert.equal(plugin.call('config_get', bytes('empty')).length, 0);
    assert.equal(plugin.code('config_get', bytes('missing')), 'FO_SYSCALL_CONFIG_NOT_FOUND');
    assert.equal(plugin.code('config_get', new Uint8Array(0)), 'FO_ABI_BAD_REQUEST');
    assert.equal(plugin.code('config_get', Uint8Array.of(0xc0)), 'FO_ABI_BAD_REQUEST');
    assert.equal(plugin.code('config_get', bytes('x'.repeat(257))), 'FO_ABI_INPUT_TOO_LARGE');
    assert.deepEqual(
      plugin.policy.audit.map((entry) => [entry.resource, entry.allowed]),
      [
        ['greeting', true],
        ['empty', true],
        ['missing', true],
        // The oversized request was refused before its key could be read: a limit refusal, audited.
        [undefined, false],
      ],
      'the gate sees the key',
    );
    assert.match(plugin.policy.audit[3]?.reason ?? '', /^FO_ABI_INPUT_TOO_LARGE: /);
  });
});

describe('forge.emit_event', () => {
  const ceiling = { syscalls: ['forge.emit_event'] };

  it('hands the event to the sink with the plugin name, a copy of the payload and the time', async () => {
    const events: PluginEvent[] = [];
    const { clock } = fakeClock();
    const plugin = await relayPlugin({ events: (event) => events.push(event), clock }, { ceiling });
    plugin.call('emit_event', emitEvent('job.done', Uint8Array.of(0, 1, 255)));
    assert.deepEqual(events, [{ plugin: 'acme/tester@1.0.0', name: 'job.done', payload: Uint8Array.of(0, 1, 255), time: 1_700_000_005_000 }]);
    assert.deepEqual(plugin.policy.audit.map((entry) => entry.resource), ['event:job.done']);
  });

  it('refuses bad names and oversize payloads, and answers FO_SYSCALL_NOT_CONFIGURED without a sink', async () => {
    const plugin = await relayPlugin({ events: () => {}, limits: { maxEventPayloadBytes: 8 } }, { ceiling });
    for (const name of ['', 'Job', '.x', 'a b', 'x'.repeat(129)]) assert.equal(plugin.code('emit_event', emitEvent(name)), 'FO_SYSCALL_EVENT_BAD_NAME', JSON.stringify(name));
    assert.equal(plugin.code('emit_event', emitEvent('x'.repeat(128))), 'ok');
    assert.equal(plugin.code('emit_event', emitEvent('big', '123456789')), 'FO_SYSCALL_PAYLOAD_TOO_LARGE');
    const unsunk = await relayPlugin({}, { ceiling });
    assert.equal(unsunk.code('emit_event', emitEvent('x')), 'FO_SYSCALL_NOT_CONFIGURED');
  });

  it('rate-limits per plugin with a token bucket: a burst passes, then FO_SYSCALL_RATE_LIMITED until tokens flow back', async () => {
    const events: PluginEvent[] = [];
    const time = fakeClock();
    const plugin = await relayPlugin({ events: (event) => events.push(event), clock: time.clock, limits: { rates: { emit_event: { perSecond: 2, burst: 3 } } } }, { ceiling });
    for (let i = 0; i < 3; i += 1) assert.equal(plugin.code('emit_event', emitEvent('tick')), 'ok');
    const limited = plugin.failure('emit_event', emitEvent('tick'));
    assert.equal(limited.code, 'FO_SYSCALL_RATE_LIMITED');
    assert.match(limited.message, /2 calls per second \(burst 3\); the next call can succeed in 500 ms/);
    assert.equal(events.length, 3, 'the limited call delivered nothing');
    time.advance(499);
    assert.equal(plugin.code('emit_event', emitEvent('tick')), 'FO_SYSCALL_RATE_LIMITED');
    time.advance(1);
    assert.equal(plugin.code('emit_event', emitEvent('tick')), 'ok');
    assert.equal(events.length, 4);
    assert.equal(plugin.code('emit_event', emitEvent('tick')), 'FO_SYSCALL_RATE_LIMITED');
    // A run of limit refusals is audited once (a looping guest cannot flood the audit log), and again after a success.
    const refusals = plugin.policy.audit.filter((entry) => !entry.allowed);
    assert.deepEqual(
      refusals.map((entry) => [entry.action, entry.reason.split(':')[0]]),
      [
        ['forge.emit_event', 'FO_SYSCALL_RATE_LIMITED'],
        ['forge.emit_event', 'FO_SYSCALL_RATE_LIMITED'],
      ],
    );
  });
});

describe('forge.log rate limit', () => {
  it('drops records over the limit with FO_SYSCALL_RATE_LIMITED and reports the count once logging resumes', async () => {
    const time = fakeClock();
    const plugin = await relayPlugin({ clock: time.clock, limits: { rates: { log: { perSecond: 1, burst: 2 } } } });
    for (const message of ['one', 'two']) assert.equal(plugin.code('log', log(2, message)), 'ok');
    assert.equal(plugin.code('log', log(2, 'three')), 'FO_SYSCALL_RATE_LIMITED');
    assert.equal(plugin.code('log', log(2, 'four')), 'FO_SYSCALL_RATE_LIMITED');
    time.advance(1000);
    assert.equal(plugin.code('log', log(2, 'five')), 'ok');
    assert.deepEqual(
      plugin.logs.filter((record) => record.fields['source'] === 'forge.log').map((record) => [record.level, record.message]),
      [
        ['info', 'one'],
        ['info', 'two'],
        ['warn', "the plugin's log rate limit dropped 2 forge.log records"],
        ['info', 'five'],
      ],
    );
  });

  it('keeps the plain forge.log when its rate limit is off', async () => {
    const plugin = await relayPlugin({ limits: { rates: { log: 'off' } } });
    for (let i = 0; i < 1100; i += 1) assert.equal(plugin.code('log', log(0, 'x')), 'ok');
  });
});

describe('forge.time_now', () => {
  it('returns wall-clock and monotonic nanoseconds, little-endian', async () => {
    const time = fakeClock();
    const plugin = await relayPlugin({ clock: time.clock });
    const first = new DataView(plugin.call('time_now').buffer);
    assert.equal(first.byteLength, 16);
    assert.equal(first.getBigUint64(0, true), 1_700_000_005_000_000_000n);
    assert.equal(first.getBigUint64(8, true), 5_000_000_123n);
    time.advance(250);
    assert.equal(new DataView(plugin.call('time_now').buffer).getBigUint64(8, true), 5_250_000_123n);
    assert.equal(plugin.code('time_now', Uint8Array.of(1)), 'FO_ABI_INPUT_TOO_LARGE');
  });

  it('reads the system clocks by default: wall time near Date.now(), monotonic time increasing', async () => {
    const plugin = await relayPlugin();
    const before = BigInt(Date.now()) * 1_000_000n;
    const a = new DataView(plugin.call('time_now').buffer);
    const b = new DataView(plugin.call('time_now').buffer);
    const after = BigInt(Date.now()) * 1_000_000n;
    assert.ok(a.getBigUint64(0, true) >= before && a.getBigUint64(0, true) <= after);
    assert.ok(b.getBigUint64(8, true) >= a.getBigUint64(8, true));
  });
});

describe('forge.random_get', () => {
  it('returns the bytes asked for, different each time', async () => {
    const plugin = await relayPlugin();
    const a = plugin.call('random_get', u32(64));
    const b = plugin.call('random_get', u32(64));
    assert.equal(a.length, 64);
    assert.notDeepEqual(a, b);
    assert.equal(plugin.call('random_get', u32(0)).length, 0);
  });

  it('never hands out the same bytes twice, across refills of its pool', async () => {
    const plugin = await relayPlugin();
    const seen = new Set<string>();
    for (let i = 0; i < 600; i += 1) seen.add(Buffer.from(plugin.call('random_get', u32(16))).toString('hex'));
    assert.equal(seen.size, 600);
  });

  it('refuses counts over the limit and malformed requests', async () => {
    const plugin = await relayPlugin({ limits: { maxRandomBytes: 1024 } });
    assert.equal(plugin.call('random_get', u32(1024)).length, 1024);
    assert.equal(plugin.code('random_get', u32(1025)), 'FO_SYSCALL_PAYLOAD_TOO_LARGE');
    assert.equal(plugin.code('random_get', Uint8Array.of(1, 0, 0)), 'FO_ABI_BAD_REQUEST');
    assert.equal(plugin.code('random_get', new Uint8Array(0)), 'FO_ABI_BAD_REQUEST');
  });
});

describe('createForgeHostFunctions', () => {
  it('defines every documented call, and refuses to serve after close', async () => {
    const plugin = await relayPlugin({ config: { a: 'b' } });
    assert.deepEqual(
      plugin.host.definitions.map((definition) => definition.name),
      [...FORGE_HOST_FUNCTION_NAMES],
    );
    plugin.host.close();
    plugin.host.close();
    assert.equal(plugin.code('config_get', bytes('a')), 'FO_SYSCALL_NOT_CONFIGURED');
    assert.equal(plugin.code('time_now'), 'FO_SYSCALL_NOT_CONFIGURED');
  });

  it('reports every malformed option at once', () => {
    assert.throws(
      () =>
        createForgeHostFunctions({
          plugin: '',
          gate: recordingPolicy().gate,
          config: { n: 1 as unknown as string },
          limits: { kv: { maxKeyBytes: 0, maxTotalBytes: -1 }, http: { defaultTimeoutMs: 1.5 }, rates: { log: { perSecond: 0, burst: 1 } } },
        }),
      (error: unknown) => {
        assert.ok(ForgeError.is(error, 'FO_SYSCALL_INVALID_OPTIONS'));
        const problems = error.details['problems'] as string[];
        for (const expected of ['plugin:', 'config.n', 'limits.kv.maxKeyBytes', 'limits.kv.maxTotalBytes', 'limits.http.defaultTimeoutMs', 'limits.rates.log']) {
          assert.ok(problems.some((problem) => problem.startsWith(expected)), `${expected} in ${problems.join(' | ')}`);
        }
        return true;
      },
    );
  });

  it('documents its defaults in DEFAULT_HOST_CALL_LIMITS and keeps them frozen', () => {
    assert.ok(Object.isFrozen(DEFAULT_HOST_CALL_LIMITS) && Object.isFrozen(DEFAULT_HOST_CALL_LIMITS.kv));
    assert.equal(DEFAULT_HOST_CALL_LIMITS.kv.maxValueBytes, 1024 * 1024);
  });
});
