import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALLOW_ALL_GATE, type ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import type { HostBinding, HostFunctionRegistry } from './host-functions.js';
import { AbiInstance } from './instance.js';
import { instantiateAbi } from './instantiate.js';
import {
  ECHO_GUEST,
  HOSTILE_RESULTS_GUEST,
  NO_ABI_GUEST,
  START_CALLS_HOST_GUEST,
  UNKNOWN_IMPORT_GUEST,
  WRONG_ALLOCATOR_SHAPE_GUEST,
  WRONG_IMPORT_RESULT_GUEST,
  WRONG_IMPORT_TYPE_GUEST,
  assemble,
  hostileAllocatorGuest,
} from './test-support/guests.js';
import { load, recordingLogger, setGlobal, testHostFunctions, text, utf8 } from './test-support/harness.js';
import { wasm } from './wasm-api.js';

const PAGE = 65_536;

describe('forge/1 refuses out-of-bounds results and poisons the instance', () => {
  const cases = [
    { name: 'past_end', what: 'an output that starts at the end of memory', ptr: PAGE, length: 16 },
    { name: 'wraps', what: 'an output whose end overflows 32 bits', ptr: 0xfffffff0, length: 32 },
    { name: 'huge', what: 'an output of 2^30 - 1 bytes', ptr: 0, length: 0x3fffffff },
    { name: 'error_past_end', what: 'an error payload past the end of memory', ptr: PAGE, length: 16 },
  ];
  for (const { name, what, ptr, length } of cases) {
    it(`refuses ${what} as FO_ABI_BAD_POINTER, then refuses every call as FO_ABI_INSTANCE_POISONED`, async () => {
      const plugin = await load('hostile-results', HOSTILE_RESULTS_GUEST);
      assert.throws(() => plugin.call(name, utf8('x')), hasCode('FO_ABI_BAD_POINTER', { export: name, ptr, length }));
      assert.equal(plugin.fault?.code, 'FO_ABI_BAD_POINTER');
      assert.throws(() => plugin.call('big', new Uint8Array(0)), hasCode('FO_ABI_INSTANCE_POISONED'));
      assert.throws(() => plugin.runLifecycle('stop', { stop: 'stop' }), hasCode('FO_ABI_INSTANCE_POISONED'));
    });
  }

  it('checks the output cap only after the bounds, so a huge in-bounds claim is still a bad pointer', async () => {
    const plugin = await load('hostile-results', HOSTILE_RESULTS_GUEST, { limits: { maxOutputBytes: 10 } });
    assert.throws(() => plugin.call('huge', new Uint8Array(0)), hasCode('FO_ABI_BAD_POINTER'));
  });

  it('refuses an in-bounds output over the cap as FO_ABI_OUTPUT_TOO_LARGE without poisoning', async () => {
    const plugin = await load('hostile-results', HOSTILE_RESULTS_GUEST, { limits: { maxOutputBytes: 999, maxErrorBytes: 999 } });
    assert.throws(() => plugin.call('big', new Uint8Array(0)), hasCode('FO_ABI_OUTPUT_TOO_LARGE', { actual: 1000, error: false }));
    assert.throws(() => plugin.call('big_error', new Uint8Array(0)), hasCode('FO_ABI_OUTPUT_TOO_LARGE', { actual: 1000, error: true }));
    assert.equal(plugin.fault, undefined);
  });
});

describe('forge/1 refuses malformed error payloads', () => {
  it('refuses an error code with a space and a bang as FO_ABI_BAD_ERROR_PAYLOAD', async () => {
    const plugin = await load('hostile-results', HOSTILE_RESULTS_GUEST);
    assert.throws(() => plugin.call('bad_code', new Uint8Array(0)), hasCode('FO_ABI_BAD_ERROR_PAYLOAD', { problem: 'the code has a byte outside A-Z a-z 0-9 _ . : -' }));
  });

  it('refuses an error payload with an empty code as FO_ABI_BAD_ERROR_PAYLOAD', async () => {
    const plugin = await load('hostile-results', HOSTILE_RESULTS_GUEST);
    assert.throws(() => plugin.call('empty_code', new Uint8Array(0)), hasCode('FO_ABI_BAD_ERROR_PAYLOAD', { problem: 'the code is empty' }));
    assert.equal(plugin.fault, undefined, 'a malformed payload breaks no memory invariant');
  });
});

