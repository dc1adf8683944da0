/**
 * A plugin as `forge ps` shows it, the same whether it comes from a daemon
 * (GET /v1/plugins) or from the store when no daemon runs: the daemon's PluginView, with
 * state `not-loaded` for a plugin nothing hosts. The desired state comes from the
 * daemon's database when there is one, so `ps` says what a daemon would bring back.
 */
import { existsSync } from 'node:fs';
import { ForgeError, type ForgeConfig } from '@forgeone/common';
import type { InstalledPlugin } from '@forgeone/plugin-manager';
import type { PluginView } from '../../../daemon/service.js';
import { DaemonState, type DesiredState } from '../../../daemon/state.js';
import type { CliIo } from '../../command.js';
import { table } from '../../table.js';
import { sanitizeForTerminal } from '../../terminal.js';

export type { PluginView } from '../../../daemon/service.js';

/** An installed plugin that no daemon hosts, as the daemon would show it. */
export function localView(plugin: InstalledPlugin, desired: DesiredState | undefined): PluginView {
  return {
    name: plugin.name,
    version: plugin.version,
    publisher: plugin.identity.publisher,
    attested: plugin.identity.attested,
    digest: plugin.identity.digest,
    state: 'not-loaded',
    desired: desired ?? 'stopped',
    restarts: 0,
    installedAt: plugin.installedAt,
    previousVersion: plugin.previous?.version ?? null,
    permissions: plugin.manifest.permissions,
    dependencies: plugin.manifest.dependencies,
    loadError: null,
  };
}

/**
 * What each plugin should be doing, from the daemon's database (daemon.database); empty
 * when there is none. A database this version cannot read is reported on stderr, not fatal.
 * @throws ForgeError FO_IO_* from opening the database
 */
export function readDesired(io: CliIo, config: ForgeConfig): Map<string, DesiredState> {
  if (!existsSync(config.daemon.database)) return new Map();
  let state: DaemonState;
  try {
    state = DaemonState.open(config.daemon.database);
  } catch (error) {
    if (!ForgeError.is(error, 'FO_DAEMON_STATE_INVALID')) throw error;
    io.stderr.write(`warning: desired states unknown: ${sanitizeForTerminal(error.message)}\n`);
    return new Map();
  }
  try {
    return state.desired();
  } finally {
    state.close();
  }
}

function stateCell(view: PluginView): string {
  const state = sanitizeForTerminal(view.state);
  return view.loadError === null ? state : `${state} (${sanitizeForTerminal(view.loadError.code)})`;
}

/** The `forge ps` table, every plugin-supplied value sanitised. */
export function psTable(views: readonly PluginView[]): string {
  const rows = [
    ['NAME', 'STATE', 'DESIRED', 'VERSION', 'PUBLISHER', 'RESTARTS'],
    ...views.map((view) => [
      sanitizeForTerminal(view.name),
      stateCell(view),
      sanitizeForTerminal(view.desired),
      sanitizeForTerminal(view.version),
      sanitizeForTerminal(view.publisher) + (view.attested ? '' : ' (not verified)'),
      String(view.restarts),
    ]),
  ];
  return `${table(rows).join('\n')}\n`;
}
