import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { ECHO_GUEST, STATIC_ERROR } from './test-support/guests.js';
import { globalOf, load, pattern, text, utf8 } from './test-support/harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [0, 16, 64 * KiB, 8 * MiB];
const HEAP_START = 4096;

function upperReference(input: Uint8Array): Uint8Array {
  return input.map((c) => (c >= 97 && c <= 122 ? c - 32 : c));
}

describe('forge/1 calls round-trip payloads', () => {
  for (const size of SIZES) {
    it(`echoes ${size} bytes unchanged and gives the input region back to the allocator`, async () => {
      const plugin = await load('echo', ECHO_GUEST);
      const input = pattern(size);
      const output = plugin.call('echo', input);
      assert.equal(output.length, size);
      assert.deepEqual(output, input);
      assert.equal(globalOf(plugin, 'heap_top'), HEAP_START, 'forge_free got back exactly the region the output named');
      assert.equal(globalOf(plugin, 'frees'), size === 0 ? 0 : 1, 'an empty input and output touch no allocator');
    });

    it(`upper-cases ${size} bytes in place`, async () => {
      const plugin = await load('echo', ECHO_GUEST);
      const input = pattern(size);
      assert.deepEqual(plugin.call('upper', input), upperReference(input));
    });

    it(`reads back ${size} bytes the plugin wrote after growing its memory during the call`, async () => {
      const plugin = await load('echo', ECHO_GUEST);
      const before = plugin.memoryBytes;
      const input = pattern(size);
      assert.deepEqual(plugin.call('grow', input), input);
      assert.ok(plugin.memoryBytes >= before + 4 * 64 * KiB, 'the memory grew during the call');
    });
  }

  it('returns a fresh copy that later calls do not overwrite', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    const first = plugin.call('echo', utf8('first call'));
    plugin.call('echo', utf8('second call'));
    assert.equal(text(first), 'first call');
  });

  it('copies an input that is a view of the plugin memory before the allocator can grow it', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    const memory = plugin.instance.exports['memory'] as { buffer: ArrayBuffer };
    // 62 KiB from address 0: allocating that much from 4096 up grows the memory,
    // which detaches this very view.
    const view = new Uint8Array(memory.buffer, 0, 62 * KiB);
    view.set(utf8('from inside'), 0);
    const expected = view.slice();
    assert.deepEqual(plugin.call('echo', view), expected);
    assert.equal(view.length, 0, 'the growth detached the caller view, as it should');
  });

  it('calls through a callable bound once, for the hot path', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    const upper = plugin.callable('upper');
    for (let i = 0; i < 1000; i += 1) assert.equal(text(upper(utf8(`call ${i}`))), `CALL ${i}`);
    assert.equal(globalOf(plugin, 'heap_top'), HEAP_START, 'a thousand calls leak nothing');
  });

  it('reads an output from a region the plugin allocated apart from the input', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.equal(text(plugin.call('copy', utf8('copied'))), 'copied');
    assert.equal(globalOf(plugin, 'frees'), 1);
  });

  it('returns an empty output for a zero-length result without calling forge_free', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.equal(plugin.call('empty', utf8('gone')).length, 0);
    assert.equal(globalOf(plugin, 'frees'), 1, 'only the plugin freed its input');
  });

  it('does not free a region the plugin returns with the keep flag', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.equal(text(plugin.call('stored', utf8('in'))), 'hello');
    assert.equal(globalOf(plugin, 'frees'), 1, 'only the plugin freed its input');
  });
});

describe('forge/1 calls with an output receiver', () => {
  it('hands the output to the receiver as a view of guest memory, then frees the region', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    const slot = new Uint8Array(64);
    const length = plugin.callWith('upper', utf8('into a slot'), (output) => {
      assert.equal(globalOf(plugin, 'frees'), 0, 'the region is still allocated while the receiver runs');
      slot.set(output);
      return output.length;
    });
    assert.equal(text(slot.subarray(0, length)), 'INTO A SLOT');
    assert.equal(globalOf(plugin, 'frees'), 1);
    assert.equal(globalOf(plugin, 'heap_top'), HEAP_START);
  });

  it('frees the region and keeps the instance usable when the receiver throws', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    const receive = plugin.callable('echo', () => {
      throw new RangeError('slot too small');
    });
    assert.throws(() => receive(utf8('abc')), RangeError);
    assert.equal(globalOf(plugin, 'heap_top'), HEAP_START);
    assert.equal(plugin.fault, undefined);
    assert.equal(text(plugin.call('echo', utf8('next'))), 'next');
  });

  it('never hands an error payload to the receiver', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    let received = 0;
    assert.throws(() => plugin.callWith('fail', utf8('x'), () => (received += 1)), hasCode('FO_ABI_GUEST_ERROR'));
    assert.equal(received, 0);
  });

  it('hands an empty view to the receiver for an empty output', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.equal(plugin.callWith('empty', utf8('x'), (output) => output.length), 0);
  });
});

