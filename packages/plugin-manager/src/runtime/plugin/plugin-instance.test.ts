import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALLOW_ALL_GATE } from '@forgeone/common';
import { codeOfSync, rejectsWithCode } from '@forgeone/common/testing';
import { parsePluginToml, type Permissions } from '../../plugin/index.js';
import { collectOutput } from '../wasi-p1/index.js';
import { CompileCache } from '../wasm/index.js';
import { assembleWat } from '../../test-support/wat.js';
import { PluginInstance, importPolicy, prepareModule } from './index.js';

/** A forge/1 guest: bump allocator, no-op free, plus `body` (exports). */
const guest = (imports: string, body: string, memory = '(memory (export "memory") 1)') => `(module ${imports} ${memory}
  (global $heap (mut i32) (i32.const 4096))
  (func $alloc (export "forge_alloc") (param $len i32) (result i32)
    (local $ptr i32) (local.set $ptr (global.get $heap))
    (global.set $heap (i32.add (local.get $ptr) (local.get $len))) (local.get $ptr))
  (func (export "forge_free") (param i32 i32))
  ${body})`;

/** sum(n): sums 0..n-1 in a loop, returned as 4 bytes; spin: loops forever; grow(n): memory.grow(n) as 4 bytes. */
const WORKER = guest(
  '',
  `(func $u32 (param $v i32) (result i64) (local $p i32)
     (local.set $p (call $alloc (i32.const 4))) (i32.store (local.get $p) (local.get $v))
     (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.const 4)))
   (func (export "sum") (param $ptr i32) (param $len i32) (result i64) (local $n i32) (local $i i32) (local $acc i32)
     (local.set $n (i32.load (local.get $ptr)))
     (block $done (loop $next
       (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
       (local.set $acc (i32.add (local.get $acc) (local.get $i)))
       (local.set $i (i32.add (local.get $i) (i32.const 1)))
       (br $next)))
     (call $u32 (local.get $acc)))
   (func (export "spin") (param i32 i32) (result i64) (loop $forever (br $forever)) (i64.const 0))
   (func (export "grow") (param $ptr i32) (param $len i32) (result i64) (call $u32 (memory.grow (i32.load (local.get $ptr)))))`,
);

const NO_PERMISSIONS: Permissions = parsePluginToml('[plugin]\nname = "t"\nversion = "1.0.0"\n').permissions;
const u32 = (value: number) => new Uint8Array(new Uint32Array([value]).buffer);
const read = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0, true);

async function instance(text: string, options: { fuel?: bigint; maxMemoryBytes?: number; permissions?: Permissions; cache?: CompileCache } = {}) {
  const prepared = await prepareModule(await assembleWat(text), { permissions: options.permissions ?? NO_PERMISSIONS, maxMemoryBytes: options.maxMemoryBytes ?? 1 << 20 }, options.cache ?? new CompileCache());
  return PluginInstance.create(prepared, { gate: ALLOW_ALL_GATE, ...(options.fuel === undefined ? {} : { fuelPerCall: options.fuel }) });
}

describe('plugin instances', () => {
  it('runs calls through the ABI under a fuel budget and reports the fuel used', async () => {
    const plugin = await instance(WORKER);
    assert.equal(read(plugin.call('sum', u32(100))), 4950);
    const small = plugin.lastFuelUsed;
    assert.equal(read(plugin.call('sum', u32(10_000))), 49_995_000);
    assert.ok(plugin.lastFuelUsed > small * 50n, `fuel grows with the work: ${small} then ${plugin.lastFuelUsed}`);
    assert.equal(read(plugin.call('sum', u32(100))), 4950);
    assert.equal(plugin.lastFuelUsed, small, 'the same call costs the same fuel');
  });

  it('stops a runaway call with FO_SANDBOX_CPU_LIMIT while a neighbour in the same thread keeps working', async () => {
    const cache = new CompileCache();
    const runaway = await instance(WORKER, { fuel: 100_000n, cache });
    const neighbour = await instance(WORKER, { fuel: 100_000n, cache });
    assert.equal(read(neighbour.call('sum', u32(50))), 1225);
    assert.equal(codeOfSync(() => runaway.call('spin', new Uint8Array(0))), 'FO_SANDBOX_CPU_LIMIT');
    assert.equal(read(neighbour.call('sum', u32(50))), 1225);
    assert.equal(codeOfSync(() => neighbour.call('sum', u32(1_000_000))), 'FO_SANDBOX_CPU_LIMIT', 'the budget applies per call');
    assert.equal(cache.stats.hits, 1, 'both instances share one compiled module');
  });

  it('caps memory: memory.grow past the limit returns -1', async () => {
    const plugin = await instance(WORKER, { maxMemoryBytes: 4 * 65536 });
    assert.equal(read(plugin.call('grow', u32(2))), 1, 'from 1 page to 3');
    assert.equal(read(plugin.call('grow', u32(2))), -1, '5 pages would exceed the 4-page cap');
    assert.equal(read(plugin.call('grow', u32(1))), 3);
  });

  it('refuses a module whose minimum memory is over the cap', async () => {
    await rejectsWithCode(instance(guest('', '', '(memory (export "memory") 8)'), { maxMemoryBytes: 4 * 65536 }), 'FO_RUNTIME_MEMORY_LIMIT');
  });

  it('refuses imports the manifest does not grant, listing every one', async () => {
    const imports = `(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "forge" "kv_get" (func (param i32 i32) (result i64)))
      (import "env" "abort" (func))
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))`;
    const error = await rejectsWithCode(instance(guest(imports, '')), 'FO_RUNTIME_IMPORT_DENIED');
    const denied = (error.details['denied'] as { module: string; name: string }[]).map((entry) => `${entry.module}.${entry.name}`);
    assert.deepEqual(denied, ['wasi_snapshot_preview1.path_open', 'forge.kv_get', 'env.abort']);
  });

  it('lets the manifest\'s permissions unlock imports', () => {
    const allowed = importPolicy({ ...NO_PERMISSIONS, filesystem: ['read'], syscalls: ['forge.kv_get'] });
    assert.equal(allowed('wasi_snapshot_preview1', 'path_open', 'function'), true);
    assert.equal(allowed('wasi_snapshot_preview1', 'path_unlink_file', 'function'), false);
    assert.equal(allowed('forge', 'kv_get', 'function'), true);
    assert.equal(allowed('forge', 'kv_set', 'function'), false);
    assert.equal(allowed('forge', 'log', 'function'), true);
    assert.equal(allowed('wasi_snapshot_preview1', 'memory', 'memory'), false);
  });

  it('gives WASI plugins their imports, with stdout going to the plugin\'s stream', async () => {
    const stdout = collectOutput();
    const text = guest(
      '(import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))',
      `(data (i32.const 64) "hello from a plugin\\n")
       (func (export "hello") (param i32 i32) (result i64)
         (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 20))
         (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
         (i64.const 0))`,
    );
    const prepared = await prepareModule(await assembleWat(text), { permissions: NO_PERMISSIONS, maxMemoryBytes: 1 << 20 }, new CompileCache());
    const plugin = PluginInstance.create(prepared, { gate: ALLOW_ALL_GATE, wasi: { stdout } });
    plugin.call('hello', new Uint8Array(0));
    plugin.close();
    assert.equal(stdout.text(), 'hello from a plugin\n');
  });
});
