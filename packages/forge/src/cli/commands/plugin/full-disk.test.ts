/**
 * `forge install` and `forge uninstall` when the disk under the plugin directory, or under
 * the audit log too, is full or read-only (docs/security.md, "Crash consistency"): a clear
 * error with its code and exit status, nothing half-installed, and the same command working
 * once there is room again. On a small tmpfs (root ignores file modes: only a full or
 * read-only mount makes writes fail for real); the test skips with the reason where it
 * cannot mount one, and fails so under CI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { mountTmpfs } from '@forgeone/common/testing';
import { cliFor, jsonError } from '../../../test-support/cli.js';
import { signingWorkspace } from '../../../test-support/workspace.js';
import { auditVerify } from '../audit/verify.js';
import { pack } from '../package/pack.js';
import { sign } from '../package/sign.js';
import { pluginInstall } from './install.js';
import { pluginList } from './list.js';
import { pluginUninstall } from './uninstall.js';

const { cli, ok } = cliFor([pack, sign, auditVerify, pluginInstall, pluginList, pluginUninstall]);
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** Packs and signs `hello` VERSION with `bulkKiB` of incompressible assets. */
async function plugin(dir: string, version: string, bulkKiB = 0): Promise<string> {
  const src = join(dir, `src-${version}`);
  await mkdir(join(src, 'assets'), { recursive: true });
  await writeFile(join(src, 'plugin.toml'), `[plugin]\nname = "hello"\nversion = "${version}"\n\n[permissions]\nfilesystem = ["read"]\n`);
  await writeFile(join(src, 'plugin.wasm'), WASM);
  if (bulkKiB > 0) await writeFile(join(src, 'assets', 'bulk.bin'), randomBytes(bulkKiB * 1024));
  const file = `hello-${version}.forgepkg`;
  await ok(dir, 'pack', src, '-o', file);
  await ok(dir, 'sign', file, '--key', 'publisher.key', '--cert', 'publisher.pem');
  return file;
}

/** A signing workspace whose plugin directory (and with `auditToo`, audit log) lives on `mount`. */
async function workspaceOn(mount: string, auditToo: boolean): Promise<string> {
  const dir = await signingWorkspace('forge-full-disk-');
  const config = join(dir, 'plugin-manager.yaml');
  let yaml = (await readFile(config, 'utf8')).replace('plugin_directory: plugins', `plugin_directory: ${join(mount, 'plugins')}`);
  if (auditToo) yaml = yaml.replace('path: audit/audit.log', `path: ${join(mount, 'audit', 'audit.log')}`);
  await writeFile(config, yaml);
  return dir;
}

/** Fills `mount` but for about `leaveKiB`. */
async function fill(mount: string, leaveKiB: number): Promise<void> {
  const stats = await statfs(mount);
  await writeFile(join(mount, 'filler'), Buffer.alloc(Math.max(0, stats.bavail * stats.bsize - leaveKiB * 1024)));
}

function installed(listJson: string): string[] {
  return (JSON.parse(listJson) as { plugins: { name: string; version: string }[] }).plugins.map((entry) => `${entry.name}@${entry.version}`);
}

describe('forge install on a full or read-only disk', () => {
  it('refuses an upgrade that does not fit with FO_IO_NO_SPACE and exit 9, keeps 1.0.0 listed and intact, and upgrades once there is room', async (t: TestContext) => {
    const fs = mountTmpfs(t, 2 * 1024 * 1024);
    if (fs === undefined) return;
    try {
      const dir = await workspaceOn(fs.dir, false);
      await ok(dir, 'install', await plugin(dir, '1.0.0'));
      const upgrade = await plugin(dir, '2.0.0', 400);
      await fill(fs.dir, 300);
      const run = await cli(dir, 'install', upgrade, '--json');
      assert.equal(run.status, 9, "exit 9: unavailable (docs/reference/cli.md)");
      assert.equal(jsonError(run).code, 'FO_IO_NO_SPACE');
      assert.deepEqual(installed(await ok(dir, 'list', '--json')), ['hello@1.0.0']);
      assert.deepEqual(await readdir(join(fs.dir, 'plugins', 'hello', 'versions')), ['1.0.0'], 'no half-installed version');
      await rm(join(fs.dir, 'filler'));
      await ok(dir, 'install', upgrade);
      assert.deepEqual(installed(await ok(dir, 'list', '--json')), ['hello@2.0.0']);
    } finally {
      fs.unmount();
    }
  });

  it('with the audit log on the full disk too, refuses the install with FO_IO_NO_SPACE, installs nothing, and keeps the log verifying', async (t: TestContext) => {
    const fs = mountTmpfs(t, 2 * 1024 * 1024);
    if (fs === undefined) return;
    try {
      const dir = await workspaceOn(fs.dir, true);
      await ok(dir, 'install', await plugin(dir, '1.0.0'));
      await ok(dir, 'uninstall', 'hello');
      const again = await plugin(dir, '1.0.1', 64);
      await fill(fs.dir, 0);
      const run = await cli(dir, 'install', again, '--json');
      assert.equal(run.status, 9, "exit 9: unavailable (docs/reference/cli.md)");
      const code = jsonError(run).code;
      assert.equal(code, 'FO_IO_NO_SPACE', 'the store finds the disk full before anything is audited');
      assert.deepEqual(installed(await ok(dir, 'list', '--json')), []);
      await rm(join(fs.dir, 'filler'));
      assert.match(await ok(dir, 'audit', 'verify'), /: OK\n/, 'the log the refusal left verifies (the configured log and key)');
      await ok(dir, 'install', again);
      assert.deepEqual(installed(await ok(dir, 'list', '--json')), ['hello@1.0.1']);
    } finally {
      fs.unmount();
    }
  });

  it('refuses install and uninstall on a read-only plugin directory with FO_IO_READ_ONLY, while list still works', async (t: TestContext) => {
    const fs = mountTmpfs(t, 2 * 1024 * 1024);
    if (fs === undefined) return;
    try {
      const dir = await workspaceOn(fs.dir, false);
      await ok(dir, 'install', await plugin(dir, '1.0.0'));
      const upgrade = await plugin(dir, '2.0.0');
      fs.remount('ro');
      assert.equal(jsonError(await cli(dir, 'install', upgrade, '--json')).code, 'FO_IO_READ_ONLY');
      assert.equal(jsonError(await cli(dir, 'uninstall', 'hello', '--json')).code, 'FO_IO_READ_ONLY');
      assert.deepEqual(installed(await ok(dir, 'list', '--json')), ['hello@1.0.0']);
      fs.remount('rw');
      await ok(dir, 'install', upgrade);
    } finally {
      fs.unmount();
    }
  });
});
