import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { SANDBOX_ENV, SANDBOX_NODE_OPTIONS } from './sandbox.js';

// Needs bubblewrap, user namespaces and writable cgroups, as backend.test.ts. The host
// reads the sandbox's /proc entries from outside: it owns the sandbox's user namespace.
describe('process backend: what a sandbox process runs with', () => {
  it('runs Node with SANDBOX_NODE_OPTIONS and SANDBOX_ENV as its whole environment (bwrap adds PWD; nothing of the host reaches it)', async (t) => {
    process.env['FORGE_TEST_HOST_SECRET'] = 'must-not-reach-the-sandbox';
    t.after(() => delete process.env['FORGE_TEST_HOST_SECRET']);
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    await backend.load(await pluginSpec(CORE_GUEST, { id: `env-${process.pid}` }));
    const [sandbox] = backend.sandboxes();
    const pids = (await sandbox?.cgroup?.pids()) ?? [];
    const node = pids.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node');
    assert.ok(node !== undefined, `a node process among the sandbox's ${pids.length} processes`);
    const argv = readFileSync(`/proc/${node}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
    assert.deepEqual(argv.slice(1, 1 + SANDBOX_NODE_OPTIONS.length), [...SANDBOX_NODE_OPTIONS]);
    const environ = readFileSync(`/proc/${node}/environ`, 'utf8').split('\0').filter((entry) => entry !== '').sort();
    assert.deepEqual(environ, [...Object.entries(SANDBOX_ENV).map(([name, value]) => `${name}=${value}`), 'PWD=/'].sort());
  });
});
