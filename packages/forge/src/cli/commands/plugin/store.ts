/**
 * What the plugin commands share: opening the store named by the configuration,
 * the `--wait` flag, and rendering installed plugins and permission diffs for a
 * terminal (every plugin-supplied value sanitised).
 */
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { parseDuration } from '@forgeone/common';
import { openConfiguredAuditLog, type AuditLog } from '@forgeone/microkernel';
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
  description: 'Without a daemon: wait up to this long (e.g. 30s) while another forge process changes the store (default: fail at once with FO_STORE_LOCKED). A daemon orders its own changes.',
} as const;

/** The principal the CLI acts as in audit records: the operating-system user running it. */
function cliPrincipal(): string {
  try {
    return `user:${userInfo().username}`;
  } catch {
    return `user:uid-${process.geteuid?.() ?? 'unknown'}`;
  }
}

/**
 * Runs `work` on the store at the configuration's plugin_directory. With `verify`
 * (install, rollback) the trust store and signer policy are loaded and, when
 * security.audit_logging is on, the configured audit log is opened so that every
 * refused install, upgrade or rollback leaves a denial record; the log is flushed and
 * closed when `work` ends, whatever happened.
 * @throws ForgeError FO_CLI_FLAG_VALUE for a bad --wait; the codes of loadCliConfig,
 *   loadAttestationSettings, the audit log's and PluginStore.open; what `work` throws
 */
export async function withCliStore<T>(
  io: CliIo,
  flags: { readonly config: string | undefined; readonly wait?: string | undefined },
  verify: boolean,
  work: (store: PluginStore) => Promise<T>,
): Promise<T> {
  let lockWaitMs = 0;
  if (flags.wait !== undefined) {
    const parsed = parseDuration(flags.wait);
    if (parsed === undefined) {
      throw badFlagValue('wait', 'a duration like "30s" or "500ms"', flags.wait);
    }
    lockWaitMs = parsed;
  }
  const { config, file } = await loadCliConfig(io, flags.config);
  const configDir = file === undefined ? io.cwd : dirname(file);
  const verification = verify ? await loadAttestationSettings(config.security, configDir) : undefined;
  const log: AuditLog | undefined = verify && config.security.audit_logging ? await openConfiguredAuditLog(config.audit, configDir) : undefined;
  try {
    const store = await PluginStore.open(storeOptionsFromConfig(config, verification, { lockWaitMs, ...(log === undefined ? {} : { audit: { log, principal: cliPrincipal() } }) }));
    return await work(store);
  } finally {
    await log?.close();
  }
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
