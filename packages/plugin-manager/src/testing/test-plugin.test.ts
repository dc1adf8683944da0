/**
 * testPlugin from @forgeone/plugin-manager/testing on the repository's examples: real
 * plugins in an isolated registry, their host calls read back from the audit log,
 * including the ones the chosen policy denies.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { forgeErrorOf, rejectsWithCode } from '@forgeone/common/testing';
import { repoRoot } from '../attestation/test-support/pki.js';
import { PluginState } from '../lifecycle/index.js';
import { packDirectory } from '../loader/index.js';
import { testPlugin, type HostCallTrace } from './index.js';

const example = (name: string): string => join(repoRoot(), 'examples', name);
const calls = (trace: readonly HostCallTrace[], prefix: string): string[] => trace.filter((t) => t.call.startsWith(prefix)).map((t) => `${t.call}:${t.decision}`);

describe('testPlugin', () => {
  it('loads examples/sample-plugin from its directory, calls greet and walks its lifecycle', async () => {
    const plugin = await testPlugin(example('sample-plugin'));
    try {
      assert.equal(plugin.state, PluginState.Running);
      assert.match(await plugin.callText('greet', 'Ada'), /Ada/);
      await plugin.stop();
      assert.equal(plugin.state, PluginState.Stopped);
      await rejectsWithCode(plugin.call('greet', 'Ada'), 'FO_LIFECYCLE_NOT_RUNNING');
      await plugin.unload();
      assert.equal(plugin.state, PluginState.Unloaded);
    } finally {
      await plugin.close();
    }
  });

  it('loads examples/c-plugin and traces the kv calls its stats export makes, allowed by its permissions', async () => {
    const plugin = await testPlugin(example('c-plugin'));
    try {
      assert.equal(await plugin.callText('render', '*hi*'), '<p><em>hi</em></p>\n');
      plugin.clearTrace();
      assert.deepEqual(JSON.parse(await plugin.callText('stats')), { renders: 1, total: 1, largest: 4 });
      assert.deepEqual(calls(plugin.trace, 'forge.kv'), ['forge.kv_get:allow', 'forge.kv_set:allow']);
      assert.equal(plugin.trace.find((t) => t.call === 'forge.kv_set')?.resource, 'kv:total');
    } finally {
      await plugin.close();
    }
  });

  it("shows a host call the operator's grant denies in the trace, with the audit log's reason", async () => {
    const plugin = await testPlugin(example('c-plugin'), { grants: { syscalls: ['forge.kv_get'] } });
    try {
      await plugin.call('render', 'x');
      const error = await forgeErrorOf(plugin.call('stats'));
      assert.equal(error?.code, 'FO_ABI_GUEST_ERROR');
      assert.equal(error.details['guestCode'], 'FO_ABI_HOST_DENIED');
      assert.deepEqual(calls(plugin.trace, 'forge.kv'), ['forge.kv_get:allow', 'forge.kv_set:deny']);
      const denial = plugin.trace.find((t) => t.decision === 'deny');
      assert.ok(denial?.reason !== undefined && denial.reason.length > 0, 'the denial carries its reason');
      assert.ok(denial.seq > 0);
    } finally {
      await plugin.close();
    }
  });

  for (const backend of ['pool', 'process'] as const) {
    it(`runs the plugin on the ${backend} backend when asked, with the same answers and the same trace`, async () => {
      const plugin = await testPlugin(example('c-plugin'), { backend, grants: { syscalls: ['forge.kv_get'] } });
      try {
        assert.equal(plugin.registry.backendName, backend);
        assert.equal(await plugin.callText('render', '*hi*'), '<p><em>hi</em></p>\n');
        const error = await forgeErrorOf(plugin.call('stats'));
        assert.equal(error?.details['guestCode'], 'FO_ABI_HOST_DENIED');
        assert.deepEqual(calls(plugin.trace, 'forge.kv'), ['forge.kv_get:allow', 'forge.kv_set:deny']);
      } finally {
        await plugin.close();
      }
    });
  }

  it('applies Cedar policy text: a forbid rule denies forge.kv_set', async () => {
    const policy = 'forbid(principal, action == ForgeOne::Action::"forge.kv_set", resource);';
    const plugin = await testPlugin(example('c-plugin'), { policy });
    try {
      await plugin.call('render', 'x');
      await rejectsWithCode(plugin.call('stats'), 'FO_ABI_GUEST_ERROR');
      assert.deepEqual(calls(plugin.trace, 'forge.kv'), ['forge.kv_get:allow', 'forge.kv_set:deny']);
    } finally {
      await plugin.close();
    }
  });

  it('loads a packed .forgepkg and a bare .wasm with a given manifest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-testplugin-'));
    const pkg = join(dir, 'c.forgepkg');
    await writeFile(pkg, (await packDirectory(example('c-plugin'))).bytes);
    const packed = await testPlugin(pkg);
    try {
      assert.equal(await packed.callText('render', '# T'), '<h1>T</h1>\n');
    } finally {
      await packed.close();
    }
    const manifest = (await readFile(join(example('c-plugin'), 'plugin.toml'), 'utf8')).replace('name = "c-markdown"', 'name = "bare-markdown"');
    const bare = await testPlugin(join(example('c-plugin'), 'plugin.wasm'), { manifest });
    try {
      assert.equal(bare.id, 'bare-markdown');
      assert.equal(await bare.callText('render', '# T'), '<h1>T</h1>\n');
    } finally {
      await bare.close();
    }
  });

  it('refuses a bare .wasm whose default manifest grants none of its imports (FO_RUNTIME_IMPORT_DENIED)', async () => {
    await rejectsWithCode(testPlugin(join(example('c-plugin'), 'plugin.wasm')), 'FO_RUNTIME_IMPORT_DENIED');
  });
});
