import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliFor, forge, jsonError } from '../../../test-support/cli.js';
import { testDaemon, signedSample, type TestDaemon } from '../../../test-support/daemon.js';
import { signedHostilePlugin } from '../../../test-support/hostile-plugin.js';
import { COMMANDS } from '../index.js';

// No FORGE_DAEMON: the commands find the test daemon on the socket its configuration names.
const { cli, ok } = cliFor(COMMANDS, {});

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

async function daemon(): Promise<TestDaemon> {
  const started = await testDaemon();
  running.push(started);
  return started;
}

/** The cells of a table's lines, split where columns are padded apart. */
function cells(table: string): string[][] {
  return table
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/ {2,}/));
}

describe('forge ps and list, with a daemon and without one', () => {
  it('shows the same columns and fields through the daemon and from the store, the store saying not-loaded and that no daemon runs', async () => {
    const d = await daemon();
    await ok(d.dir, 'install', await signedSample(d.dir));
    await ok(d.dir, 'start', 'sample-plugin');
    const remoteTable = await cli(d.dir, 'ps');
    assert.equal(remoteTable.stderr, '');
    assert.deepEqual(cells(remoteTable.stdout), [
      ['NAME', 'STATE', 'DESIRED', 'VERSION', 'PUBLISHER', 'RESTARTS'],
      ['sample-plugin', 'running', 'running', '0.1.0', 'ACME Plugins', '0'],
    ]);
    const remote = (JSON.parse(await ok(d.dir, 'ps', '--json')) as { plugins: Record<string, unknown>[] }).plugins;
    const remoteList = await cli(d.dir, 'list');
    const remoteListJson = await ok(d.dir, 'list', '--json');
    await d.close();

    const localTable = await cli(d.dir, 'ps');
    assert.equal(localTable.status, 0);
    assert.equal(localTable.stderr, `forge: no daemon answers at ${join(d.dir, 'run', 'forge.sock')}; showing the installed plugins, none loaded\n`);
    assert.deepEqual(cells(localTable.stdout), [
      ['NAME', 'STATE', 'DESIRED', 'VERSION', 'PUBLISHER', 'RESTARTS'],
      ['sample-plugin', 'not-loaded', 'running', '0.1.0', 'ACME Plugins', '0'],
    ]);
    const local = (JSON.parse(await ok(d.dir, 'ps', '--json')) as { plugins: Record<string, unknown>[] }).plugins;
    assert.equal(local.length, 1);
    assert.deepEqual(Object.keys(local[0] ?? {}).sort(), Object.keys(remote[0] ?? {}).sort(), 'the same fields');
    assert.deepEqual({ ...local[0], state: 'running' }, remote[0], 'the same values but the state; the desired state comes from the daemon database');

    const localList = await cli(d.dir, 'list');
    assert.deepEqual([localList.stdout, localList.stderr], [remoteList.stdout, remoteList.stderr], 'list reads the store either way');
    assert.equal(await ok(d.dir, 'list', '--json'), remoteListJson);
  });
});

