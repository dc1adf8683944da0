import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliFor, forge, jsonError } from '../../../test-support/cli.js';
import { signedPlugin } from '../../../test-support/signed-plugin.js';
import { signingWorkspace } from '../../../test-support/workspace.js';
import { caInit } from '../ca/init.js';
import { marketplaceInit } from './init.js';
import { marketplacePublish } from './publish.js';
import { marketplaceRevoke } from './revoke.js';
import { search } from './search.js';
import { marketplaceServe } from './serve.js';
import { pluginInstall } from '../plugin/install.js';
import { pluginList } from '../plugin/list.js';

const commands = [marketplaceInit, marketplacePublish, marketplaceRevoke, marketplaceServe, search, pluginInstall, pluginList];

/** Runs `forge marketplace serve` until the returned stop() and resolves its URL. */
async function serve(dir: string, env: Record<string, string>): Promise<{ url: string; stop: () => Promise<void> }> {
  const controller = new AbortController();
  let resolveUrl: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => (resolveUrl = resolve));
  const running = forge(['marketplace', 'serve', 'market'], {
    cwd: dir,
    env,
    commands,
    signal: controller.signal,
    onOutput: ({ stdout }) => {
      if (stdout.endsWith('\n')) resolveUrl(stdout.trim());
    },
  });
  const served = await Promise.race([url, running.then((run) => assert.fail(`serve ended early: ${run.stderr}`))]);
  return {
    url: served,
    stop: async () => {
      controller.abort();
      assert.equal((await running).status, 0);
    },
  };
}

