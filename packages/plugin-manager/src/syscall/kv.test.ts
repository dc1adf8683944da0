import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALLOW_ALL_GATE } from '@forgeone/common';
import { assemble } from '../abi/test-support/guests.js';
import { instantiateAbi } from '../abi/index.js';
import { createForgeHostFunctions } from './forge-host.js';
import { KV_FILE_NAME, KvStore, prefixEnd } from './kv-store.js';
import { DEFAULT_HOST_CALL_LIMITS } from './limits.js';
import { counterGuest } from './test-support/guests.js';
import { concat, decodeList, field, kvList, kvSet, relayPlugin, u32, type TestPlugin } from './test-support/plugin.js';

const roots: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'forge-kv-'));
  roots.push(dir);
  return dir;
}
after(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

const KV_CEILING = { syscalls: ['forge.kv_get', 'forge.kv_set', 'forge.kv_delete', 'forge.kv_list'] };

async function kvPlugin(limits: Parameters<typeof createForgeHostFunctions>[0]['limits'] = {}, dir = scratch()): Promise<TestPlugin & { dir: string }> {
  const plugin = await relayPlugin({ kvDirectory: join(dir, 'tester'), limits }, { ceiling: KV_CEILING });
  return Object.assign(plugin, { dir: join(dir, 'tester') });
}

const text = (value: Uint8Array): string => new TextDecoder().decode(value);

describe('forge.kv_*', () => {
  it('stores, reads, replaces and deletes a value, each call checked once by the gate as kv:<key>', async () => {
    const plugin = await kvPlugin();
    assert.equal(plugin.call('kv_set', kvSet('greeting', 'hello')).length, 0);
    assert.equal(text(plugin.call('kv_get', field('greeting').subarray(4))), 'hello');
    plugin.call('kv_set', kvSet('greeting', 'hi'));
    assert.equal(text(plugin.call('kv_get', new TextEncoder().encode('greeting'))), 'hi');
    assert.deepEqual([...plugin.call('kv_delete', new TextEncoder().encode('greeting'))], [1]);
    assert.deepEqual([...plugin.call('kv_delete', new TextEncoder().encode('greeting'))], [0], 'a second delete finds nothing');
    assert.equal(plugin.code('kv_get', new TextEncoder().encode('greeting')), 'FO_SYSCALL_KV_NOT_FOUND');
    assert.deepEqual(
      plugin.policy.audit.map((entry) => [entry.action, entry.resource, entry.allowed]),
      [
        ['forge.kv_set', 'kv:greeting', true],
        ['forge.kv_get', 'kv:greeting', true],
        ['forge.kv_delete', 'kv:greeting', true],
      ],
      'the default audit level records each decision once (later calls hit the cache)',
    );
    assert.deepEqual(plugin.host.kvUsage(), { keys: 0, bytes: 0 });
    plugin.host.close();
  });

  it('keeps values binary-safe: NUL, 0xFF and every byte value round-trip, and an empty value is not a missing one', async () => {
    const plugin = await kvPlugin();
    const value = Uint8Array.from({ length: 256 }, (_, i) => i);
    plugin.call('kv_set', kvSet('bytes', value));
    assert.deepEqual(plugin.call('kv_get', new TextEncoder().encode('bytes')), value);
    plugin.call('kv_set', kvSet('empty', new Uint8Array(0)));
    assert.equal(plugin.code('kv_get', new TextEncoder().encode('empty')), 'ok');
    assert.equal(plugin.call('kv_get', new TextEncoder().encode('empty')).length, 0);
    plugin.host.close();
  });

  it('lists keys under a prefix in byte order, page by page with the cursor, asking the gate about kv:<prefix>*', async () => {
    const plugin = await kvPlugin();
    for (const key of ['user/3', 'user/1', 'user/2', 'users', 'admin', 'user/é']) plugin.call('kv_set', kvSet(key, 'x'));
    const first = decodeList(plugin.call('kv_list', kvList('user/', 2)));
    assert.deepEqual(first.keys, ['user/1', 'user/2']);
    assert.equal(text(first.cursor), 'user/2');
    const second = decodeList(plugin.call('kv_list', kvList('user/', 2, first.cursor)));
    assert.deepEqual(second.keys, ['user/3', 'user/é']);
    assert.equal(second.cursor.length, 0, 'an empty cursor says the listing is complete');
    assert.deepEqual(decodeList(plugin.call('kv_list', kvList(''))).keys, ['admin', 'user/1', 'user/2', 'user/3', 'user/é', 'users']);
    assert.ok(plugin.policy.audit.some((entry) => entry.action === 'forge.kv_list' && entry.resource === 'kv:user/*'));
    plugin.host.close();
  });

  it('cuts a listing to the host maximum when the plugin asks for more or for 0', async () => {
    const plugin = await kvPlugin({ kv: { maxListKeys: 3 } });
    for (let i = 0; i < 5; i += 1) plugin.call('kv_set', kvSet(`k${i}`, 'x'));
    assert.deepEqual(decodeList(plugin.call('kv_list', kvList('', 0))).keys, ['k0', 'k1', 'k2']);
    assert.deepEqual(decodeList(plugin.call('kv_list', kvList('', 1000))).keys, ['k0', 'k1', 'k2']);
    plugin.host.close();
  });

  it('refuses oversize keys and values with their exact codes, writing nothing', async () => {
    const plugin = await kvPlugin({ kv: { maxKeyBytes: 8, maxValueBytes: 16 } });
    assert.equal(plugin.code('kv_set', kvSet('123456789', 'v')), 'FO_SYSCALL_KV_KEY_TOO_LARGE');
    assert.equal(plugin.code('kv_get', new TextEncoder().encode('123456789')), 'FO_SYSCALL_KV_KEY_TOO_LARGE');
    assert.equal(plugin.code('kv_set', kvSet('k', 'x'.repeat(17))), 'FO_SYSCALL_KV_VALUE_TOO_LARGE');
    assert.equal(plugin.code('kv_set', kvSet('k', 'x'.repeat(16))), 'ok', 'the limit itself is accepted');
    assert.equal(plugin.code('kv_set', kvSet('k', 'x'.repeat(100_000))), 'FO_ABI_INPUT_TOO_LARGE', 'far past the limit, the request is not even read');
    assert.deepEqual(plugin.host.kvUsage(), { keys: 1, bytes: 17 });
    plugin.host.close();
  });

  it('refuses empty, ill-formed and control-character keys before asking policy', async () => {
    const plugin = await kvPlugin();
    for (const key of [new Uint8Array(0), Uint8Array.of(0x61, 0xff), new TextEncoder().encode('a\nb'), new TextEncoder().encode('nul\0')]) {
      assert.equal(plugin.code('kv_set', kvSet(key, 'v')), 'FO_SYSCALL_KV_BAD_KEY', JSON.stringify([...key]));
      assert.equal(plugin.code('kv_get', key), 'FO_SYSCALL_KV_BAD_KEY');
    }
    assert.equal(plugin.code('kv_set', concat(u32(1000), new TextEncoder().encode('short'))), 'FO_ABI_BAD_REQUEST', 'a key length past the request');
    assert.deepEqual(plugin.policy.audit, [], 'malformed requests never reach policy');
    plugin.host.close();
  });

  it('enforces the total quota over keys and values: a write past it changes nothing, a shrinking write passes', async () => {
    const plugin = await kvPlugin({ kv: { maxTotalBytes: 100 } });
    plugin.call('kv_set', kvSet('a', 'x'.repeat(49))); // 50 bytes
    plugin.call('kv_set', kvSet('b', 'x'.repeat(49))); // 100 bytes: exactly full
    const refused = plugin.failure('kv_set', kvSet('c', 'x'));
    assert.equal(refused.code, 'FO_SYSCALL_KV_QUOTA_EXCEEDED');
    assert.match(refused.message, /holds 100 of its 100 bytes/);
    assert.equal(plugin.code('kv_set', kvSet('a', 'x'.repeat(50))), 'FO_SYSCALL_KV_QUOTA_EXCEEDED', 'growing a value counts too');
    assert.equal(plugin.code('kv_get', new TextEncoder().encode('c')), 'FO_SYSCALL_KV_NOT_FOUND');
    assert.equal(plugin.code('kv_set', kvSet('a', 'short')), 'ok', 'shrinking is always allowed');
    assert.equal(plugin.code('kv_set', kvSet('c', 'x')), 'ok', 'and frees room');
    assert.deepEqual(plugin.host.kvUsage(), { keys: 3, bytes: 6 + 50 + 2 });
    plugin.host.close();
  });

  it('answers FO_SYSCALL_NOT_CONFIGURED when the host gave no directory', async () => {
    const plugin = await relayPlugin({}, { ceiling: KV_CEILING });
    assert.equal(plugin.code('kv_get', new TextEncoder().encode('k')), 'FO_SYSCALL_NOT_CONFIGURED');
  });

  it('answers FO_SYSCALL_KV_UNAVAILABLE, without host paths, when the store cannot be opened', async () => {
    const dir = scratch();
    const blocker = join(dir, 'file');
    const plugin = await relayPlugin({ kvDirectory: join(blocker, 'tester') }, { ceiling: KV_CEILING });
    // A regular file where the directory should be.
    writeFileSync(blocker, 'not a directory');
    const failure = plugin.failure('kv_get', new TextEncoder().encode('k'));
    assert.equal(failure.code, 'FO_SYSCALL_KV_UNAVAILABLE');
    assert.doesNotMatch(failure.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });

  it('creates the store directory 0700 and the database 0600', async () => {
    const plugin = await kvPlugin();
    plugin.call('kv_set', kvSet('k', 'v'));
    assert.equal(statSync(plugin.dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(plugin.dir, KV_FILE_NAME)).mode & 0o777, 0o600);
    plugin.host.close();
  });
});

describe('forge.kv_* durability', () => {
  it('keeps data across a restart: the counter plugin of abi.md continues after close and a new store object', async () => {
    const dir = scratch();
    const counter = await assemble('counter', counterGuest());
    const run = (times: number): number[] => {
      const host = createForgeHostFunctions({ plugin: 'acme/tester@1.0.0', gate: ALLOW_ALL_GATE, kvDirectory: dir });
      const plugin = instantiateAbi(counter, { gate: ALLOW_ALL_GATE, hostFunctions: host.registry() });
      const seen: number[] = [];
      for (let i = 0; i < times; i += 1) seen.push(new DataView(plugin.call('increment', new Uint8Array(0)).buffer).getUint32(0, true));
      host.close();
      return seen;
    };
    assert.deepEqual(run(3), [1, 2, 3]);
    assert.deepEqual(run(2), [4, 5], 'the second host process-equivalent continues where the first stopped');
    const store = KvStore.open(dir, DEFAULT_HOST_CALL_LIMITS.kv);
    assert.deepEqual([...(store.get(new TextEncoder().encode('count')) ?? [])], [5, 0, 0, 0]);
    store.close();
  });

  it('keeps every acknowledged write when the writing process is killed with SIGKILL', () => {
    const dir = join(scratch(), 'tester');
    const child = fileURLToPath(new URL('./test-support/kv-child.js', import.meta.url));
    const result = spawnSync(process.execPath, [child, dir, '40'], { encoding: 'utf8' });
    assert.equal(result.signal, 'SIGKILL', `the child died by SIGKILL (stderr: ${result.stderr})`);
    assert.equal(result.stdout, 'written\n');
    assert.ok(existsSync(join(dir, `${KV_FILE_NAME}-wal`)) && statSync(join(dir, `${KV_FILE_NAME}-wal`)).size > 0, 'the writes were still in the WAL, never checkpointed');
    const store = KvStore.open(dir, DEFAULT_HOST_CALL_LIMITS.kv);
    try {
      for (let i = 0; i < 40; i += 1) assert.equal(text(store.get(new TextEncoder().encode(`key-${i}`)) ?? new Uint8Array(0)), `value-${i}`.repeat(i + 1));
      const expectedBytes = Array.from({ length: 40 }, (_, i) => `key-${i}`.length + `value-${i}`.length * (i + 1)).reduce((a, b) => a + b);
      assert.deepEqual(store.usage(), { keys: 40, bytes: expectedBytes }, 'the quota counter recovered with the data');
    } finally {
      store.close();
    }
  });
});

describe('prefixEnd', () => {
  it('gives the first byte string after every string with the prefix', () => {
    assert.deepEqual(prefixEnd(Uint8Array.of(0x61, 0x62)), Uint8Array.of(0x61, 0x63));
    assert.deepEqual(prefixEnd(Uint8Array.of(0x61, 0xff, 0xff)), Uint8Array.of(0x62));
    assert.equal(prefixEnd(Uint8Array.of(0xff)), undefined);
    assert.equal(prefixEnd(new Uint8Array(0)), undefined);
  });
});