describe('forge/1 refuses a garbage allocator', () => {
  it('refuses forge_alloc returning 0xFFFF0000 as FO_ABI_BAD_ALLOC and poisons the instance', async () => {
    const plugin = await load('hostile-alloc', hostileAllocatorGuest(), { hostFunctions: testHostFunctions() });
    setGlobal(plugin, 'mode', 1);
    assert.throws(() => plugin.call('echo', utf8('0123456789abcdef')), hasCode('FO_ABI_BAD_ALLOC', { ptr: 0xffff0000, length: 16 }));
    setGlobal(plugin, 'mode', 0);
    assert.throws(() => plugin.call('echo', utf8('x')), hasCode('FO_ABI_INSTANCE_POISONED'));
  });

  it('refuses forge_alloc returning a region that overruns memory by 8 bytes as FO_ABI_BAD_ALLOC', async () => {
    const plugin = await load('hostile-alloc', hostileAllocatorGuest(), { hostFunctions: testHostFunctions() });
    setGlobal(plugin, 'mode', 3);
    assert.throws(() => plugin.call('echo', utf8('0123456789abcdef')), hasCode('FO_ABI_BAD_ALLOC', { ptr: PAGE - 8, memoryBytes: PAGE }));
  });

  it('reports forge_alloc returning 0 as FO_ABI_GUEST_OUT_OF_MEMORY and keeps the instance', async () => {
    const plugin = await load('hostile-alloc', hostileAllocatorGuest(), { hostFunctions: testHostFunctions() });
    setGlobal(plugin, 'mode', 2);
    assert.throws(() => plugin.call('echo', utf8('x')), hasCode('FO_ABI_GUEST_OUT_OF_MEMORY', { length: 1 }));
    setGlobal(plugin, 'mode', 0);
    assert.equal(text(plugin.call('echo', utf8('after'))), 'after');
  });

  it('reports a trap inside forge_alloc as FO_ABI_GUEST_TRAP', async () => {
    const plugin = await load('hostile-alloc', hostileAllocatorGuest(), { hostFunctions: testHostFunctions() });
    setGlobal(plugin, 'mode', 4);
    assert.throws(() => plugin.call('echo', utf8('x')), hasCode('FO_ABI_GUEST_TRAP', { where: 'forge_alloc' }));
    assert.equal(plugin.fault?.code, 'FO_ABI_GUEST_TRAP');
  });

  it('refuses a host call made from inside forge_alloc as FO_ABI_REENTRANT_CALL', async () => {
    const { logger, records } = recordingLogger();
    const plugin = await load('hostile-alloc', hostileAllocatorGuest(), { hostFunctions: testHostFunctions(), logger });
    setGlobal(plugin, 'mode', 5);
    assert.throws(() => plugin.call('echo', utf8('x')), hasCode('FO_ABI_REENTRANT_CALL', { call: 'forge.log' }));
    assert.equal(records.filter((record) => record.fields['source'] === 'forge.log').length, 0, 'forge.log never ran');
  });

  it('still refuses a call whose guest caught the fatal host exception with catch_all and returned normally', async (t) => {
    let module;
    try {
      module = await assemble('hostile-alloc-eh', hostileAllocatorGuest(true), { exceptions: true });
    } catch (error) {
      // Engines may one day drop the legacy exception-handling encoding wabt emits.
      t.skip(`this engine cannot compile legacy wasm exception handling: ${(error as Error).message}`);
      return;
    }
    const runs = { echo: 0, blob: 0 };
    const plugin = instantiateAbi(module, { gate: ALLOW_ALL_GATE, hostFunctions: testHostFunctions(runs) });
    assert.throws(() => plugin.call('swallow', new Uint8Array(0)), hasCode('FO_ABI_BAD_ALLOC', { ptr: 0xffff0000 }));
    assert.equal(runs.echo, 1, 'the host function ran and its result could not be delivered');
    assert.throws(() => plugin.call('echo', utf8('x')), hasCode('FO_ABI_INSTANCE_POISONED'));
  });
});

