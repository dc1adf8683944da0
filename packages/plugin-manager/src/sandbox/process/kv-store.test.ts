import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { guestCodeOf } from '../../abi/test-support/guest-code.js';
import { RELAY_GUEST, WEATHER_CALL } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { CHILD_SCRIPT } from './sandbox.js';

// The sandbox's bundle (scripts/bundle-sandbox.mjs) loads better-sqlite3 on the first
// store opened rather than at start: this proves the store still opens and answers in a
// sandbox, and which program ran (the bundle after `npm run build`). Needs bubblewrap,
// user namespaces and writable cgroups, as backend.test.ts.
describe('process backend: the key-value store inside a sandbox', () => {
  it('opens the plugin store on its first kv_get (SQLite loaded on first use), answers FO_SYSCALL_KV_NOT_FOUND and audits the allowed read', async (t) => {
    assert.match(CHILD_SCRIPT, /sandbox-child\.mjs$/, 'npm run build bundles the sandbox program');
    const root = mkdtempSync(join(tmpdir(), 'forge-kv-sandbox-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const kvDirectory = join(root, 'kv');
    const host = new RecordingHost();
    const backend = await ProcessBackend.create(host);
    t.after(() => backend.close());
    const spec = await pluginSpec(RELAY_GUEST, { permissions: { syscalls: ['forge.kv_get', WEATHER_CALL] }, registered: [WEATHER_CALL], kvDirectory });
    const handle = await backend.load(spec);
    assert.equal(existsSync(kvDirectory) ? readdirSync(kvDirectory).length : 0, 0, 'no store before the first call');
    assert.equal(await guestCodeOf(handle.call('kv_get', new TextEncoder().encode('missing'))), 'FO_SYSCALL_KV_NOT_FOUND');
    assert.notEqual(readdirSync(kvDirectory).length, 0, 'the store was created on the host, through the bound directory');
    assert.deepEqual(host.auditOf(spec.id), [['forge.kv_get', 'kv:missing', true]]);
  });
});
