/**
 * forge init: the projects it writes build, lint, pack, sign, install and answer their own
 * test out of the box (each language's toolchain probed first: skipped with the reason
 * outside CI, failed in CI), ask for no permissions, and a bad name, an unknown language or
 * a directory in use leave nothing behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { requireTool } from '@forgeone/common/testing';
import { parsePluginToml } from '@forgeone/plugin-manager';
import { cliFor } from '../../../test-support/cli.js';
import { FORGE_CLI, type Language } from './scaffold.js';
import { init } from './init.js';

const { cli, ok } = cliFor([init]);

/** The toolchain probe of each language: the command and arguments that must succeed. */
const PROBES: Record<Language, readonly [string, readonly string[]]> = {
  c: ['clang', ['--target=wasm32-wasi', '--version']],
  rust: [process.env['RUSTC'] ?? '/usr/bin/rustc', ['--print', 'target-libdir', '--target', 'wasm32-wasi']],
  assemblyscript: ['npm', ['--version']],
};

/** Runs a project's `npm test` with this repository's forge, outside the test runner's own protocol. */
function npmTest(project: string): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, FORGE_CLI };
  delete env['NODE_TEST_CONTEXT'];
  const run = spawnSync('npm', ['test'], { cwd: project, env, encoding: 'utf8', timeout: 180_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function scaffolded(t: TestContext, language: Language): Promise<string | undefined> {
  const [command, args] = PROBES[language];
  if (!requireTool(t, command, args)) return undefined;
  const dir = await mkdtemp(join(tmpdir(), `forge-init-${language}-`));
  await ok(dir, 'init', `hello-${language}`, '--lang', language);
  return join(dir, `hello-${language}`);
}

describe('forge init', () => {
  /** The PDK files each language's project gets in pdk/ (a sample: the entry of each). */
  const PDK_ENTRY: Record<Language, string> = { c: 'forge.h', rust: 'src/lib.rs', assemblyscript: 'index.ts' };

  for (const language of ['c', 'rust', 'assemblyscript'] as const) {
    it(`writes a project in ${language} whose npm test lints, packs, signs, installs and calls the plugin`, async (t) => {
      const project = await scaffolded(t, language);
      if (project === undefined) return;
      const manifest = parsePluginToml(await readFile(join(project, 'plugin.toml'), 'utf8'));
      assert.equal(manifest.name, `hello-${language}`);
      assert.deepEqual(manifest.permissions.syscalls, []);
      assert.deepEqual(manifest.permissions.filesystem, []);
      assert.deepEqual(manifest.permissions.network, []);
      assert.deepEqual(manifest.permissions.allowed_hosts, []);
      assert.deepEqual(manifest.permissions.volumes, []);
      assert.ok((await stat(join(project, 'pdk', PDK_ENTRY[language]))).isFile(), 'the PDK is copied into pdk/');
      assert.equal((await stat(project)).mode & 0o777, 0o755);
      if (language === 'assemblyscript') {
        const install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8', timeout: 180_000 });
        assert.equal(install.status, 0, install.stderr);
      }
      const run = npmTest(project);
      assert.equal(run.status, 0, run.output);
      assert.match(run.output, /# pass 2\n/);
      assert.match(run.output, /# fail 0\n/);
    });
  }

  it('prints what it wrote as JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-init-json-'));
    const out = JSON.parse(await ok(dir, 'init', 'tool', '--dir', 'plugins/tool', '--json')) as { directory: string; language: string; files: string[]; next: string[] };
    assert.equal(out.directory, join(dir, 'plugins/tool'));
    assert.equal(out.language, 'c');
    assert.deepEqual(out.files, ['.gitignore', 'README.md', 'build.mjs', 'package.json', 'pdk/forge.h', 'pdk/forge_host.h', 'pdk/forge_json.h', 'pdk/forge_json_read.h', 'pdk/forge_json_string.h', 'plugin.c', 'plugin.toml', 'test/plugin.test.mjs']);
    assert.deepEqual(out.next, ['npm test']);
    const test = await readFile(join(dir, 'plugins/tool/test/plugin.test.mjs'), 'utf8');
    assert.ok(test.includes(`const initCli = ${JSON.stringify(FORGE_CLI)};`), 'the test names the forge that wrote it');
    assert.ok(!/\{\{\w+\}\}/.test(test), 'no placeholder is left');
  });

  it('fills an empty directory that exists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-init-empty-'));
    await mkdir(join(dir, 'p'));
    await ok(dir, 'init', 'p', '--dir', 'p');
    assert.ok((await readdir(join(dir, 'p'))).includes('plugin.toml'));
  });

  it('refuses a directory that holds anything, and leaves it as it was (FO_IO_EXISTS)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-init-busy-'));
    await mkdir(join(dir, 'p'));
    await writeFile(join(dir, 'p', 'keep.txt'), 'mine');
    const run = await cli(dir, 'init', 'p', '--dir', 'p');
    assert.equal(run.status, 7, 'the exit status of a conflict');
    assert.match(run.stderr, /FO_IO_EXISTS/);
    assert.deepEqual(await readdir(join(dir, 'p')), ['keep.txt']);
    assert.deepEqual((await readdir(dir)).sort(), ['p'], 'no staging directory is left');
  });

  it('refuses a name the manifest would refuse, writing nothing (FO_CLI_ARGUMENT_VALUE)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-init-name-'));
    for (const name of ['../escape', 'Upper', 'dash-', 'a'.repeat(65), 'sp ace']) {
      const run = await cli(dir, 'init', name);
      assert.match(run.stderr, /FO_CLI_ARGUMENT_VALUE/, name);
      assert.notEqual(run.status, 0);
    }
    assert.deepEqual(await readdir(dir), []);
  });

  it('refuses an unknown language (FO_CLI_FLAG_VALUE)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-init-lang-'));
    const run = await cli(dir, 'init', 'p', '--lang', 'cobol');
    assert.match(run.stderr, /FO_CLI_FLAG_VALUE/);
    assert.match(run.stderr, /c, rust, assemblyscript/);
    assert.deepEqual(await readdir(dir), []);
  });
});
