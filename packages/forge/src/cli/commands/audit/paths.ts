import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { auditPathsFromConfig, type AuditPaths } from '@forgeone/microkernel';
import type { CliIo } from '../../command.js';
import { loadCliConfig } from '../../config.js';

/** The audit files a command works on, and where their names came from. */
export interface CliAuditPaths extends AuditPaths {
  /** The configuration file the defaults came from; undefined for built-in defaults. */
  readonly configFile: string | undefined;
}

/**
 * The log (from `--log`, else the configuration's `audit.path`) and the configured
 * key files; relative configured paths are taken from the configuration file's
 * directory, a relative `--log` from the working directory.
 *
 * @throws ForgeError the codes of loadCliConfig
 */
export async function cliAuditPaths(io: CliIo, configFlag: string | undefined, logFlag: string | undefined): Promise<CliAuditPaths> {
  const { config, file } = await loadCliConfig(io, configFlag);
  const paths = auditPathsFromConfig(config.audit, file === undefined ? io.cwd : dirname(file));
  return { ...paths, log: logFlag === undefined ? paths.log : resolve(io.cwd, logFlag), configFile: file };
}

/** True when a default key file exists (a command falls back to it only then). */
export function keyFileExists(file: string): boolean {
  return existsSync(file);
}
