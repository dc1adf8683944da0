/**
 * What the plugin commands share: opening the store named by the configuration,
 * the `--wait` flag, and rendering installed plugins and permission diffs for a
 * terminal (every plugin-supplied value sanitised).
 */
import { dirname } from 'node:path';
import { parseDuration } from '@forgeone/common';
import { PluginStore, renderPermissionDiff, storeOptionsFromConfig, type InstalledPlugin, type PermissionDiff, type Permissions } from '@forgeone/plugin-manager';
import { loadAttestationSettings } from '@forgeone/plugin-manager/signing';
import type { CliIo } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { badFlagValue } from '../../flag-value.js';
import { sanitizeForTerminal } from '../../terminal.js';

/** `--wait DURATION` for the commands that change the store. */
export const WAIT_FLAG = {
  name: 'wait',
  type: 'string',
  value: 'DURATION',
  description: 'Wait up to this long (e.g. 30s) while another forge process changes the store (default: fail at once with FO_STORE_LOCKED).',
} as const;

/**
 * Opens the store at the configuration's plugin_directory.
 * @param verify load the trust store and signer policy (install, rollback)
 * @throws ForgeError FO_CLI_FLAG_VALUE for a bad --wait; the codes of loadCliConfig,
 *   loadAttestationSettings and PluginStore.open
 */
export async function openCliStore(io: CliIo, flags: { readonly config: string | undefined; readonly wait?: string | undefined }, verify: boolean): Promise<PluginStore> {
  let lockWaitMs = 0;
  if (flags.wait !== undefined) {
    const parsed = parseDuration(flags.wait);
    if (parsed === undefined) {
      throw badFlagValue('wait', 'a duration like "30s" or "500ms"', flags.wait);
    }
    lockWaitMs = parsed;
  }
  const { config, file } = await loadCliConfig(io, flags.config);
  const verification = verify ? await loadAttestationSettings(config.security, file === undefined ? io.cwd : dirname(file)) : undefined;
  return PluginStore.open(storeOptionsFromConfig(config, verification, { lockWaitMs }));
}

/** An installed plugin as JSON for `--json`. */
export function pluginJson(plugin: InstalledPlugin): Record<string, unknown> {
  return {
    name: plugin.name,
    version: plugin.version,
    previous: plugin.previous?.version ?? null,
    identity: plugin.identity,
    installedAt: plugin.installedAt,
    switchedAt: plugin.switchedAt,
    approvedPermissions: plugin.current.approvedEscalations ?? null,
    permissions: plugin.manifest.permissions,
    paths: plugin.paths,
  };
}

function list(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.map(sanitizeForTerminal).join(', ');
}

/** A manifest's permissions, one line per kind, for a terminal. */
export function permissionLines(permissions: Permissions): string[] {
  return [
    `  filesystem:    ${list(permissions.filesystem)}`,
    `  network:       ${list(permissions.network)}`,
    `  allowed_hosts: ${list(permissions.allowed_hosts)}`,
    `  syscalls:      ${list(permissions.syscalls)}`,
    `  volumes:       ${list(permissions.volumes.map((volume) => `${volume.name} at ${volume.path} (${volume.mode})`))}`,
  ];
}

/** A permission diff for a terminal: `+` widens, `-` narrows, `~` changes without widening. */
export function diffLines(diff: PermissionDiff): string[] {
  return renderPermissionDiff(diff).map((line) => `  ${sanitizeForTerminal(line)}`);
}