describe('forge marketplace and forge search', () => {
  it('renders help for every marketplace command with every flag', async () => {
    for (const command of commands) {
      const run = await forge([...command.path, '--help'], { commands });
      assert.equal(run.status, 0);
      for (const flag of command.flags) assert.ok(run.stdout.includes(`--${flag.name}`), `${command.path.join(' ')} --${flag.name}`);
    }
  });

  it('inits, publishes a verified package, serves, searches, revokes: end to end', async () => {
    const dir = await signingWorkspace('forge-market-cli-');
    const env = { FORGE_DAEMON: 'off', XDG_STATE_HOME: join(dir, 'state') };
    const { ok } = cliFor(commands, env);
    const root = (await ok(dir, 'marketplace', 'init', 'market')).trim();
    assert.equal(root, join(dir, 'market', 'public', 'metadata', '1.root.json'));
    await signedPlugin(dir, { name: 'kv', version: '1.0.0', toml: 'description = "A key-value store"\n[permissions]\nsyscalls = ["forge.kv_get"]\n' });
    await signedPlugin(dir, { name: 'kv', version: '1.1.0', toml: 'description = "A key-value store"\n' });
    await ok(dir, 'marketplace', 'publish', '--repo', 'market', 'kv-1.0.0.forgepkg', '--ref', 'registry.example.org/plugins/kv:1.0.0', '--keyword', 'storage');
    const published = JSON.parse(await ok(dir, 'marketplace', 'publish', '--repo', 'market', 'kv-1.1.0.forgepkg', '--ref', 'registry.example.org/plugins/kv:1.1.0', '--json')) as {
      published: { publisher: string; digest: string };
      versions: { targets: number };
    };
    assert.equal(published.published.publisher, 'ACME Plugins');
    assert.equal(published.versions.targets, 3);
    const served = await serve(dir, env);
    try {
      const found = JSON.parse(await ok(dir, 'search', 'key', 'value', '--url', served.url, '--root', root, '--json')) as {
        results: { name: string; publisher: string; keywords: string[]; latest: { version: string; digest: string; oci: string; permissions: { syscalls: string[] } } }[];
      };
      assert.deepEqual(
        found.results.map((result) => [result.name, result.publisher, result.keywords, result.latest.version, result.latest.digest, result.latest.oci]),
        [['kv', 'ACME Plugins', ['storage'], '1.1.0', published.published.digest, 'registry.example.org/plugins/kv:1.1.0']],
      );
      // Permissions come from each version's signed manifest.
      const index = JSON.parse(await readFile(join(dir, 'market', 'index.json'), 'utf8')) as { plugins: { versions: { permissions: { syscalls: string[] } }[] }[] };
      assert.deepEqual(index.plugins[0]?.versions.map((item) => item.permissions.syscalls), [['forge.kv_get'], []]);

      // From the configuration, as a table.
      await appendFile(join(dir, 'plugin-manager.yaml'), `  marketplace:\n    url: "${served.url}"\n    trusted_root: market/public/metadata/1.root.json\n    cache_directory: market-cache\n`);
      const human = await ok(dir, 'search', 'kv');
      assert.match(human, /^NAME +VERSION +PUBLISHER +STATUS +DESCRIPTION\nkv +1\.1\.0 +ACME Plugins +A key-value store\n$/);

      await ok(dir, 'marketplace', 'revoke', '--repo', 'market', '--plugin', 'kv', '--reason', 'leaks data');
      // Within refresh_interval the cached index answers; --refresh asks the marketplace.
      assert.doesNotMatch(await ok(dir, 'search', 'kv'), /REVOKED/);
      assert.match(await ok(dir, 'search', 'kv', '--refresh'), /^kv +1\.1\.0 +ACME Plugins +REVOKED +/m);

      // Without a daemon, forge install hears the same marketplace: the revoked version is
      // refused before anything is written, and the refusal is audited with what was asked for.
      const refused = await forge(['install', 'kv-1.1.0.forgepkg', '--json'], { cwd: dir, env, commands });
      assert.equal(refused.status, 4, refused.stderr);
      const error = jsonError(refused);
      assert.equal(error.code, 'FO_MARKET_PLUGIN_REVOKED');
      assert.match(error.message, /leaks data/);
      assert.deepEqual((JSON.parse(await ok(dir, 'list', '--json')) as { plugins: unknown[] }).plugins, []);
      const audit = (await readFile(join(dir, 'audit', 'audit.log'), 'utf8')).split('\n').filter((line) => line.includes('"store.install"'));
      assert.match(audit.at(-1) ?? '', /"decision":"deny"/);
      assert.match(audit.at(-1) ?? '', /FO_MARKET_PLUGIN_REVOKED/);
    } finally {
      await served.stop();
    }
  });

  it('refuses to publish a package that does not verify, and a bad OCI reference', async () => {
    const dir = await signingWorkspace('forge-market-cli-');
    const env = { FORGE_DAEMON: 'off', XDG_STATE_HOME: join(dir, 'state') };
    const { cli, ok } = cliFor(commands, env);
    await ok(dir, 'marketplace', 'init', 'market');
    await signedPlugin(dir, { name: 'kv', version: '1.0.0' });
    const badRef = await cli(dir, 'marketplace', 'publish', '--repo', 'market', 'kv-1.0.0.forgepkg', '--ref', 'kv:latest', '--json');
    assert.equal(jsonError(badRef).code, 'FO_CLI_FLAG_VALUE');
    // A trust store holding another CA: the package's signer is not trusted.
    await cliFor([caInit]).ok(dir, 'ca', 'init', '--out', 'other-ca', '--name', 'Other Root');
    await mkdir(join(dir, 'other-trust', 'roots'), { recursive: true });
    await copyFile(join(dir, 'other-ca', 'ca.pem'), join(dir, 'other-trust', 'roots', 'other.pem'));
    const untrusted = await cli(dir, 'marketplace', 'publish', '--repo', 'market', 'kv-1.0.0.forgepkg', '--ref', 'r.example.org/kv:1', '--trust', 'other-trust', '--json');
    assert.deepEqual([untrusted.status, jsonError(untrusted).code], [4, 'FO_SIGNER_UNTRUSTED']);
    const index = JSON.parse(await readFile(join(dir, 'market', 'index.json'), 'utf8')) as { plugins: unknown[] };
    assert.deepEqual(index.plugins, [], 'nothing was published');
  });

  it('says no marketplace is configured (FO_MARKET_NOT_CONFIGURED), and refuses --url without --root', async () => {
    const dir = await signingWorkspace('forge-market-cli-');
    const { cli } = cliFor(commands, { FORGE_DAEMON: 'off', XDG_STATE_HOME: join(dir, 'state') });
    const none = await cli(dir, 'search', 'kv', '--json');
    assert.deepEqual([none.status, jsonError(none).code], [2, 'FO_MARKET_NOT_CONFIGURED']);
    const half = await cli(dir, 'search', 'kv', '--url', 'http://127.0.0.1:1/', '--json');
    assert.equal(jsonError(half).code, 'FO_CLI_MISSING_ARGUMENT');
  });
});
