import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CATALOG } from '@forgeone/common';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';
import { CHILD_SCRIPT, SANDBOX_ENV, SANDBOX_NODE_OPTIONS } from './sandbox.js';

/** The pid of the node process among a backend's first sandbox's processes. */
async function sandboxNode(backend: ProcessBackend): Promise<number> {
  const [sandbox] = backend.sandboxes();
  const pids = (await sandbox?.cgroup?.pids()) ?? [];
  const node = pids.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node');
  assert.ok(node !== undefined, `a node process among the sandbox's ${pids.length} processes`);
  return node;
}

// Needs bubblewrap, user namespaces and writable cgroups, as backend.test.ts. The host
// reads the sandbox's /proc entries from outside: it owns the sandbox's user namespace.
describe('process backend: what a sandbox process runs with', () => {
  it('runs Node with SANDBOX_NODE_OPTIONS and SANDBOX_ENV as its whole environment (bwrap adds PWD; nothing of the host reaches it)', async (t) => {
    process.env['FORGE_TEST_HOST_SECRET'] = 'must-not-reach-the-sandbox';
    t.after(() => delete process.env['FORGE_TEST_HOST_SECRET']);
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    await backend.load(await pluginSpec(CORE_GUEST, { id: `env-${process.pid}` }));
    const node = await sandboxNode(backend);
    const argv = readFileSync(`/proc/${node}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
    assert.deepEqual(argv.slice(1, 1 + SANDBOX_NODE_OPTIONS.length), [...SANDBOX_NODE_OPTIONS]);
    const environ = readFileSync(`/proc/${node}/environ`, 'utf8').split('\0').filter((entry) => entry !== '').sort();
    assert.deepEqual(environ, [...Object.entries(SANDBOX_ENV).map(([name, value]) => `${name}=${value}`), 'PWD=/'].sort());
  });

  // An ES module entry starts Node's ES module loader and libuv's thread pool, kept idle for
  // the sandbox's life (docs/sandbox.md, "Memory of an idle sandbox"): the bundle is CommonJS.
  it('runs no more threads, with a plugin loaded and called, than a bare Node with the same options and environment', async (t) => {
    const bare = spawn(process.execPath, [...SANDBOX_NODE_OPTIONS, '-e', "process.stdout.write('up'); setInterval(() => {}, 1 << 30)"], { env: SANDBOX_ENV, stdio: ['ignore', 'pipe', 'ignore'] });
    t.after(() => bare.kill('SIGKILL'));
    await new Promise((resolve) => bare.stdout.once('data', resolve));
    const backend = await ProcessBackend.create(new RecordingHost());
    t.after(() => backend.close());
    const handle = await backend.load(await pluginSpec(CORE_GUEST, { id: `threads-${process.pid}` }));
    await handle.call('echo', new Uint8Array(16));
    assert.match(CHILD_SCRIPT, /sandbox-child\.cjs$/, 'npm run build bundles the sandbox program');
    assert.equal(readdirSync(`/proc/${await sandboxNode(backend)}/task`).length, readdirSync(`/proc/${bare.pid}/task`).length);
  });

  // A sandbox needs each error code's kind (ForgeError reads it), never its summary (the
  // reference docs' text): the bundle carries the catalog without them.
  it("bundles every error code with its kind and none of the catalog's summaries", () => {
    const bundle = readFileSync(CHILD_SCRIPT, 'utf8');
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      assert.match(bundle, new RegExp(`\\b${code}:\\{kind:"${spec.kind}",summary:""\\}`), code);
      assert.equal(bundle.includes(spec.summary), false, `the summary of ${code} is not in the bundle`);
    }
  });
});
