/**
 * The host side every PDK's wrapper test shares (c-pdk, rust-pdk, as-pdk): a guest named
 * pdk-guest that may import every forge.* call, with a writable volume, a granted loopback
 * host and a config value, loaded beside lib (the WAT test guest it calls through
 * forge.call_plugin) in a registry on the chosen backend, with its events and log records
 * collected.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type LogRecord } from '@forgeone/common';
import { makePackage } from '../../attestation/test-support/pki.js';
import type { PluginRegistry } from '../registry.js';
import { read, signAsTestPublisher, signedPlugin, testRegistry } from './plugins.js';

/** pdk-guest's manifest, with `entryPoints` (e.g. `init = "plugin_init"`) when the guest has some. */
export function pdkGuestToml(entryPoints: readonly string[] = []): string {
  return `[plugin]
name = "pdk-guest"
version = "1.0.0"
${entryPoints.length > 0 ? `\n[entry_points]\n${entryPoints.join('\n')}\n` : ''}
[dependencies]
lib = "^1.0.0"

[permissions]
syscalls = ["forge.*"]
filesystem = ["read", "write"]
volumes = [{ name = "data", path = "/data", mode = "rw" }]
network = ["connect"]
allowed_hosts = ["127.0.0.1"]
`;
}

/** A started pdk-guest and what it left. */
export interface PdkGuest {
  readonly registry: PluginRegistry;
  /** The host directory behind the guest's /data volume. */
  readonly volume: string;
  /** [plugin, event, payload] of every event emitted. */
  readonly events: [string, string, string][];
  /** The registry's log records (the guests' forge.log included). */
  readonly records: LogRecord[];
}

/**
 * A registry on `backend` with lib and pdk-guest (`wasm`, with `toml`) loaded, signed by the
 * test publisher, and pdk-guest started. `config` is more YAML under pdk-guest's grant's config
 * (lines indented by ten spaces); `records` collects the log records (also when the start fails).
 */
export async function startPdkGuest(
  backend: 'inline' | 'pool' | 'process',
  wasm: Buffer,
  toml: string,
  { config = '', records = [] }: { readonly config?: string; readonly records?: LogRecord[] } = {},
): Promise<PdkGuest> {
  const volume = await mkdtemp(join(tmpdir(), 'forge-pdk-volume-'));
  const yaml = ['  policy:', '    grants:', '      pdk-guest:', '        hosts: ["127.0.0.1"]', '        volumes:', `          data: { host: ${volume}, mode: rw }`, '        config:', '          greeting: hello from the operator', config, ''].join('\n');
  const { registry } = await testRegistry(backend, yaml, {}, { logger: createLogger((record) => records.push(record), 'trace') });
  try {
    const events: [string, string, string][] = [];
    registry.onEvent((plugin, name, payload) => events.push([plugin, name, read(payload)]));
    await registry.loadPlugin(await signedPlugin('lib'));
    await registry.loadPlugin(await signAsTestPublisher(makePackage({ toml, wasm })));
    await registry.startPlugin('pdk-guest');
    return { registry, volume, events, records };
  } catch (error) {
    await registry.close();
    throw error;
  }
}

/** Calls one of pdk-guest's exports and parses its JSON answer. */
export async function guestJson(registry: PluginRegistry, name: string, input: Uint8Array = new Uint8Array(0)): Promise<unknown> {
  return JSON.parse(read(await registry.call('pdk-guest', name, input))) as unknown;
}
