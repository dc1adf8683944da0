import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultConfig, loadConfigFile, type ForgeConfig } from '@forgeone/common';
import type { CliIo } from './command.js';

/** A loaded configuration and the file it came from (undefined: built-in defaults). */
export interface CliConfig {
  readonly config: ForgeConfig;
  readonly file: string | undefined;
}

/** The file name looked for in the working directory when none is named. */
export const DEFAULT_CONFIG_NAME = 'plugin-manager.yaml';

/**
 * Finds and loads the configuration for a command: the named file, else
 * $FORGE_CONFIG, else ./plugin-manager.yaml if it exists, else built-in defaults.
 * A named file (by flag or variable) that does not exist is an error, never skipped.
 *
 * @throws ForgeError FO_CONFIG_NOT_FOUND, FO_CONFIG_SYNTAX, FO_CONFIG_INVALID
 */
export async function loadCliConfig(io: CliIo, named: string | undefined): Promise<CliConfig> {
  const explicit = named ?? io.env['FORGE_CONFIG'];
  if (explicit !== undefined && explicit !== '') {
    const file = resolve(io.cwd, explicit);
    return { config: await loadConfigFile(file), file };
  }
  const local = resolve(io.cwd, DEFAULT_CONFIG_NAME);
  if (existsSync(local)) return { config: await loadConfigFile(local), file: local };
  return { config: defaultConfig(), file: undefined };
}
