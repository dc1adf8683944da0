/**
 * The greeter module (greeter.ts: the sample plugin's module before it moved to
 * AssemblyScript, which imports nothing) packed under other names, versions and dependencies,
 * signed by a signing workspace's publisher: the many plugins the daemon's load, crash
 * and shutdown tests install. Also the check those tests end with: the workspace's
 * audit log verified as `forge audit verify` does.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfigFile } from '@forgeone/common';
import { auditPathsFromConfig, loadCheckpointVerifyKey, verifyAuditLog, type AuditVerification } from '@forgeone/microkernel';
import { pack } from '../cli/commands/package/pack.js';
import { sign } from '../cli/commands/package/sign.js';
import { cliFor } from './cli.js';
import { greeterWasm } from './greeter.js';

const { ok } = cliFor([pack, sign]);

/** What a variant is called and needs. */
export interface SampleVariant {
  readonly name: string;
  readonly version: string;
  /** Plugin name to semver range, written to plugin.toml's [dependencies]. */
  readonly dependencies?: Readonly<Record<string, string>>;
  /**
   * [limits] timeout, for each lifecycle step and call. Default 10s, not the sample's 1s:
   * a loaded test machine can take longer than that to start a plugin in a fresh daemon.
   */
  readonly timeout?: string;
  /** TOML lines appended to plugin.toml, e.g. a `[permissions]` table. */
  readonly extraToml?: string;
}

/**
 * Packs the greeter module as `variant` and signs it with the workspace's
 * publisher (publisher.key, publisher.pem in `dir`); returns the package's path.
 */
export async function signedVariant(dir: string, variant: SampleVariant): Promise<string> {
  const src = join(dir, `src-${variant.name}-${variant.version}`);
  await mkdir(src, { recursive: true });
  const dependencies = Object.entries(variant.dependencies ?? {})
    .map(([name, range]) => `${name} = "${range}"`)
    .join('\n');
  await writeFile(
    join(src, 'plugin.toml'),
    `[plugin]\nname = "${variant.name}"\nversion = "${variant.version}"\n\n[entry_points]\ninit = "plugin_init"\nstart = "plugin_start"\nstop = "plugin_stop"\n\n[limits]\nmemory = "1MB"\ntimeout = "${variant.timeout ?? '10s'}"\n\n[dependencies]\n${dependencies}\n${variant.extraToml ?? ''}`,
  );
  await writeFile(join(src, 'plugin.wasm'), await greeterWasm());
  const file = `${variant.name}-${variant.version}.forgepkg`;
  await ok(dir, 'pack', src, '-o', file);
  await ok(dir, 'sign', file, '--key', 'publisher.key', '--cert', 'publisher.pem');
  return join(dir, file);
}

/** Verifies the audit log of the workspace `dir` (its plugin-manager.yaml) with its checkpoint public key. */
export async function verifyWorkspaceAudit(dir: string): Promise<AuditVerification> {
  const config = await loadConfigFile(join(dir, 'plugin-manager.yaml'));
  const paths = auditPathsFromConfig(config.audit, dir);
  return verifyAuditLog({ path: paths.log, keys: [await loadCheckpointVerifyKey(paths.publicKey)] });
}
