import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliFor, forge, jsonError } from '../../../test-support/cli.js';
import { signingWorkspace } from '../../../test-support/workspace.js';
import { caInit } from '../ca/init.js';
import { caIssue } from '../ca/issue.js';
import { keygen } from '../key/keygen.js';
import { auditVerify } from '../audit/verify.js';
import { pack } from '../package/pack.js';
import { sign } from '../package/sign.js';
import { pluginInstall } from './install.js';
import { pluginList } from './list.js';
import { pluginRollback } from './rollback.js';
import { pluginUninstall } from './uninstall.js';

const PLUGIN_COMMANDS = [pluginInstall, pluginUninstall, pluginList, pluginRollback];
const commands = [pack, keygen, caInit, caIssue, sign, auditVerify, ...PLUGIN_COMMANDS];
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

const { cli, ok } = cliFor(commands);

/** Packs (and unless `unsigned`, signs with the workspace's publisher) a plugin as NAME-VERSION.forgepkg. */
async function plugin(dir: string, name: string, version: string, permissions = 'filesystem = ["read"]', unsigned = false): Promise<string> {
  const src = join(dir, `src-${name}-${version}`);
  await mkdir(src);
  await writeFile(join(src, 'plugin.toml'), `[plugin]\nname = "${name}"\nversion = "${version}"\n\n[permissions]\n${permissions}\n`);
  await writeFile(join(src, 'plugin.wasm'), WASM);
  const file = `${name}-${version}.forgepkg`;
  await ok(dir, 'pack', src, '-o', file);
  if (!unsigned) await ok(dir, 'sign', file, '--key', 'publisher.key', '--cert', 'publisher.pem');
  return file;
}

/** A workspace with a forge-made root CA in ./trust, a publisher, and a configuration using ./plugins. */
function workspace(maxPlugins = 10): Promise<string> {
  return signingWorkspace('forge-plugin-', `  max_plugins: ${maxPlugins}\n`);
}

