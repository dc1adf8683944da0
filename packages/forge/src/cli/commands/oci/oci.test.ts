/**
 * forge login, push, pull and install REF against a real registry (docker-registry 2.8
 * with htpasswd), packages signed by the workspace's publisher.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireRegistry, startRegistryIfPossible, type TestRegistry } from '@forgeone/plugin-manager/test-support';
import { cliFor, jsonError } from '../../../test-support/cli.js';
import { signedPlugin } from '../../../test-support/signed-plugin.js';
import { signingWorkspace } from '../../../test-support/workspace.js';
import { pluginInstall } from '../plugin/install.js';
import { pluginList } from '../plugin/list.js';
import { pack } from '../package/pack.js';
import { ociLogin } from './login.js';
import { ociPull } from './pull.js';
import { ociPush } from './push.js';

const { cli, ok } = cliFor([ociLogin, ociPush, ociPull, pluginInstall, pluginList, pack]);

describe('forge login, push, pull, install REF against docker-registry with htpasswd', () => {
  let registry: TestRegistry | undefined;
  let dir = '';
  before(async () => {
    dir = await signingWorkspace('forge-oci-cli-');
    registry = await startRegistryIfPossible({ kind: 'htpasswd', username: 'forge', password: 'sesame' });
  });
  after(() => registry?.stop());

  test('login stores checked credentials 0600; push, pull -o and install REF use them', async (t) => {
    if (!requireRegistry(t, true) || registry === undefined) return;
    const host = registry.host;
    const config = ['--registry-config', 'docker/config.json'];
    await signedPlugin(dir, { name: 'hello', version: '1.0.0' });
    await writeFile(join(dir, 'wrong'), 'nope\n');
    const refused = await cli(dir, 'login', host, '-u', 'forge', '--password-file', 'wrong', ...config);
    assert.equal(refused.status, 10, refused.stderr);
    assert.match(refused.stderr, /FO_OCI_UNAUTHORIZED/);
    assert.equal(existsSync(join(dir, 'docker/config.json')), false, 'refused credentials are not stored');
    await writeFile(join(dir, 'password'), 'sesame\n');
    await ok(dir, 'login', host, '-u', 'forge', '--password-file', 'password', ...config);
    assert.equal((await stat(join(dir, 'docker/config.json'))).mode & 0o777, 0o600);

    const pushed = JSON.parse(await ok(dir, 'push', 'hello-1.0.0.forgepkg', `${host}/forge/hello:1.0.0`, '--json', ...config)) as { digest: string; signatures: unknown[] };
    assert.equal(pushed.signatures.length, 1);
    await ok(dir, 'pull', `${host}/forge/hello@${pushed.digest}`, '-o', 'pulled.forgepkg', ...config);
    assert.ok((await readFile(join(dir, 'pulled.forgepkg'))).equals(await readFile(join(dir, 'hello-1.0.0.forgepkg'))));

    const installed = JSON.parse(await ok(dir, 'install', `${host}/forge/hello:1.0.0`, '--json', ...config)) as { plugin: { name: string } };
    assert.equal(installed.plugin.name, 'hello');
    assert.match(await ok(dir, 'list'), /hello/);
  });

  test('a failed pull writes no file; an unsigned plugin is refused by install (exit 4)', async (t) => {
    if (!requireRegistry(t, true) || registry === undefined) return;
    const host = registry.host;
    const config = ['--registry-config', 'docker/config.json'];
    await writeFile(join(dir, 'password'), 'sesame');
    await ok(dir, 'login', host, '-u', 'forge', '--password-file', 'password', ...config);
    const missing = await cli(dir, 'pull', `${host}/forge/absent:1.0.0`, '-o', 'absent.forgepkg', '--json', ...config);
    assert.equal(jsonError(missing).code, 'FO_OCI_NOT_FOUND');
    assert.equal(existsSync(join(dir, 'absent.forgepkg')), false);

    await signedPlugin(dir, { name: 'bare', version: '1.0.0' });
    // Pack again without signing: the plugin goes up with no signature referrer.
    await ok(dir, 'pack', join(dir, 'src-bare-1.0.0'), '-o', 'bare-unsigned.forgepkg');
    await ok(dir, 'push', 'bare-unsigned.forgepkg', `${host}/forge/bare:1.0.0`, ...config);
    const refused = await cli(dir, 'install', `${host}/forge/bare:1.0.0`, '--json', ...config);
    assert.equal(refused.status, 4);
    assert.equal(jsonError(refused).code, 'FO_OCI_MISSING_SIGNATURE');
    const listed = JSON.parse(await ok(dir, 'list', '--json')) as { plugins?: { name: string }[] } | { name: string }[];
    const names = (Array.isArray(listed) ? listed : (listed.plugins ?? [])).map((plugin) => plugin.name);
    assert.equal(names.includes('bare'), false);
  });

  test('pull --to DIR mirrors into an image layout that install oci:DIR:TAG installs from offline; pull needs exactly one of -o and --to', async (t) => {
    if (!requireRegistry(t, true) || registry === undefined) return;
    const host = registry.host;
    const config = ['--registry-config', 'docker/config.json'];
    await writeFile(join(dir, 'password'), 'sesame');
    await ok(dir, 'login', host, '-u', 'forge', '--password-file', 'password', ...config);
    await signedPlugin(dir, { name: 'mirror', version: '1.0.0' });
    await ok(dir, 'push', 'mirror-1.0.0.forgepkg', `${host}/forge/mirror:1.0.0`, ...config);
    const mirrored = JSON.parse(await ok(dir, 'pull', `${host}/forge/mirror:1.0.0`, '--to', 'layout', '--json', ...config)) as { digest: string; tag: string };
    assert.equal(mirrored.tag, '1.0.0');
    const index = JSON.parse(await readFile(join(dir, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]?.digest, mirrored.digest);
    for (const flags of [[], ['-o', 'x.forgepkg', '--to', 'layout2']]) {
      const run = await cli(dir, 'pull', `${host}/forge/mirror:1.0.0`, ...flags, '--json', ...config);
      assert.equal(jsonError(run).code, 'FO_CLI_MISSING_ARGUMENT', flags.join(' '));
    }
    assert.equal(existsSync(join(dir, 'x.forgepkg')) || existsSync(join(dir, 'layout2')), false);
    const offline = JSON.parse(await ok(dir, 'install', 'oci:layout:1.0.0', '--json')) as { plugin: { name: string } };
    assert.equal(offline.plugin.name, 'mirror');
    const absent = await cli(dir, 'install', 'oci:layout:2.0.0', '--json');
    assert.equal(jsonError(absent).code, 'FO_OCI_NOT_FOUND');
  });

  test('install REF installs the dependencies it lacks from the sibling repositories first', async (t) => {
    if (!requireRegistry(t, true) || registry === undefined) return;
    const host = registry.host;
    const config = ['--registry-config', 'docker/config.json'];
    await writeFile(join(dir, 'password'), 'sesame');
    await ok(dir, 'login', host, '-u', 'forge', '--password-file', 'password', ...config);
    await signedPlugin(dir, { name: 'greeter', version: '1.0.0' });
    await signedPlugin(dir, { name: 'app', version: '1.0.0', toml: '[dependencies]\ngreeter = "^1.0.0"\n' });
    await ok(dir, 'push', 'greeter-1.0.0.forgepkg', `${host}/acme/greeter:1.0.0`, ...config);
    await ok(dir, 'push', 'app-1.0.0.forgepkg', `${host}/acme/app:1.0.0`, ...config);
    const installed = JSON.parse(await ok(dir, 'install', `${host}/acme/app:1.0.0`, '--json', ...config)) as { plugin: { name: string }; dependencies: unknown[] };
    assert.equal(installed.plugin.name, 'app');
    assert.deepEqual(installed.dependencies, [{ name: 'greeter', version: '1.0.0', action: 'installed' }]);
  });

  test('an argument that is neither a file nor a reference is still a missing file', async () => {
    const run = await cli(dir, 'install', 'nothing-here.forgepkg', '--json');
    assert.equal(jsonError(run).code, 'FO_IO_NOT_FOUND');
  });
});