describe('forge/1 error payloads', () => {
  const [code, message] = STATIC_ERROR.split('\n') as [string, string];

  it("surfaces a plugin's error payload as FO_ABI_GUEST_ERROR with its code and message", async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.call('fail', utf8('bad')), hasCode('FO_ABI_GUEST_ERROR', { export: 'fail', guestCode: code, guestMessage: message }));
    assert.equal(globalOf(plugin, 'frees'), 1, 'the static payload (keep flag) was not freed; the plugin freed its input');
  });

  it('frees a heap error payload and keeps the instance usable', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.call('fail_heap', utf8('bad')), hasCode('FO_ABI_GUEST_ERROR', { guestCode: code }));
    assert.equal(globalOf(plugin, 'frees'), 2, 'the plugin freed its input, the host the payload');
    assert.equal(globalOf(plugin, 'heap_top'), HEAP_START);
    assert.equal(plugin.fault, undefined);
    assert.equal(text(plugin.call('echo', utf8('still here'))), 'still here');
  });
});

describe('forge/1 lifecycle exports', () => {
  const entryPoints = { init: 'init', start: 'start', stop: 'stop', pause: 'missing_export' } as const;

  it('runs the exports the manifest names and reports a step it names nothing for', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.equal(plugin.runLifecycle('init', entryPoints), true);
    assert.equal(text(plugin.call('state', new Uint8Array(0))), '1');
    assert.equal(plugin.runLifecycle('start', entryPoints), true);
    assert.equal(text(plugin.call('state', new Uint8Array(0))), '2');
    assert.equal(plugin.runLifecycle('resume', entryPoints), false);
  });

  it('reports a non-zero status as FO_ABI_LIFECYCLE_FAILED and stays usable', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.runLifecycle('stop', entryPoints), hasCode('FO_ABI_LIFECYCLE_FAILED', { step: 'stop', export: 'stop', status: 3 }));
    assert.equal(plugin.runLifecycle('init', entryPoints), true);
  });

  it('refuses an entry point the module does not export as FO_ABI_MISSING_EXPORT', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.runLifecycle('pause', entryPoints), hasCode('FO_ABI_MISSING_EXPORT', { step: 'pause' }));
  });

  it('refuses an entry point with the call shape instead of () -> i32 as FO_ABI_BAD_SIGNATURE', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.runLifecycle('unload', { unload: 'echo' }), hasCode('FO_ABI_BAD_SIGNATURE'));
  });

  it('runs _initialize exactly once, before the first call or step', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.equal(globalOf(plugin, 'initialized'), 0, 'instantiation alone does not run it');
    plugin.runLifecycle('init', entryPoints);
    plugin.call('echo', utf8('a'));
    plugin.call('echo', utf8('b'));
    assert.equal(globalOf(plugin, 'initialized'), 1);
  });
});

describe('forge/1 call limits and misuse', () => {
  it('refuses an input over maxInputBytes before allocating anything', async () => {
    const plugin = await load('echo', ECHO_GUEST, { limits: { maxInputBytes: 15 } });
    assert.throws(() => plugin.call('echo', pattern(16)), hasCode('FO_ABI_INPUT_TOO_LARGE', { limit: 15, actual: 16 }));
    assert.equal(globalOf(plugin, 'heap_top'), HEAP_START);
    assert.deepEqual(plugin.call('echo', pattern(15)), pattern(15));
  });

  it('refuses an output over maxOutputBytes, frees it, and stays usable', async () => {
    const plugin = await load('echo', ECHO_GUEST, { limits: { maxOutputBytes: 8 } });
    assert.throws(() => plugin.call('echo', pattern(9)), hasCode('FO_ABI_OUTPUT_TOO_LARGE', { limit: 8, actual: 9 }));
    assert.equal(globalOf(plugin, 'heap_top'), HEAP_START, 'the refused output went back to the allocator');
    assert.deepEqual(plugin.call('echo', pattern(8)), pattern(8));
  });

  it('refuses an error payload over maxErrorBytes', async () => {
    const plugin = await load('echo', ECHO_GUEST, { limits: { maxErrorBytes: 10 } });
    assert.throws(() => plugin.call('fail', utf8('x')), hasCode('FO_ABI_OUTPUT_TOO_LARGE', { error: true, limit: 10 }));
  });

  it('refuses a function the plugin does not export as FO_ABI_NO_SUCH_EXPORT', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.call('nope', utf8('x')), hasCode('FO_ABI_NO_SUCH_EXPORT', { export: 'nope' }));
    assert.throws(() => plugin.callable('__proto__'), hasCode('FO_ABI_NO_SUCH_EXPORT'));
  });

  it('refuses exports that do not have the call shape as FO_ABI_BAD_SIGNATURE', async () => {
    const plugin = await load('echo', ECHO_GUEST);
    assert.throws(() => plugin.call('not_abi', utf8('x')), hasCode('FO_ABI_BAD_SIGNATURE'));
    assert.throws(() => plugin.call('memory', utf8('x')), hasCode('FO_ABI_BAD_SIGNATURE'));
    assert.throws(() => plugin.call('forge_alloc', utf8('x')), hasCode('FO_ABI_BAD_SIGNATURE'));
    assert.throws(() => plugin.call('i32_result', new Uint8Array(0)), hasCode('FO_ABI_BAD_SIGNATURE'));
    assert.equal(plugin.fault, undefined);
  });
});
