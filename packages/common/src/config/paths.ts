/**
 * Where ForgeOne keeps its state (installed plugins, the audit log and its checkpoint
 * key, the daemon's socket and database) when the configuration does not say. The schema's defaults are the system ones,
 * under /var/lib/forgeone, which only root can create; a normal user gets a per-user
 * directory instead, following the XDG base-directory convention for state, so that
 * `forge list` or `forge wasi run --audit-log` work without a configuration and without
 * touching other users' files. Pure: the caller (a composition root) passes the user
 * id and environment.
 */
import { isAbsolute, join } from 'node:path';
import { ForgeError } from '../errors/index.js';

/** The state directory of root (and of the schema's defaults). */
export const SYSTEM_STATE_DIRECTORY = '/var/lib/forgeone';

/** A state directory and why it was chosen. */
export interface StateDirectory {
  /** Absolute path. */
  readonly path: string;
  /** `system`: the user is root; otherwise the variable the path came from. */
  readonly source: 'system' | 'XDG_STATE_HOME' | 'HOME';
}

/** The paths that default to places under the state directory. */
export interface StatePaths {
  readonly plugin_directory: string;
  readonly temp_directory: string;
  readonly audit_path: string;
  readonly checkpoint_key: string;
  readonly daemon_socket: string;
  readonly daemon_database: string;
  readonly marketplace_cache: string;
}

/**
 * The state directory for a user: /var/lib/forgeone for root (uid 0), else
 * `$XDG_STATE_HOME/forgeone`, else `$HOME/.local/state/forgeone`. A relative
 * XDG_STATE_HOME is ignored, as the XDG specification requires.
 *
 * @param user `uid` undefined means a platform without user ids (treated as not root);
 *   `home` is the fallback when `env.HOME` is unset (the password database's entry)
 * @throws ForgeError FO_CONFIG_NO_STATE_DIRECTORY when neither XDG_STATE_HOME nor a home
 *   directory is an absolute path
 */
export function stateDirectory(user: {
  readonly uid: number | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home?: string | undefined;
}): StateDirectory {
  if (user.uid === 0) return { path: SYSTEM_STATE_DIRECTORY, source: 'system' };
  const xdg = user.env['XDG_STATE_HOME'];
  if (xdg !== undefined && isAbsolute(xdg)) return { path: join(xdg, 'forgeone'), source: 'XDG_STATE_HOME' };
  const home = user.env['HOME'] !== undefined && user.env['HOME'] !== '' ? user.env['HOME'] : user.home;
  if (home !== undefined && isAbsolute(home)) return { path: join(home, '.local', 'state', 'forgeone'), source: 'HOME' };
  throw new ForgeError(
    'FO_CONFIG_NO_STATE_DIRECTORY',
    `cannot choose a per-user state directory: expected XDG_STATE_HOME or HOME to be an absolute path, found ${JSON.stringify(xdg ?? null)} and ${JSON.stringify(home ?? null)}; set one, or name plugin_directory and the audit paths in the configuration`,
    { details: { XDG_STATE_HOME: xdg ?? null, HOME: home ?? null } },
  );
}

/**
 * The defaults under a state directory. For the system directory they are exactly the
 * schema's defaults (temp_directory included, which stays in /tmp for root); a user's
 * scratch space stays in their own directory rather than a /tmp path another user
 * could create first.
 */
export function statePaths(state: StateDirectory): StatePaths {
  return {
    plugin_directory: join(state.path, 'plugins'),
    temp_directory: state.source === 'system' ? '/tmp/forgeone/plugins' : join(state.path, 'tmp'),
    audit_path: join(state.path, 'audit', 'audit.log'),
    checkpoint_key: join(state.path, 'audit', 'checkpoint-key.pem'),
    daemon_socket: join(state.path, 'daemon', 'forge.sock'),
    daemon_database: join(state.path, 'daemon', 'daemon.db'),
    marketplace_cache: join(state.path, 'marketplace'),
  };
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fills the path keys a configuration leaves out with paths under the state directory,
 * before validation, so a key that is present is always taken as written. Anything
 * that is not a table is left for the validator to report.
 */
export function withStateDefaults(data: unknown, paths: StatePaths): unknown {
  // Only an absent key is filled (an explicit null stays, for the validator to refuse).
  const or = (value: unknown, fallback: unknown): unknown => (value === undefined ? fallback : value);
  if (!isTable(data)) return data;
  const manager = or(data['plugin_manager'], {});
  if (!isTable(manager)) return data;
  const audit = or(manager['audit'], {});
  const daemon = or(manager['daemon'], {});
  const marketplace = or(manager['marketplace'], {});
  return {
    ...data,
    plugin_manager: {
      ...manager,
      plugin_directory: or(manager['plugin_directory'], paths.plugin_directory),
      temp_directory: or(manager['temp_directory'], paths.temp_directory),
      audit: isTable(audit) ? { ...audit, path: or(audit['path'], paths.audit_path), checkpoint_key: or(audit['checkpoint_key'], paths.checkpoint_key) } : audit,
      daemon: isTable(daemon) ? { ...daemon, socket: or(daemon['socket'], paths.daemon_socket), database: or(daemon['database'], paths.daemon_database) } : daemon,
      marketplace: isTable(marketplace) ? { ...marketplace, cache_directory: or(marketplace['cache_directory'], paths.marketplace_cache) } : marketplace,
    },
  };
}
