/**
 * `forge call` without a daemon: the installed plugin (and the installed plugins it
 * depends on) loaded into a registry in this process, started, called once, and stopped
 * and unloaded again, with the same verification, policy and audit log as the daemon
 * would use. The plugin's log records go to stderr, escaped.
 */
import { dirname } from 'node:path';
import { ForgeError, createLogger, type LogRecord } from '@forgeone/common';
import { PluginManager, PluginRegistry, PluginStore, storeOptionsFromConfig, type InstalledPlugin } from '@forgeone/plugin-manager';
import { loadAttestationSettings } from '@forgeone/plugin-manager/signing';
import type { CliIo } from '../../command.js';
import type { CliConfig } from '../../config.js';
import { formatLogRecord } from './log-format.js';

/** The plugin and the installed plugins it depends on, dependencies first; a missing dependency is left to the registry to report. */
async function withDependencies(store: PluginStore, name: string): Promise<InstalledPlugin[]> {
  const ordered: InstalledPlugin[] = [];
  const seen = new Set<string>();
  const visit = async (current: string, root: boolean): Promise<void> => {
    if (seen.has(current)) return;
    seen.add(current);
    let plugin: InstalledPlugin;
    try {
      plugin = await store.get(current);
    } catch (error) {
      // The registry names a missing dependency with FO_DEPS_MISSING when the plugin starts.
      if (!root && ForgeError.is(error, 'FO_STORE_NOT_INSTALLED')) return;
      throw error;
    }
    for (const dependency of Object.keys(plugin.manifest.dependencies)) await visit(dependency, false);
    ordered.push(plugin);
  };
  await visit(name, true);
  return ordered;
}

/** The plugin a record is tagged with: its id, or an identity object carrying it. */
function pluginOf(record: LogRecord): string | undefined {
  const tag = record.fields['plugin'];
  if (typeof tag === 'string') return tag;
  const id = typeof tag === 'object' && tag !== null ? (tag as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** Writes the plugins' log records to stderr, escaped; the host's own records only from warn up. */
function stderrSink(io: CliIo): (record: LogRecord) => void {
  return (record) => {
    const plugin = pluginOf(record);
    if (plugin !== undefined) {
      const fields = Object.fromEntries(Object.entries(record.fields).filter(([key]) => key !== 'plugin'));
      io.stderr.write(`${formatLogRecord({ plugin, time: new Date(record.time).toISOString(), level: record.level, message: record.message, fields }, true)}\n`);
    } else if (record.level === 'warn' || record.level === 'error') {
      io.stderr.write(`${formatLogRecord({ plugin: 'forge', time: new Date(record.time).toISOString(), level: record.level, message: record.message, fields: record.fields }, true)}\n`);
    }
  };
}

/**
 * Loads, starts, calls and stops `name` in this process.
 * @returns the call's output
 * @throws ForgeError FO_STORE_NOT_INSTALLED, the load codes (FO_VERIFY_*, ...), FO_DEPS_*, the call's codes
 */
export async function callInProcess(io: CliIo, { config, file }: CliConfig, name: string, exportName: string, input: Uint8Array): Promise<Uint8Array> {
  const configDir = file === undefined ? io.cwd : dirname(file);
  const attestation = await loadAttestationSettings(config.security, configDir);
  const store = await PluginStore.open(storeOptionsFromConfig(config, attestation));
  const chain = await withDependencies(store, name);
  const logger = createLogger(stderrSink(io), config.telemetry.log_level);
  const manager = new PluginManager(await PluginRegistry.create(config, { configDir, attestation, logger }), store);
  try {
    for (const plugin of chain) await manager.load(plugin.paths.package);
    await manager.registry.startPlugin(name);
    return await manager.registry.call(name, exportName, input);
  } finally {
    await manager.close();
  }
}