describe('forge install, list, rollback and uninstall', () => {
  it('renders help for every plugin command with every flag', async () => {
    for (const command of PLUGIN_COMMANDS) {
      const run = await forge([...command.path, '--help'], { commands });
      assert.equal(run.status, 0);
      for (const flag of command.flags) assert.ok(run.stdout.includes(`--${flag.name}`), `${command.path.join(' ')} --${flag.name}`);
    }
  });

  it('installs, upgrades with permission approval, lists, rolls back and uninstalls', async () => {
    const dir = await workspace();
    const v1 = await plugin(dir, 'hello', '1.0.0');
    const v2 = await plugin(dir, 'hello', '1.1.0', 'filesystem = ["read"]\nnetwork = ["connect"]\nallowed_hosts = ["api.example.com"]');

    const installed = await ok(dir, 'install', v1);
    assert.match(installed, /^installed hello 1\.0\.0\n {2}publisher: ACME Plugins\n {2}digest: {4}sha256:[0-9a-f]{64}\n/);
    assert.match(installed, /Permissions:\n {2}filesystem: {4}read\n/);

    const refused = await cli(dir, 'install', v2);
    assert.equal(refused.status, 4, refused.stderr);
    assert.equal(
      refused.stderr,
      'hello 1.1.0 asks for permissions beyond the installed 1.0.0:\n  + network: connect\n  + allowed_hosts: api.example.com\nRun again with --approve-permissions to accept them.\n' +
        `forge: FO_STORE_APPROVAL_REQUIRED: expected hello 1.1.0 to ask for no permissions beyond the installed 1.0.0's, found 2 more (network: connect; allowed_hosts: api.example.com); approve them to install\n`,
    );
    const refusedJson = jsonError(await cli(dir, 'install', v2, '--json'));
    assert.equal(refusedJson.code, 'FO_STORE_APPROVAL_REQUIRED');
    assert.deepEqual((refusedJson.details['diff'] as { network: { added: string[] } }).network.added, ['connect']);

    const upgraded = await ok(dir, 'install', v2, '--approve-permissions');
    assert.match(upgraded, /^upgraded hello 1\.0\.0 -> 1\.1\.0\n/);
    assert.match(upgraded, /Permission changes \(approved\):\n {2}\+ network: connect\n {2}\+ allowed_hosts: api\.example\.com\n/);
    assert.match(upgraded, /Previous version 1\.0\.0 is kept; forge rollback hello returns to it\.\n$/);

    const table = await ok(dir, 'list');
    assert.match(table, /^NAME {3}VERSION {2}PREVIOUS {2}PUBLISHER {5}INSTALLED {17}DIGEST\nhello {2}1\.1\.0 {4}1\.0\.0 {5}ACME Plugins {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}sha256:[0-9a-f]{12}\.\.\.\n$/);
    const listed = JSON.parse(await ok(dir, 'list', '--json')) as { directory: string; plugins: { name: string; version: string; previous: string; approvedPermissions: string[]; paths: { data: string } }[] };
    assert.equal(listed.directory, join(dir, 'plugins'));
    assert.deepEqual(
      listed.plugins.map((p) => [p.name, p.version, p.previous, p.approvedPermissions]),
      [['hello', '1.1.0', '1.0.0', ['network: connect', 'allowed_hosts: api.example.com']]],
    );
    assert.equal(listed.plugins[0]?.paths.data, join(dir, 'plugins', 'hello', 'data'));

    assert.equal(await ok(dir, 'install', v2), `hello 1.1.0 is already installed; nothing changed\n  publisher: ACME Plugins\n  digest:    ${/sha256:[0-9a-f]{64}/.exec(upgraded)?.[0] ?? ''}\n  path:      ${join(dir, 'plugins', 'hello', 'versions', '1.1.0')}\n`);

    assert.equal(await ok(dir, 'rollback', 'hello'), 'rolled back hello 1.1.0 -> 1.0.0\n');
    const after = JSON.parse(await ok(dir, 'rollback', 'hello', '--json')) as { plugin: { version: string; previous: string } };
    assert.deepEqual([after.plugin.version, after.plugin.previous], ['1.1.0', '1.0.0']);

    assert.equal(await ok(dir, 'uninstall', 'hello'), 'uninstalled hello 1.1.0\n');
    const empty = await cli(dir, 'list');
    assert.equal(empty.stdout, '');
    assert.equal(empty.stderr, `no plugins installed in ${join(dir, 'plugins')}\n`);
    assert.deepEqual(await readdir(join(dir, 'plugins')), ['.store']);
  });

  it('refuses an unsigned package (exit 4) and installs nothing', async () => {
    const dir = await workspace();
    const unsigned = await plugin(dir, 'hello', '1.0.0', undefined, true);
    const run = await cli(dir, 'install', unsigned, '--json');
    assert.equal(run.status, 4, run.stderr);
    assert.equal(jsonError(run).code, 'FO_VERIFY_UNSIGNED');
    assert.deepEqual((JSON.parse(await ok(dir, 'list', '--json')) as { plugins: unknown[] }).plugins, []);
  });

  it('records every refused install and rollback in the configured audit log, with who asked and what', async () => {
    const dir = await workspace();
    const unsigned = await plugin(dir, 'hello', '1.0.0', undefined, true);
    assert.equal((await cli(dir, 'install', unsigned)).status, 4);
    assert.equal((await cli(dir, 'rollback', 'hello')).status, 6);
    const records = (await readFile(join(dir, 'audit', 'audit.log'), 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { type: string; action?: string; decision?: string; principal?: string; resource?: string; reason?: string });
    const refusals = records.filter((record) => record.type === 'event');
    assert.deepEqual(
      refusals.map((record) => [record.action, record.decision, record.principal, record.reason?.split(':')[0]]),
      [
        ['store.install', 'deny', `user:${userInfo().username}`, 'FO_VERIFY_UNSIGNED'],
        ['store.rollback', 'deny', `user:${userInfo().username}`, 'FO_STORE_NOT_INSTALLED'],
      ],
    );
    assert.equal(refusals[0]?.resource, join(dir, unsigned));
    assert.equal((await cli(dir, 'audit', 'verify', '--log', 'audit/audit.log')).status, 0, 'the chain verifies');
  });

  it('maps store refusals to their exit codes: full 8, downgrade 7, not installed 6, locked 9, bad name 2', async () => {
    const dir = await workspace(1);
    await ok(dir, 'install', await plugin(dir, 'hello', '1.0.0'));
    const full = await cli(dir, 'install', await plugin(dir, 'other', '1.0.0'), '--json');
    assert.equal(full.status, 8);
    assert.equal(jsonError(full).code, 'FO_STORE_FULL');

    const older = await plugin(dir, 'hello', '0.9.0');
    const downgrade = await cli(dir, 'install', older, '--json');
    assert.equal(downgrade.status, 7);
    assert.equal(jsonError(downgrade).code, 'FO_STORE_DOWNGRADE');
    assert.match(await ok(dir, 'install', older, '--allow-downgrade'), /^downgraded hello 1\.0\.0 -> 0\.9\.0\n/);

    const missing = await cli(dir, 'uninstall', 'nope', '--json');
    assert.equal(missing.status, 6);
    assert.equal(jsonError(missing).code, 'FO_STORE_NOT_INSTALLED');
    const hostile = await cli(dir, 'uninstall', '../trust', '--json');
    assert.equal(hostile.status, 2);
    assert.equal(jsonError(hostile).code, 'FO_STORE_INVALID_NAME');
    assert.deepEqual((await readdir(join(dir, 'trust'))).sort(), ['roots']);
    const holder = { pid: process.pid, host: hostname(), boot: '', start: '', token: 'another-forge', operation: 'install other 1.0.0', since: new Date().toISOString() };
    await writeFile(join(dir, 'plugins', '.store', 'lock'), JSON.stringify(holder));
    const locked = await cli(dir, 'uninstall', 'hello', '--wait', '50ms', '--json');
    assert.equal(locked.status, 9);
    assert.equal(jsonError(locked).code, 'FO_STORE_LOCKED');
    assert.deepEqual(jsonError(locked).details['holder'], holder);
    await rm(join(dir, 'plugins', '.store', 'lock'));
    const badWait = await cli(dir, 'rollback', 'hello', '--wait', 'soon', '--json');
    assert.equal(badWait.status, 2);
    assert.equal(jsonError(badWait).code, 'FO_CLI_FLAG_VALUE');
  });
});
