/**
 * An example plugin as a user ships it (c-plugin, rust-plugin, sample-plugin tests): its
 * signed package installed into a store, loaded from there by a PluginManager on the chosen
 * backend, and started.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLogger, type LogRecord } from '@forgeone/common';
import { NOW } from '../../attestation/test-support/pki.js';
import { PluginManager } from '../manager.js';
import { PluginStore } from '../store/index.js';
import { testRegistry, trustStore } from './plugins.js';

/** The started plugin's manager and the registry's home directory (the store is home/plugins). */
export interface Installed {
  readonly manager: PluginManager;
  readonly home: string;
}

/**
 * Installs `pkg` (which must be plugin `name`), loads every installed plugin and starts
 * `name`. `yaml` is more configuration under plugin_manager; `records` collects the log.
 */
export async function installExample(backend: 'inline' | 'pool' | 'process', pkg: Uint8Array, name: string, yaml = '', records: LogRecord[] = []): Promise<Installed> {
  const { registry, dir: home } = await testRegistry(backend, yaml, {}, { logger: createLogger((record) => records.push(record), 'trace') });
  const store = await PluginStore.open({ directory: join(home, 'plugins'), verification: { verifySignatures: true, trustStore, now: NOW }, now: () => NOW });
  const manager = new PluginManager(registry, store);
  try {
    const { plugin } = await store.install(pkg);
    assert.equal(plugin.name, name);
    assert.deepEqual(await manager.loadInstalled(), [name]);
    await registry.startPlugin(name);
    return { manager, home };
  } catch (error) {
    await manager.close();
    throw error;
  }
}
