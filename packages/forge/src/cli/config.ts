import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { defaultConfig, loadConfigFile, stateDirectory, statePaths, type ForgeConfig, type StateDirectory } from '@forgeone/common';
import type { CliIo } from './command.js';

/** A loaded configuration, the file it came from (undefined: built-in defaults) and the state directory its absent paths default to. */
export interface CliConfig {
  readonly config: ForgeConfig;
  readonly file: string | undefined;
  readonly state: StateDirectory;
}

/** The file name looked for in the working directory when none is named. */
export const DEFAULT_CONFIG_NAME = 'plugin-manager.yaml';

/**
 * The directory plugin_directory and the audit paths default to for the user forge runs
 * as: /var/lib/forgeone for root, else $XDG_STATE_HOME/forgeone, else
 * ~/.local/state/forgeone (HOME, else the password database's home directory).
 *
 * @throws ForgeError FO_CONFIG_NO_STATE_DIRECTORY
 */
export function cliStateDirectory(io: CliIo): StateDirectory {
  return stateDirectory({ uid: io.uid, env: io.env, home: io.env['HOME'] === undefined ? homedir() : undefined });
}

/** One line for people: where state goes when the configuration does not say, and why. */
export function describeStateDirectory(state: StateDirectory): string {
  const why = state.source === 'system' ? 'the default for root' : state.source === 'XDG_STATE_HOME' ? 'from $XDG_STATE_HOME' : 'from $HOME; set XDG_STATE_HOME to move it';
  return `${state.path} (${why})`;
}

/**
 * Finds and loads the configuration for a command: the named file, else
 * $FORGE_CONFIG, else ./plugin-manager.yaml if it exists, else built-in defaults.
 * A named file (by flag or variable) that does not exist is an error, never skipped.
 * Paths the configuration leaves out go under {@link cliStateDirectory}.
 *
 * @throws ForgeError FO_CONFIG_NOT_FOUND, FO_CONFIG_SYNTAX, FO_CONFIG_INVALID, FO_CONFIG_NO_STATE_DIRECTORY
 */
export async function loadCliConfig(io: CliIo, named: string | undefined): Promise<CliConfig> {
  const state = cliStateDirectory(io);
  const options = { statePaths: statePaths(state) };
  const explicit = named ?? io.env['FORGE_CONFIG'];
  if (explicit !== undefined && explicit !== '') {
    const file = resolve(io.cwd, explicit);
    return { config: await loadConfigFile(file, options), file, state };
  }
  const local = resolve(io.cwd, DEFAULT_CONFIG_NAME);
  if (existsSync(local)) return { config: await loadConfigFile(local, options), file: local, state };
  return { config: defaultConfig(options), file: undefined, state };
}
