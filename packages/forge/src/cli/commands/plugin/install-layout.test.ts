/**
 * forge pull --to DIR mirrors a plugin with its dependencies; forge install oci:DIR:TAG
 * installs them offline (the registry stopped), through a daemon and without one, and a
 * refused plugin takes the dependencies it brought back out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requireRegistry, startRegistryIfPossible, type TestRegistry } from '@forgeone/plugin-manager/test-support';
import { cliFor, jsonError } from '../../../test-support/cli.js';
import { testDaemon, type TestDaemon } from '../../../test-support/daemon.js';
import { signedPlugin } from '../../../test-support/signed-plugin.js';
import { signingWorkspace } from '../../../test-support/workspace.js';
import { COMMANDS } from '../index.js';

const { cli, ok } = cliFor(COMMANDS, {});
const registryConfig = ['--registry-config', 'no-credentials.json'];

interface Installed {
  readonly action: string;
  readonly plugin: { readonly name: string; readonly version: string };
  readonly dependencies: readonly { name: string; version: string; action: string }[];
}

describe('forge pull --to with dependencies, then forge install oci:DIR offline', () => {
  let registry: TestRegistry | undefined;
  let d: TestDaemon | undefined;
  const stopped = { registry: false, daemon: false };
  before(async () => {
    registry = await startRegistryIfPossible();
    if (registry === undefined) return;
    // The daemon's workspace signs the plugins, so its trust store knows their publisher.
    d = await testDaemon();
    const host = registry.host;
    await signedPlugin(d.dir, { name: 'lib', version: '1.0.0' });
    await signedPlugin(d.dir, { name: 'lib', version: '1.2.0' });
    await signedPlugin(d.dir, { name: 'tool', version: '1.0.0', toml: '[dependencies]\nlib = "^1.0.0"\n' });
    for (const [file, ref] of [['lib-1.0.0', 'lib:1.0.0'], ['lib-1.2.0', 'lib:1.2.0'], ['tool-1.0.0', 'tool:1.0.0']]) await ok(d.dir, 'push', `${file}.forgepkg`, `${host}/acme/${ref}`, ...registryConfig);
    // A plugin signed by a publisher the daemon does not trust, needing lib too.
    const stranger = await signingWorkspace('forge-stranger-');
    await signedPlugin(stranger, { name: 'odd', version: '1.0.0', toml: '[dependencies]\nlib = "1.0.0"\n' });
    await ok(stranger, 'push', 'odd-1.0.0.forgepkg', `${host}/acme/odd:1.0.0`, ...registryConfig);
  });
  after(async () => {
    if (!stopped.daemon) await d?.close();
    if (!stopped.registry) await registry?.stop();
  });

  test('pull --to mirrors the dependencies under NAME:VERSION; install oci: installs them first, through the daemon and without it', async (t) => {
    if (!requireRegistry(t) || registry === undefined || d === undefined) return;
    const mirrored = JSON.parse(await ok(d.dir, 'pull', `${registry.host}/acme/tool:1.0.0`, '--to', 'mirror', '--json', ...registryConfig)) as { tag: string; dependencies: { name: string; version: string; refName: string; reference: string }[] };
    assert.equal(mirrored.tag, '1.0.0');
    assert.deepEqual(mirrored.dependencies.map((entry) => [entry.name, entry.version, entry.refName, entry.reference]), [['lib', '1.2.0', 'lib:1.2.0', `${registry.host}/acme/lib:1.2.0`]]);
    const text = await ok(d.dir, 'pull', `${registry.host}/acme/odd:1.0.0`, '--to', 'mirror', ...registryConfig);
    assert.match(text, /^ {2}dependency lib 1\.0\.0 as lib:1\.0\.0 \(sha256:[0-9a-f]{64}\)$/m);
    await registry.stop();
    stopped.registry = true;

    // Through the daemon: each package uploaded, dependencies first. odd's pull took the tag
    // 1.0.0 (the last pull names it); tool is still listed as tool:1.0.0.
    const through = JSON.parse(await ok(d.dir, 'install', 'oci:mirror:tool:1.0.0', '--json')) as Installed;
    assert.deepEqual([through.plugin.name, through.plugin.version, through.dependencies], ['tool', '1.0.0', [{ name: 'lib', version: '1.2.0', action: 'installed' }]]);
    const listed = JSON.parse(await ok(d.dir, 'ps', '--json')) as { plugins: { name: string; version: string }[] };
    assert.deepEqual(listed.plugins.map((plugin) => `${plugin.name} ${plugin.version}`).sort(), ['lib 1.2.0', 'tool 1.0.0']);
    // A dependency mirrored under NAME:VERSION is installable by that name (DIR ends at the first colon).
    assert.equal((JSON.parse(await ok(d.dir, 'install', 'oci:mirror:lib:1.2.0', '--json')) as Installed).action, 'unchanged');

    // Refused by the daemon's trust store after lib 1.0.0 went in for it: lib is taken out again.
    await ok(d.dir, 'uninstall', 'tool');
    await ok(d.dir, 'uninstall', 'lib');
    const refused = await cli(d.dir, 'install', 'oci:mirror:odd:1.0.0', '--json');
    assert.notEqual(refused.status, 0);
    const refusal = jsonError(refused);
    // The stranger's certificate names a root of the same name, which did not issue it.
    assert.equal(refusal.code, 'FO_CHAIN_SIGNATURE', refusal.message);
    assert.deepEqual((JSON.parse(await ok(d.dir, 'ps', '--json')) as { plugins: unknown[] }).plugins, []);

    // Without a daemon: the same plan, installed into the store directly.
    await d.close();
    stopped.daemon = true;
    const local = JSON.parse(await ok(d.dir, 'install', 'oci:mirror:tool:1.0.0', '--json')) as Installed;
    assert.deepEqual([local.plugin.name, local.dependencies], ['tool', [{ name: 'lib', version: '1.2.0', action: 'installed' }]]);
    const missing = await cli(d.dir, 'install', 'oci:mirror:absent', '--json');
    assert.equal(jsonError(missing).code, 'FO_OCI_NOT_FOUND');
  });
});
