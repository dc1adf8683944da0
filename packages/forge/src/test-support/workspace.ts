import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caInit } from '../cli/commands/ca/init.js';
import { caIssue } from '../cli/commands/ca/issue.js';
import { keygen } from '../cli/commands/key/keygen.js';
import { cliFor } from './cli.js';

/** `securityYaml` for plugins on the worker pool, in the host process. */
export const POOLED = '    namespace_isolation: false\n';
/** `securityYaml` for the default: every plugin in a confined sandbox process. */
export const CONFINED = '';

/**
 * A directory with a forge-made root CA (`root/`), a publisher key and certificate
 * (`publisher.key`, `publisher.pem`), the root in a trust store (`trust/roots/`), and
 * `plugin-manager.yaml` using `plugins/`, that trust store and an audit log in `audit/`,
 * plus `extraYaml` (lines inside the plugin_manager table), `auditYaml` (lines inside its audit table)
 * and `securityYaml` (lines inside its security table). By default plugins run on the pool
 * (`namespace_isolation: false`): most daemon tests are about the daemon, and a confined
 * sandbox costs half a second to start on two cores; tests of the default, confined
 * backend pass `CONFINED`.
 */
export async function signingWorkspace(prefix: string, extraYaml = '', auditYaml = '', securityYaml = POOLED): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const { ok } = cliFor([caInit, caIssue, keygen]);
  await ok(dir, 'ca', 'init', '--out', 'root', '--name', 'ACME Root CA');
  await ok(dir, 'keygen', '--out', 'publisher');
  await ok(dir, 'ca', 'issue', '--ca', 'root', '--pub', 'publisher.pub', '--name', 'ACME Plugins', '--out', 'publisher.pem');
  await mkdir(join(dir, 'trust', 'roots'), { recursive: true });
  await copyFile(join(dir, 'root', 'ca.pem'), join(dir, 'trust', 'roots', 'acme.pem'));
  // The audit log stays in the workspace, never in the state directory of the user running the tests.
  const audit = `  audit:\n    path: audit/audit.log\n    checkpoint_key: audit/checkpoint-key.pem\n${auditYaml}`;
  await writeFile(join(dir, 'plugin-manager.yaml'), `plugin_manager:\n  plugin_directory: plugins\n  security:\n    trust_store: trust\n${securityYaml}${audit}${extraYaml}`);
  return dir;
}
