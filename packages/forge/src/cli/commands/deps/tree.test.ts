import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliFor } from '../../../test-support/cli.js';
import { signingWorkspace } from '../../../test-support/workspace.js';
import { caInit } from '../ca/init.js';
import { caIssue } from '../ca/issue.js';
import { keygen } from '../key/keygen.js';
import { pack } from '../package/pack.js';
import { sign } from '../package/sign.js';
import { pluginInstall } from '../plugin/install.js';
import { depsTree } from './tree.js';

const commands = [pack, keygen, caInit, caIssue, sign, pluginInstall, depsTree];
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

const { cli, ok } = cliFor(commands);

/** A workspace with a CA, a publisher and a store in ./plugins. */
function workspace(): Promise<string> {
  return signingWorkspace('forge-deps-');
}

async function install(dir: string, name: string, version: string, dependencies: Record<string, string> = {}): Promise<void> {
  const src = join(dir, `src-${name}`);
  await mkdir(src);
  const deps = Object.entries(dependencies).map(([dep, range]) => `${dep} = "${range}"`).join('\n');
  await writeFile(join(src, 'plugin.toml'), `[plugin]\nname = "${name}"\nversion = "${version}"\n\n[dependencies]\n${deps}\n`);
  await writeFile(join(src, 'plugin.wasm'), WASM);
  await ok(dir, 'pack', src, '-o', `${name}.forgepkg`);
  await ok(dir, 'sign', `${name}.forgepkg`, '--key', 'publisher.key', '--cert', 'publisher.pem');
  await ok(dir, 'install', `${name}.forgepkg`);
}

describe('forge deps tree', () => {
  it('prints the resolved tree with the ranges asked for, and the start order', async () => {
    const dir = await workspace();
    await install(dir, 'log', '1.3.0');
    await install(dir, 'db', '2.4.0', { log: '^1.2.0' });
    await install(dir, 'app', '1.0.0', { db: '^2.0.0', log: '^1.0.0' });
    const run = await cli(dir, 'deps', 'tree', 'app');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'app 1.0.0\n├── db 2.4.0 (^2.0.0)\n│   └── log 1.3.0 (^1.2.0)\n└── log 1.3.0 (^1.0.0)\n');
    assert.equal(run.stderr, 'start order: log@1.3.0, db@2.4.0, app@1.0.0\n');
    const json = JSON.parse(await ok(dir, 'deps', 'tree', 'app', '--json')) as { startOrder: string[]; tree: { dependencies: { name: string }[] } };
    assert.deepEqual(json.startOrder, ['log@1.3.0', 'db@2.4.0', 'app@1.0.0']);
    assert.deepEqual(json.tree.dependencies.map((node) => node.name), ['db', 'log']);
  });

  it('explains a conflict as a derivation, and a missing plugin, with their exit codes', async () => {
    const dir = await workspace();
    await install(dir, 'b', '1.4.0');
    await install(dir, 'c', '1.0.0', { b: '^1.0.0' });
    await install(dir, 'a', '1.2.0', { b: '^2.0.0', c: '1.0.0' });
    const conflict = await cli(dir, 'deps', 'tree', 'a');
    assert.equal(conflict.status, 6, conflict.stderr);
    assert.match(conflict.stderr, /FO_DEPS_MISSING: a 1\.2\.0 needs b \^2\.0\.0, but the available versions are 1\.4\.0/);
    await install(dir, 'x', '1.0.0', { ghost: '^1.0.0' });
    const missing = await cli(dir, 'deps', 'tree', 'x');
    assert.equal(missing.status, 6);
    assert.match(missing.stderr, /x 1\.0\.0 needs ghost \^1\.0\.0, but no version of ghost is available/);
  });
});
