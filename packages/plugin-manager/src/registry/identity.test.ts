/**
 * Hostile tests: a plugin's state belongs to its identity (publisher + name), not to its
 * name. A package that takes the name of an installed plugin but is signed by another
 * publisher (one the trust store also trusts) must get none of that plugin's data,
 * volumes or configuration values, on any load path.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { guestCodeOf } from '../abi/test-support/guest-code.js';
import { NOW } from '../attestation/test-support/pki.js';
import { PluginManager } from './manager.js';
import type { PluginRegistry } from './registry.js';
import { PluginStore } from './store/index.js';
import { PUBLISHERS, fields, packagedPlugin, read, testRegistry, text, trustStore } from './test-support/plugins.js';

const KV = ['kv_get', 'kv_set'];
const WALLET_TOML = '[permissions]\nsyscalls = ["forge.kv_get", "forge.kv_set"]\n';
const VAULT_TOML = '[permissions]\nfilesystem = ["read"]\nvolumes = [{ name = "vault", path = "/vault", mode = "ro" }]\n';

/** The output of a call, or the guest-visible code of its refusal. */
async function outcome(registry: PluginRegistry, id: string, exportName: string, input: Uint8Array): Promise<string> {
  let output = '';
  const code = await guestCodeOf(async () => {
    output = read(await registry.call(id, exportName, input));
  });
  return code === 'ok' ? `ok:${output}` : code;
}

function openStore(dir: string): Promise<PluginStore> {
  return PluginStore.open({ directory: join(dir, 'plugins'), verification: { verifySignatures: true, trustStore, now: NOW }, now: () => NOW });
}

const wallet = (signer: 'test' | 'other', version = '1.0.0', toml = WALLET_TOML, forwards = KV): Promise<Buffer> =>
  packagedPlugin({ name: 'wallet', version, toml, signer, forwards });

for (const backend of ['inline', 'pool'] as const) {
  describe(`plugin state follows identity on the ${backend} backend`, () => {
    it('gives a same-name plugin of another publisher, loaded with loadPlugin, none of the installed plugin\'s kv data', async () => {
      const { registry, dir } = await testRegistry(backend);
      const store = await openStore(dir);
      await store.install(await wallet('test'));
      const manager = new PluginManager(registry, store);
      try {
        const [real] = await manager.loadInstalled();
        assert.equal(real, 'wallet');
        await registry.startPlugin('wallet');
        assert.equal(await outcome(registry, 'wallet', 'call_kv_set', fields('seed', text('kv-secret'))), 'ok:');
        await registry.unloadPlugin('wallet');

        const foreign = await registry.loadPlugin(await wallet('other'));
        assert.equal(registry.get(foreign).publisher, PUBLISHERS.other);
        await registry.startPlugin(foreign);
        assert.equal(await outcome(registry, foreign, 'call_kv_get', text('seed')), 'FO_SYSCALL_KV_NOT_FOUND');
        // What the foreign plugin writes stays its own, too.
        assert.equal(await outcome(registry, foreign, 'call_kv_set', fields('seed', text('overwritten'))), 'ok:');
        await registry.unloadPlugin(foreign);

        await manager.loadInstalled();
        await registry.startPlugin('wallet');
        assert.equal(await outcome(registry, 'wallet', 'call_kv_get', text('seed')), 'ok:kv-secret');
      } finally {
        await manager.close();
      }
    });

    it('gives a publisher-scoped grant\'s volumes and config values to that publisher\'s plugin only', async () => {
      const vault = await mkdtemp(join(tmpdir(), 'forge-vault-'));
      await writeFile(join(vault, 'secret.txt'), 'volume-secret');
      const yaml = [
        '  policy:',
        '    grants:',
        '      wallet:',
        `        publisher: ${PUBLISHERS.test}`,
        '        volumes:',
        `          vault: { host: ${vault}, mode: ro }`,
        '        config:',
        '          api_key: config-secret',
        '',
      ].join('\n');
      const { registry } = await testRegistry(backend, yaml);
      const forwards = ['config_get', 'file_read'];
      try {
        const real = await registry.loadPlugin(await wallet('test', '1.0.0', VAULT_TOML, forwards));
        await registry.startPlugin(real);
        assert.equal(await outcome(registry, real, 'call_config_get', text('api_key')), 'ok:config-secret');
        assert.equal(await outcome(registry, real, 'call_file_read', text('/vault/secret.txt')), 'ok:volume-secret');
        await registry.unloadPlugin(real);

        const foreign = await registry.loadPlugin(await wallet('other', '1.0.0', VAULT_TOML, forwards));
        await registry.startPlugin(foreign);
        assert.equal(await outcome(registry, foreign, 'call_config_get', text('api_key')), 'FO_SYSCALL_CONFIG_NOT_FOUND');
        assert.equal(await outcome(registry, foreign, 'call_file_read', text('/vault/secret.txt')), 'FO_ABI_HOST_DENIED');
      } finally {
        await registry.close();
      }
    });
  });
}

describe('plugin data on disk', () => {
  it('keeps the data of a plugin loaded before it was installed, and the store installs it over that data', async () => {
    const { registry, dir } = await testRegistry();
    const store = await openStore(dir);
    const manager = new PluginManager(registry, store);
    try {
      const loose = await registry.loadPlugin(await wallet('test'));
      await registry.startPlugin(loose);
      assert.equal(await outcome(registry, loose, 'call_kv_set', fields('note', text('kept'))), 'ok:');
      await registry.unloadPlugin(loose);
      // The directory the plugin's data lives in is not a plugin the store knows of...
      assert.deepEqual(await store.list(), []);
      // ...and does not keep the store from installing the plugin.
      const installed = await store.install(await wallet('test'));
      assert.equal(installed.action, 'installed');
      await manager.loadInstalled();
      await registry.startPlugin('wallet');
      assert.equal(await outcome(registry, 'wallet', 'call_kv_get', text('note')), 'ok:kept');
    } finally {
      await manager.close();
    }
  });

  it('gives a new publisher allowed to take over a name fresh data, and a rollback gives the old one its data back', async () => {
    const { registry, dir } = await testRegistry();
    const store = await openStore(dir);
    const manager = new PluginManager(registry, store);
    const kvOf = async (): Promise<string> => {
      await manager.loadInstalled();
      await registry.startPlugin('wallet');
      const value = await outcome(registry, 'wallet', 'call_kv_get', text('owner'));
      await registry.unloadPlugin('wallet');
      return value;
    };
    try {
      await store.install(await wallet('test'));
      await manager.loadInstalled();
      await registry.startPlugin('wallet');
      assert.equal(await outcome(registry, 'wallet', 'call_kv_set', fields('owner', text('first publisher'))), 'ok:');
      await registry.unloadPlugin('wallet');

      await store.install(await wallet('other', '1.1.0'), { allowPublisherChange: true });
      assert.equal(await kvOf(), 'FO_SYSCALL_KV_NOT_FOUND');
      await store.rollback('wallet');
      assert.equal(await kvOf(), 'ok:first publisher');
    } finally {
      await manager.close();
    }
  });

  it('never creates a directory under plugin_directory for a plugin that cannot use the key-value store', async () => {
    const { registry, dir } = await testRegistry();
    try {
      await mkdir(join(dir, 'plugins'), { recursive: true });
      const id = await registry.loadPlugin(await packagedPlugin({ name: 'plain' }));
      await registry.startPlugin(id);
      assert.deepEqual(await readdir(join(dir, 'plugins')), []);
    } finally {
      await registry.close();
    }
  });
});
