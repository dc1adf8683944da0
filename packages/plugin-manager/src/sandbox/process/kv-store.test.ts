import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { guestCodeOf } from '../../abi/test-support/guest-code.js';
import { CORE_GUEST, RELAY_GUEST, WEATHER_CALL } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { CHILD_SCRIPT } from './sandbox.js';

/** Whether the sandbox's Node process has better-sqlite3's native addon mapped. */
async function sqliteMapped(backend: ProcessBackend): Promise<boolean> {
  const pids = (await backend.sandboxes()[0]?.cgroup?.pids()) ?? [];
  const node = pids.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node');
  assert.ok(node !== undefined, 'the sandbox runs a node process');
  return readFileSync(`/proc/${node}/maps`, 'utf8').includes('better_sqlite3.node');
}

// The sandbox's bundle (scripts/bundle-sandbox.mjs) loads better-sqlite3 on the first
// store opened rather than at start: this proves the store still opens and answers in a
// sandbox, and which program ran (the bundle after `npm run build`). Needs bubblewrap,
// user namespaces and writable cgroups, as backend.test.ts.
describe('process backend: the key-value store inside a sandbox', () => {
  it('does not map SQLite\'s native addon in a sandbox whose plugin has no key-value store', async (t) => {
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id: `no-kv-${process.pid}` }));
    await handle.call('echo', new Uint8Array(16));
    assert.equal(await sqliteMapped(backend), false);
  });

  it('loads SQLite with a plugin given a store, opens the store on its first kv_get, answers FO_SYSCALL_KV_NOT_FOUND and audits the allowed read', async (t) => {
    assert.match(CHILD_SCRIPT, /sandbox-child\.cjs$/, 'npm run build bundles the sandbox program');
    const root = mkdtempSync(join(tmpdir(), 'forge-kv-sandbox-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const kvDirectory = join(root, 'kv');
    const host = new RecordingHost();
    const backend = await ProcessBackend.create(host);
    t.after(() => backend.close());
    const spec = await pluginSpec(RELAY_GUEST, { permissions: { syscalls: ['forge.kv_get', WEATHER_CALL] }, registered: [WEATHER_CALL], kvDirectory });
    const handle = await backend.load(spec);
    assert.equal(await sqliteMapped(backend), true, 'loaded with the plugin, before its first kv call');
    assert.equal(existsSync(kvDirectory) ? readdirSync(kvDirectory).length : 0, 0, 'no store before the first call');
    assert.equal(await guestCodeOf(handle.call('kv_get', new TextEncoder().encode('missing'))), 'FO_SYSCALL_KV_NOT_FOUND');
    assert.notEqual(readdirSync(kvDirectory).length, 0, 'the store was created on the host, through the bound directory');
    assert.deepEqual(host.auditOf(spec.id), [['forge.kv_get', 'kv:missing', true]]);
  });
});