describe('forge install, rollback, rm and uninstall through the daemon', () => {
  it('uploads with progress on a terminal only, prints what a local install prints but the path, and --json the daemon view', async () => {
    const d = await daemon();
    const pkg = await signedSample(d.dir);
    const onTerminal = await forge(['install', pkg], { cwd: d.dir, env: {}, tty: { stderr: true } });
    assert.equal(onTerminal.status, 0, onTerminal.stderr);
    assert.match(onTerminal.stderr, /^\ruploading .*sample\.forgepkg: 100% \(\d+\.\d KiB of \d+\.\d KiB\)\u001b\[K, the daemon verifies and installs it\n$/);
    assert.match(onTerminal.stdout, /^installed sample-plugin 0\.1\.0\n {2}publisher: ACME Plugins\n {2}digest: {4}sha256:[0-9a-f]{64}\nPermissions:\n {2}filesystem: {4}\(none\)\n/);
    assert.doesNotMatch(onTerminal.stdout, /path:/);

    const piped = await forge(['install', pkg], { cwd: d.dir, env: {} });
    assert.equal(piped.stderr, '', 'no progress when stderr is not a terminal');
    const json = await forge(['install', pkg, '--json'], { cwd: d.dir, env: {}, tty: { stderr: true } });
    assert.equal(json.stderr, '', 'no progress with --json');
    const outcome = JSON.parse(json.stdout) as { action: string; from: unknown; plugin: { name: string; state: string; desired: string } };
    assert.deepEqual([outcome.action, outcome.from, outcome.plugin.name, outcome.plugin.desired], ['unchanged', null, 'sample-plugin', 'stopped']);
    assert.equal(typeof outcome.plugin.state, 'string');

    await d.close();
    const local = await ok(d.dir, 'install', pkg);
    assert.equal(
      piped.stdout,
      local
        .split('\n')
        .filter((line) => !line.startsWith('  path:'))
        .join('\n'),
      'the text a local install prints, without the path line',
    );
  });

  it('refuses an upgrade asking for more permissions with the diff and exit 4, then upgrades, rolls back and removes', async () => {
    const d = await daemon();
    const v1 = await signedHostilePlugin(d.dir, '1.0.0');
    const v2 = await signedHostilePlugin(d.dir, '1.1.0', 'network = ["connect"]\nallowed_hosts = ["api.example.com"]\n');
    await ok(d.dir, 'install', v1);
    await ok(d.dir, 'start', 'hostile');

    const refused = await cli(d.dir, 'install', v2);
    assert.equal(refused.status, 4, refused.stderr);
    assert.match(
      refused.stderr,
      /^hostile 1\.1\.0 asks for permissions beyond the installed 1\.0\.0:\n {2}\+ network: connect\n {2}\+ allowed_hosts: api\.example\.com\nRun again with --approve-permissions to accept them\.\nforge: FO_STORE_APPROVAL_REQUIRED: /,
    );
    const refusedJson = jsonError(await cli(d.dir, 'install', v2, '--json'));
    assert.equal(refusedJson.code, 'FO_STORE_APPROVAL_REQUIRED');
    assert.deepEqual((refusedJson.details['diff'] as { network: { added: string[] } }).network.added, ['connect']);

    const upgraded = await ok(d.dir, 'install', v2, '--approve-permissions');
    assert.match(upgraded, /^upgraded hostile 1\.0\.0 -> 1\.1\.0\n/);
    assert.match(upgraded, /Permission changes \(approved\):\n {2}\+ network: connect\n {2}\+ allowed_hosts: api\.example\.com\nPrevious version 1\.0\.0 is kept; forge rollback hostile returns to it\.\n$/);
    assert.deepEqual(cells(await ok(d.dir, 'ps'))[1]?.slice(0, 4), ['hostile', 'running', 'running', '1.1.0'], 'a running plugin runs its new version');

    assert.equal(await ok(d.dir, 'rollback', 'hostile'), 'rolled back hostile 1.1.0 -> 1.0.0\n');
    const back = JSON.parse(await ok(d.dir, 'rollback', 'hostile', '--json')) as { plugin: { version: string; previousVersion: string; state: string } };
    assert.deepEqual([back.plugin.version, back.plugin.previousVersion, back.plugin.state], ['1.1.0', '1.0.0', 'running']);

    assert.equal(await ok(d.dir, 'rm', 'hostile'), 'uninstalled hostile 1.1.0\n');
    const gone = await cli(d.dir, 'ps');
    assert.deepEqual([gone.stdout, gone.stderr], ['', 'no plugins installed\n']);
    const missing = await cli(d.dir, 'uninstall', 'hostile', '--json');
    assert.deepEqual([missing.status, jsonError(missing).code], [6, 'FO_STORE_NOT_INSTALLED']);
  });

  it('refuses a name that is no plugin name with FO_STORE_INVALID_NAME (exit 2), with a daemon as without one', async () => {
    const d = await daemon();
    for (const argv of [['rm', '../trust'], ['uninstall', 'a/b'], ['rollback', '..'], ['start', 'UPPER'], ['call', '../x', 'f']]) {
      const run = await cli(d.dir, ...argv, '--json');
      assert.deepEqual([run.status, jsonError(run).code], [2, 'FO_STORE_INVALID_NAME'], argv.join(' '));
    }
    await d.close();
    const local = await cli(d.dir, 'rm', '../trust', '--json');
    assert.deepEqual([local.status, jsonError(local).code], [2, 'FO_STORE_INVALID_NAME']);
  });
});

describe('forge start, stop, pause, resume, restart and unload', () => {
  it('drive the plugin through the daemon and print its state', async () => {
    const d = await daemon();
    await ok(d.dir, 'install', await signedSample(d.dir));
    assert.equal(await ok(d.dir, 'start', 'sample-plugin'), 'sample-plugin: running\n');
    assert.equal(await ok(d.dir, 'pause', 'sample-plugin'), 'sample-plugin: paused\n');
    assert.equal(await ok(d.dir, 'resume', 'sample-plugin'), 'sample-plugin: running\n');
    const restarted = JSON.parse(await ok(d.dir, 'restart', 'sample-plugin', '--json')) as { name: string; state: string; desired: string };
    assert.deepEqual([restarted.name, restarted.state, restarted.desired], ['sample-plugin', 'running', 'running']);
    assert.equal(await ok(d.dir, 'stop', 'sample-plugin'), 'sample-plugin: stopped\n');
    assert.equal(await ok(d.dir, 'unload', 'sample-plugin'), 'sample-plugin: not-loaded (brought back stopped when the daemon restarts)\n');
    const missing = await cli(d.dir, 'start', 'nothing', '--json');
    assert.deepEqual([missing.status, jsonError(missing).code], [6, 'FO_STORE_NOT_INSTALLED']);
  });

  it('need a daemon: without one each fails with FO_DAEMON_NOT_RUNNING (exit 9) and says to run forge daemon', async () => {
    const d = await daemon();
    await ok(d.dir, 'install', await signedSample(d.dir));
    await d.close();
    for (const action of ['start', 'stop', 'pause', 'resume', 'restart', 'unload']) {
      const run = await cli(d.dir, action, 'sample-plugin');
      assert.equal(run.status, 9, action);
      assert.equal(run.stderr, `forge: FO_DAEMON_NOT_RUNNING: forge ${action} needs a running daemon, and none answers at ${join(d.dir, 'run', 'forge.sock')}; start one with forge daemon (or name another with FORGE_DAEMON)\n`);
      assert.equal(jsonError(await cli(d.dir, action, 'sample-plugin', '--json')).code, 'FO_DAEMON_NOT_RUNNING');
    }
  });
});