describe('forge/1 refuses traps and broken modules', () => {
  it('reports a trap as FO_ABI_GUEST_TRAP with the engine message, then refuses further calls', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.call('crash', utf8('x')), (error: unknown) => {
      hasCode('FO_ABI_GUEST_TRAP', { where: 'plugin export "crash"' })(error);
      assert.ok((error as ForgeError).cause instanceof Error, 'the engine error is kept as the cause');
      assert.match(String((error as ForgeError).details['trap']), /unreachable/);
      return true;
    });
    assert.throws(() => plugin.call('echo', utf8('x')), hasCode('FO_ABI_INSTANCE_POISONED'));
    assert.throws(() => plugin.call('echo', utf8('x')), (error: unknown) => {
      assert.equal((error as ForgeError).details['fault'] && ((error as ForgeError).details['fault'] as { code: string }).code, 'FO_ABI_GUEST_TRAP');
      return true;
    });
  });

  it('refuses a module without memory, forge_alloc and forge_free as FO_ABI_MISSING_EXPORT, listing all three', async () => {
    await assert.rejects(
      load('no-abi', NO_ABI_GUEST),
      hasCode('FO_ABI_MISSING_EXPORT', { problems: ['memory: not exported', 'forge_alloc: not exported', 'forge_free: not exported'] }),
    );
  });

  it('refuses an allocator with the wrong parameter counts as FO_ABI_BAD_SIGNATURE', async () => {
    await assert.rejects(
      load('wrong-alloc', WRONG_ALLOCATOR_SHAPE_GUEST),
      hasCode('FO_ABI_BAD_SIGNATURE', { problems: ['forge_alloc: expected 1 parameters, found 0', 'forge_free: expected 2 parameters, found 1'] }),
    );
  });

  it('refuses a module importing an undefined forge function as FO_ABI_UNRESOLVED_IMPORT', async () => {
    await assert.rejects(load('unknown-import', UNKNOWN_IMPORT_GUEST), hasCode('FO_ABI_UNRESOLVED_IMPORT', { missing: ['forge.launch_missiles'] }));
  });

  it('refuses a forge import declared with i64 parameters as FO_ABI_BAD_SIGNATURE when called', async () => {
    const plugin = await load('wrong-import', WRONG_IMPORT_TYPE_GUEST);
    assert.throws(() => plugin.call('run', new Uint8Array(0)), hasCode('FO_ABI_BAD_SIGNATURE', { call: 'forge.log' }));
    assert.equal(plugin.fault?.code, 'FO_ABI_BAD_SIGNATURE');
  });

  it('stops a guest that declared a forge import with an i32 result as FO_ABI_GUEST_TRAP', async () => {
    const { logger, records } = recordingLogger();
    const plugin = await load('wrong-import-result', WRONG_IMPORT_RESULT_GUEST, { logger });
    assert.throws(() => plugin.call('run', new Uint8Array([2, 0x68, 0x69])), hasCode('FO_ABI_GUEST_TRAP'));
    assert.equal(plugin.fault?.code, 'FO_ABI_GUEST_TRAP');
    assert.equal(records.filter((record) => record.fields['source'] === 'forge.log').length, 1, 'the host function ran; its answer could not be converted');
  });

  it('refuses host functions bound without a gate', () => {
    assert.throws(() => testHostFunctions().bind({} as Parameters<HostFunctionRegistry['bind']>[0]), hasCode('FO_INTERNAL_UNEXPECTED'));
  });

  it('refuses a host call from the start function as FO_ABI_HOST_CALL_IN_START', async () => {
    await assert.rejects(load('start-calls-host', START_CALLS_HOST_GUEST), hasCode('FO_ABI_HOST_CALL_IN_START', { call: 'forge.log' }));
  });

  it('refuses imports that already hold a forge module as FO_ABI_HOST_FUNCTION_DEFINITION', async () => {
    const module = await assemble('echo', ECHO_GUEST);
    assert.throws(() => instantiateAbi(module, { gate: ALLOW_ALL_GATE, imports: { forge: {} } }), hasCode('FO_ABI_HOST_FUNCTION_DEFINITION'));
  });

  it('refuses a call from inside a running call as FO_ABI_REENTRANT_CALL', async () => {
    const registry = testHostFunctions();
    const module = await assemble(
      'reenter',
      `(module
        (import "forge" "reenter" (func $reenter (param i32 i32) (result i64)))
        (memory (export "memory") 1)
        (func (export "forge_alloc") (param i32) (result i32) (i32.const 1024))
        (func (export "forge_free") (param i32 i32))
        (func (export "run") (param i32 i32) (result i64) (call $reenter (i32.const 0) (i32.const 0))))`,
    );
    const binding: HostBinding = registry
      .define({
        name: 'reenter',
        handler: (): Uint8Array => plugin.call('run', utf8('again')),
      })
      .bind({ gate: ALLOW_ALL_GATE });
    const plugin: AbiInstance = new AbiInstance(new wasm.Instance(module, { forge: binding.imports }), { hostBinding: binding });
    assert.throws(() => plugin.call('run', new Uint8Array(0)), hasCode('FO_ABI_GUEST_ERROR', { guestCode: 'FO_ABI_REENTRANT_CALL' }));
    assert.equal(plugin.fault, undefined, 'the refusal went to the guest as an error payload');
  });
});
