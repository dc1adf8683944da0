/**
 * Loading the same module again reuses its analysis and instrumentation, but only under
 * the very options that decided them: other permissions are decided again (an import
 * they do not allow is refused), another memory budget is instrumented again, and what one
 * load gets cannot be changed by another.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { parsePluginToml, type Permissions } from '../../plugin/index.js';
import { CompileCache } from '../wasm/index.js';
import { wat } from '../wasm/test-support/wat.js';
import { prepareModule } from './index.js';

const permissions = (extra = ''): Permissions => parsePluginToml(`[plugin]\nname = "p"\nversion = "1.0.0"\n${extra}`).permissions;
const KV = permissions('[permissions]\nsyscalls = ["forge.kv_get"]\n');

const GUEST = `(module
  (import "forge" "kv_get" (func $kv (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "forge_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "forge_free") (param i32 i32))
  (func (export "run") (param i32 i32) (result i64) (call $kv (local.get 0) (local.get 1))))`;

describe('prepareModule remembers per module and options', () => {
  it('gives the same result again, as a copy of its own, and decides other permissions and budgets anew', async () => {
    const bytes = await wat(GUEST);
    const cache = new CompileCache();
    const first = await prepareModule(bytes, { permissions: KV, maxMemoryBytes: 1 << 20 }, cache);
    const again = await prepareModule(bytes, { permissions: KV, maxMemoryBytes: 1 << 20 }, cache);
    assert.equal(again.digest, first.digest);
    assert.equal(again.module, first.module, 'one compiled module');
    assert.notEqual(again.bytes, first.bytes, 'each load its own bytes');
    first.bytes.fill(0);
    const third = await prepareModule(bytes, { permissions: KV, maxMemoryBytes: 1 << 20 }, cache);
    assert.deepEqual([...third.bytes.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'a changed copy changes nothing for the next load');
    assert.equal(CompileCache.digest(third.bytes), first.digest);

    // The same bytes without the permission its import needs: refused, though remembered above.
    await rejectsWithCode(prepareModule(bytes, { permissions: permissions(), maxMemoryBytes: 1 << 20 }, cache), 'FO_RUNTIME_IMPORT_DENIED');
    const smaller = await prepareModule(bytes, { permissions: KV, maxMemoryBytes: 1 << 16 }, cache);
    assert.notEqual(smaller.digest, first.digest, 'another memory budget, other instrumented bytes');
    // Another compile cache (another registry) remembers nothing of this one.
    const elsewhere = await prepareModule(bytes, { permissions: KV, maxMemoryBytes: 1 << 20 }, new CompileCache());
    assert.notEqual(elsewhere.module, first.module);
  });
});
