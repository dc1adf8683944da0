import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BUMP_ALLOCATOR, PACK } from '../../abi/test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { CHILD_SCRIPT } from './sandbox.js';

/** `random`: 32 bytes from WASI random_get, with its errno in front (u32 + 32 bytes). */
const RANDOM_GUEST = `(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  ${PACK}
  (func (export "random") (param $p i32) (param $len i32) (result i64) (local $out i32)
    (local.set $out (call $alloc (i32.const 36)))
    (i32.store (local.get $out) (call $random_get (i32.add (local.get $out) (i32.const 4)) (i32.const 32)))
    (call $pack (local.get $out) (i32.const 36)))
)`;

// Needs bubblewrap, user namespaces and writable cgroups, as backend.test.ts. The sandbox
// bundle loads node:crypto and node:worker_threads on first use (scripts/bundle-sandbox.mjs,
// lazyBuiltins); a sandbox never uses the latter (its loop's port is in-thread).
describe('process backend: modules a sandbox loads on first use', () => {
  it('loads node:crypto only when asked for randomness, and then gives it', async (t) => {
    const bundle = readFileSync(CHILD_SCRIPT, 'utf8');
    for (const module of ['node:crypto', 'node:worker_threads']) {
      const requires = [...bundle.matchAll(new RegExp(`.{0,40}require\\("${module}"\\)`, 'g'))].map((match) => match[0]);
      assert.equal(requires.length, 1, `one require of ${module} in the bundle`);
      assert.match(requires[0] ?? '', /load\d*=\(\)=>loaded\d*\?\?=require/, `${module}: inside the loader of first use`);
    }
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    const handle = await backend.load(await pluginSpec(RANDOM_GUEST, { id: `random-${process.pid}` }));
    const [first, second] = [await handle.call('random', new Uint8Array(0)), await handle.call('random', new Uint8Array(0))];
    for (const answer of [first, second]) {
      assert.equal(answer.length, 36);
      assert.equal(new DataView(answer.buffer, answer.byteOffset).getUint32(0, true), 0, 'errno 0');
    }
    assert.notDeepEqual(first.subarray(4), second.subarray(4), 'two draws differ');
    assert.ok(first.subarray(4).some((byte) => byte !== 0));
  });
});
