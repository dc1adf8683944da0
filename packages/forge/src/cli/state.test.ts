// A normal user's first commands without a configuration: state goes to their own XDG
// state directory, never /var/lib/forgeone, and an operating-system refusal is the
// `permission` kind (exit 11), not the policy kind `denied` (exit 4). The tests run the
// real forge process as an unprivileged user (nobody, when the tests run as root).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '@forgeone/common';
import { forge } from '../test-support/cli.js';
import { forgeAs, giveTo, unprivilegedUser, type TestUser } from '../test-support/unprivileged.js';
import { wasiCommand } from '../test-support/wasi-command.js';
import { signingWorkspace } from '../test-support/workspace.js';
import { pack } from './commands/package/pack.js';
import { sign } from './commands/package/sign.js';

/** A home directory and a working directory owned by the test user. */
async function userDirs(user: TestUser, work?: string): Promise<{ home: string; work: string }> {
  const home = await mkdtemp(join(tmpdir(), 'forge-home-'));
  const cwd = work ?? (await mkdtemp(join(tmpdir(), 'forge-work-')));
  giveTo(user, home);
  giveTo(user, cwd);
  return { home, work: cwd };
}

describe('forge as a normal user without a configuration', () => {
  it('lists, runs with --audit-log and verifies under ~/.local/state/forgeone, saying where', async (t) => {
    const user = unprivilegedUser(t);
    if (user === undefined) return;
    const guest = await wasiCommand('(call $exit (i32.const 0))');
    const { home, work } = await userDirs(user, guest);
    const state = join(home, '.local', 'state', 'forgeone');
    const as = (...argv: string[]) => forgeAs(user, argv, { cwd: work, env: { HOME: home } });

    const list = as('list');
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stderr, `no plugins installed in ${join(state, 'plugins')}\n`);

    const run = as('wasi', 'run', '--audit-log', 'audit.log', 'guest.wasm');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`created the audit checkpoint key ${join(state, 'audit', 'checkpoint-key.pem')}`));
    assert.ok(existsSync(join(state, 'audit', 'checkpoint-key.pub.pem')));
    const verify = as('audit', 'verify', '--log', 'audit.log');
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);

    const check = as('config', 'check');
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stderr, new RegExp(`state directory for paths the configuration leaves out: ${state} \\(from \\$HOME`));
  });

  it('uses $XDG_STATE_HOME/forgeone when it is set', async (t) => {
    const user = unprivilegedUser(t);
    if (user === undefined) return;
    const { home, work } = await userDirs(user);
    const run = forgeAs(user, ['list', '--json'], { cwd: work, env: { HOME: home, XDG_STATE_HOME: join(home, 'st') } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as { directory: string }).directory, join(home, 'st', 'forgeone', 'plugins'));
  });

  it('installs with a configuration that names only the trust store', async (t) => {
    const user = unprivilegedUser(t);
    if (user === undefined) return;
    const dir = await signingWorkspace('forge-user-install-');
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'plugin.toml'), '[plugin]\nname = "hello"\nversion = "1.0.0"\n');
    await writeFile(join(src, 'plugin.wasm'), Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    for (const argv of [['pack', 'src', '-o', 'hello.forgepkg'], ['sign', 'hello.forgepkg', '--key', 'publisher.key', '--cert', 'publisher.pem']]) {
      const step = await forge(argv, { cwd: dir, commands: [pack, sign] });
      assert.equal(step.status, 0, step.stderr);
    }
    await writeFile(join(dir, 'pm.yaml'), 'plugin_manager:\n  security:\n    trust_store: trust\n');
    const { home, work } = await userDirs(user, dir);
    const install = forgeAs(user, ['install', 'hello.forgepkg', '--config', 'pm.yaml'], { cwd: work, env: { HOME: home } });
    assert.equal(install.status, 0, install.stderr);
    assert.match(install.stdout, new RegExp(`path: +${join(home, '.local', 'state', 'forgeone', 'plugins')}/hello`));
  });

  it('reports a directory the operating system refuses as FO_IO_PERMISSION, exit 11, not the policy exit 4', async (t) => {
    const user = unprivilegedUser(t);
    if (user === undefined) return;
    // A directory the user cannot write in: root's own when the tests run as root, else /.
    const locked = user.uid === undefined ? '/' : await mkdtemp(join(tmpdir(), 'forge-locked-'));
    const { home, work } = await userDirs(user);
    await writeFile(join(work, 'pm.yaml'), `plugin_manager:\n  plugin_directory: ${join(locked, 'forgeone-test', 'plugins')}\n`);
    giveTo(user, work);
    const run = forgeAs(user, ['list', '--config', 'pm.yaml'], { cwd: work, env: { HOME: home } });
    assert.equal(run.status, EXIT_CODES.permission, run.stderr);
    assert.equal(EXIT_CODES.permission, 11);
    assert.match(run.stderr, /^forge: FO_IO_PERMISSION: cannot create the plugin directory: permission denied on /);
  });
});

describe('forge state directory, in process', () => {
  it('is /var/lib/forgeone for root and the XDG state directory for others, in forge config check --json', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'forge-state-'));
    const root = await forge(['config', 'check', '--json'], { cwd, uid: 0, env: { HOME: '/root' } });
    const other = await forge(['config', 'check', '--json'], { cwd, uid: 1000, env: { HOME: '/home/u' } });
    type Out = { stateDirectory: { path: string; source: string }; config: { plugin_manager: { plugin_directory: string; audit: { path: string } } } };
    const [r, o] = [JSON.parse(root.stdout) as Out, JSON.parse(other.stdout) as Out];
    assert.deepEqual([r.stateDirectory, r.config.plugin_manager.plugin_directory], [{ path: '/var/lib/forgeone', source: 'system' }, '/var/lib/forgeone/plugins']);
    assert.deepEqual(
      [o.stateDirectory, o.config.plugin_manager.plugin_directory, o.config.plugin_manager.audit.path],
      [{ path: '/home/u/.local/state/forgeone', source: 'HOME' }, '/home/u/.local/state/forgeone/plugins', '/home/u/.local/state/forgeone/audit/audit.log'],
    );
  });

  it('names the state directory in forge --help', async () => {
    const run = await forge(['--help']);
    assert.match(run.stdout, /\$XDG_STATE_HOME\/forgeone, else ~\/\.local\/state\/forgeone; \/var\/lib\/forgeone for root/);
  });
});
