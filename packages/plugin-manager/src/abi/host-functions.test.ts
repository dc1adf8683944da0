import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALLOW_ALL_GATE, ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import { FORGE_LOG_MAX_MESSAGE_BYTES, forgeLog } from './forge-log.js';
import { HostFunctionRegistry } from './host-functions.js';
import { defaultHostFunctions } from './instantiate.js';
import { clientGuest } from './test-support/guests.js';
import { RecordingGate, globalOf, load, pattern, recordingLogger, testHostFunctions, utf8 } from './test-support/harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A forge.log request: the level byte, then the message. */
function logRequest(level: number, message: string): Uint8Array {
  const body = utf8(message);
  const out = new Uint8Array(1 + body.length);
  out[0] = level;
  out.set(body, 1);
  return out;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

async function client(options: { gate?: RecordingGate; memory?: string; registry?: HostFunctionRegistry } = {}) {
  const gate = options.gate ?? new RecordingGate();
  const { logger, records } = recordingLogger();
  const runs = { echo: 0, blob: 0 };
  const plugin = await load('client', clientGuest(options.memory), { gate, logger, hostFunctions: options.registry ?? testHostFunctions(runs) });
  return { plugin, gate, records, runs, guestLogs: () => records.filter((record) => record.fields['source'] === 'forge.log') };
}

describe('forge.log', () => {
  const levels = ['trace', 'debug', 'info', 'warn', 'error'] as const;
  for (const [byte, level] of levels.entries()) {
    it(`writes a level ${byte} request to the logger as ${level}, after exactly one gate check`, async () => {
      const { plugin, gate, guestLogs } = await client();
      assert.equal(plugin.call('log', logRequest(byte, `hello at ${level}`)).length, 0, 'forge.log returns an empty result');
      assert.deepEqual(gate.checks, [{ call: 'forge.log', resource: undefined }]);
      assert.deepEqual(
        guestLogs().map((record) => [record.level, record.message]),
        [[level, `hello at ${level}`]],
      );
    });
  }

  it('logs ill-formed UTF-8 with replacement characters', async () => {
    const { plugin, guestLogs } = await client();
    plugin.call('log', new Uint8Array([2, 0x61, 0xff, 0x62]));
    assert.equal(guestLogs()[0]?.message, 'a\ufffdb');
  });

  it('answers an unknown level with an FO_ABI_BAD_REQUEST error payload', async () => {
    const { plugin, guestLogs } = await client();
    assert.throws(() => plugin.call('log', logRequest(5, 'x')), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_BAD_REQUEST' }));
    assert.throws(() => plugin.call('log', new Uint8Array(0)), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_BAD_REQUEST' }));
    assert.equal(guestLogs().length, 0);
  });

  it(`answers a request over ${FORGE_LOG_MAX_MESSAGE_BYTES + 1} bytes with FO_ABI_INPUT_TOO_LARGE, reading nothing`, async () => {
    const { plugin, guestLogs } = await client();
    assert.throws(() => plugin.call('log_huge', new Uint8Array(0)), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_INPUT_TOO_LARGE' }));
    assert.equal(plugin.call('log', logRequest(2, 'x'.repeat(FORGE_LOG_MAX_MESSAGE_BYTES))).length, 0, 'the limit itself is accepted');
    assert.equal(guestLogs().length, 1);
  });

  it('answers a request outside guest memory with FO_ABI_BAD_POINTER and leaves the instance usable', async () => {
    const { plugin } = await client();
    assert.throws(() => plugin.call('log_out_of_bounds', new Uint8Array(0)), (error: unknown) => {
      hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_BAD_POINTER' })(error);
      assert.match(String((error as ForgeError).details['guestMessage']), /forge\.log request at 4294967040 of 16 bytes/);
      return true;
    });
    assert.equal(plugin.fault, undefined);
  });
});

describe('the host-call gate', () => {
  it('denies forge.log: the guest gets FO_ABI_HOST_DENIED without the reason, and the handler never runs', async () => {
    const gate = new RecordingGate((call) => (call === 'forge.log' ? 'policy says no: secret-rule-17' : undefined));
    const { plugin, guestLogs, records } = await client({ gate });
    assert.throws(() => plugin.call('log', logRequest(2, 'let me log')), (error: unknown) => {
      hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_HOST_DENIED', guestMessage: 'host policy denied forge.log' })(error);
      return true;
    });
    assert.equal(guestLogs().length, 0, 'the handler did not run');
    assert.deepEqual(gate.checks, [{ call: 'forge.log', resource: undefined }]);
    assert.deepEqual(
      records.filter((record) => record.message === 'host call denied').map((record) => record.fields['reason']),
      ['policy says no: secret-rule-17'],
      'the operator log keeps the reason',
    );
  });

  it('denies one function and allows another in the same instance', async () => {
    const gate = new RecordingGate((call) => (call === 'forge.echo' ? 'no echo' : undefined));
    const { plugin, runs } = await client({ gate });
    assert.throws(() => plugin.call('echo_host', utf8('x')), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_HOST_DENIED' }));
    assert.equal(runs.echo, 0);
    assert.equal(plugin.call('log', logRequest(2, 'fine')).length, 0);
    assert.deepEqual(
      gate.checks.map((check) => check.call),
      ['forge.echo', 'forge.log'],
    );
  });

  it('asks the gate with the resource a definition derives from the request, after reading it', async () => {
    const gate = new RecordingGate((_call, resource) => (resource === 'kv:forbidden' ? 'no' : undefined));
    const registry = testHostFunctions();
    let ran = 0;
    registry.define({
      name: 'kv_get',
      resource: (request) => `kv:${new TextDecoder().decode(request)}`,
      handler: (request) => {
        ran += 1;
        return request;
      },
    });
    const plugin = await load(
      'kv',
      `(module
        (import "forge" "kv_get" (func $get (param i32 i32) (result i64)))
        (memory (export "memory") 1)
        (global $top (mut i32) (i32.const 4096))
        (func (export "forge_alloc") (param $n i32) (result i32) (local $p i32)
          (local.set $p (global.get $top)) (global.set $top (i32.add (local.get $p) (local.get $n))) (local.get $p))
        (func (export "forge_free") (param i32 i32))
        (func (export "get") (param $p i32) (param $n i32) (result i64) (call $get (local.get $p) (local.get $n)))
        (func (export "get_wild") (param $p i32) (param $n i32) (result i64) (call $get (i32.const 70000) (i32.const 4))))`,
      { gate, hostFunctions: registry },
    );
    assert.equal(new TextDecoder().decode(plugin.call('get', utf8('allowed'))), 'allowed');
    assert.throws(() => plugin.call('get', utf8('forbidden')), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_HOST_DENIED' }));
    assert.throws(() => plugin.call('get_wild', new Uint8Array(0)), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_BAD_POINTER' }));
    assert.deepEqual(gate.checks, [
      { call: 'forge.kv_get', resource: 'kv:allowed' },
      { call: 'forge.kv_get', resource: 'kv:forbidden' },
    ]);
    assert.equal(ran, 1);
  });
});

describe('host function results', () => {
  for (const size of [0, 16, 64 * KiB, 8 * MiB]) {
    it(`delivers ${size} bytes from the host into guest memory and back out`, async () => {
      const { plugin } = await client();
      const input = pattern(size);
      assert.deepEqual(plugin.call('echo_host', input), input);
    });
  }

  it('writes a 1 MiB result after the allocator grew the memory the host had viewed', async () => {
    const { plugin, runs } = await client();
    const before = plugin.memoryBytes;
    const output = plugin.call('blob', u32(MiB));
    assert.ok(before < MiB && plugin.memoryBytes > MiB, 'forge_alloc grew the memory past 1 MiB');
    assert.equal(output.length, MiB);
    assert.equal(output[0], 0);
    assert.equal(output[MiB - 1], (MiB - 1) % 251);
    assert.equal(runs.blob, 1);
    assert.equal(globalOf(plugin, 'frees'), 1, 'the host freed the relayed result region when it read the output');
  });

  it('answers with an error result without payload when the guest cannot allocate the result', async () => {
    const { plugin } = await client({ memory: '1 1' });
    assert.throws(() => plugin.call('blob', u32(2 * 64 * KiB)), hasCode('FO_ABI_GUEST_ERROR', { export: 'blob' }));
    assert.equal(plugin.fault, undefined);
  });

  it('passes a ForgeError from a handler to the guest with its code and message', async () => {
    const registry = new HostFunctionRegistry().define(forgeLog).define({
      name: 'echo',
      handler: () => {
        throw new ForgeError('FO_IO_NOT_FOUND', 'no such key: a');
      },
    });
    registry.define({ name: 'blob', handler: () => new Uint8Array(0) });
    const { plugin } = await client({ registry });
    assert.throws(() => plugin.call('echo_host', utf8('a')), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_IO_NOT_FOUND', guestMessage: 'no such key: a' }));
  });

  it('reports any other handler failure to the guest as FO_INTERNAL_UNEXPECTED and logs the cause only on the host', async () => {
    const registry = new HostFunctionRegistry().define(forgeLog).define({
      name: 'echo',
      handler: () => {
        throw new Error('disk /srv/secret exploded');
      },
    });
    registry.define({ name: 'blob', handler: () => 'not bytes' as unknown as Uint8Array });
    const { plugin, records } = await client({ registry });
    assert.throws(() => plugin.call('echo_host', utf8('a')), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_INTERNAL_UNEXPECTED', guestMessage: 'forge.echo failed inside the host' }));
    assert.throws(() => plugin.call('blob', u32(1)), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_INTERNAL_UNEXPECTED' }));
    const failures = records.filter((record) => record.message === 'host function failed');
    assert.equal(failures.length, 2);
    assert.match(String(failures[0]?.fields['error']), /\/srv\/secret/);
  });
});

describe('HostFunctionRegistry', () => {
  it('holds forge.log by default', () => {
    assert.deepEqual(defaultHostFunctions().names(), ['log']);
  });

  it('refuses malformed names, duplicates and bad limits as FO_ABI_HOST_FUNCTION_DEFINITION', () => {
    const registry = new HostFunctionRegistry().define(forgeLog);
    const handler = () => new Uint8Array(0);
    for (const name of ['', 'Log', 'kv.get', 'a'.repeat(65), 'log']) {
      assert.throws(() => registry.define({ name, handler }), hasCode('FO_ABI_HOST_FUNCTION_DEFINITION'), name);
    }
    assert.throws(() => registry.define({ name: 'x', handler, maxRequestBytes: -1 }), hasCode('FO_ABI_HOST_FUNCTION_DEFINITION'));
    assert.throws(() => registry.define({ name: 'x', handler, maxRequestBytes: 2 ** 30 }), hasCode('FO_ABI_HOST_FUNCTION_DEFINITION'));
    assert.deepEqual(registry.names(), ['log']);
  });

  it('builds an import module holding exactly the defined functions', () => {
    const imports = testHostFunctions().bind({ gate: ALLOW_ALL_GATE }).imports;
    assert.deepEqual(Object.keys(imports).sort(), ['blob', 'echo', 'log']);
    assert.equal(Object.getPrototypeOf(imports), null);
  });

  it('binds only the functions an instance imports when told which: a name that is not defined is not made up', () => {
    const imports = testHostFunctions().bind({ gate: ALLOW_ALL_GATE, only: new Set(['echo', 'nope']) }).imports;
    assert.deepEqual(Object.keys(imports), ['echo']);
  });
});
