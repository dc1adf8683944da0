// A new user's first minute, as the README spells it: a fresh clone, `npm ci`, then
// `npx forge`. npm links a package's bin only when its file exists at install time, so a
// bin that only the build creates is missing on a fresh clone, and `npx forge` then offers
// to install an unrelated registry package named `forge`. This clones the committed HEAD
// (not the working tree: what a user gets is what git holds, file modes included).
//
// Kept fast and offline-safe: `npm ci --ignore-scripts --prefer-offline` (install scripts
// build native modules no CLI command needs, and linking bins does not depend on them;
// the cache `npm ci` filled is reused), and the clone gets this tree's built dist/
// instead of a second tsc build: the build is not what is tested here, the link is.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOG, EXIT_CODES } from '../packages/common/dist/index.js';
import { inCi } from '../packages/common/dist/testing/index.js';
import { giveTo } from '../packages/forge/dist/test-support/unprivileged.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The environment without what `npm test` sets (npm_config_*, INIT_CWD), which would
 * point npx back at this tree, and without XDG_STATE_HOME, so state goes under HOME.
 */
function cleanEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD' && key !== 'XDG_STATE_HOME' && value !== undefined) env[key] = value;
  }
  return env;
}

function run(command, args, cwd, options = {}) {
  return spawnSync(command, args, { cwd, env: { ...cleanEnv(), ...options.env }, encoding: 'utf8', timeout: 120_000, ...options.user });
}

/**
 * The README's CLI section: the sh block under "## Use the CLI", one command per line,
 * each with the exit status its comment announces ("exits N"), else 0.
 */
function readmeCommands(readme) {
  const section = readme.slice(readme.indexOf('## Use the CLI'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'README has a sh block under "## Use the CLI"');
  return block[1]
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => ({ line, status: Number(/#\s*exits (\d+)\b/.exec(line)?.[1] ?? 0) }));
}

/** A script that runs each command as written and reports its status on stderr. */
function statusScript(commands) {
  return ['set -o pipefail', ...commands.map(({ line }, index) => `${line}\necho "readme-status ${index} $?" >&2`)].join('\n');
}

/** Why this test cannot run here, or undefined. */
function unsupported() {
  const git = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (git.status !== 0) return `not a git checkout with a commit (${(git.stderr || git.error?.message || '').trim()})`;
  const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
  if (npm.status !== 0) return `npm is not available (${npm.error?.message ?? `exit ${npm.status}`})`;
  return undefined;
}

describe('a fresh clone, as the README says', () => {
  const reason = unsupported();
  let dir;
  let repo;
  before(() => {
    if (reason !== undefined) return;
    dir = mkdtempSync(join(tmpdir(), 'forge-fresh-clone-'));
    repo = join(dir, 'repo');
    const clone = run('git', ['clone', '-q', root, repo], dir);
    assert.equal(clone.status, 0, clone.stderr);
    const ci = run('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], repo);
    assert.equal(ci.status, 0, `npm ci: ${ci.stderr}`);
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('links an executable forge bin at npm ci, before any build', (t) => {
    if (reason !== undefined) {
      if (inCi()) throw new Error(`${reason}; CI runs from a clone with npm`);
      t.skip(reason);
      return;
    }
    const link = join(repo, 'node_modules', '.bin', 'forge');
    assert.ok(existsSync(link), 'node_modules/.bin/forge exists after npm ci on a fresh clone');
    assert.equal(realpathSync(link), realpathSync(join(repo, 'packages', 'forge', 'bin', 'forge.js')));
    accessSync(link, constants.X_OK);
  });

  it('npx --no-install forge says to build first, with its own exit status, before the build', (t) => {
    if (reason !== undefined) {
      if (inCi()) throw new Error(`${reason}; CI runs from a clone with npm`);
      t.skip(reason);
      return;
    }
    const npx = run('npx', ['--no-install', 'forge', '--help'], repo);
    assert.equal(npx.status, EXIT_CODES[ERROR_CATALOG.FO_CLI_NOT_BUILT.kind], npx.stderr);
    assert.match(npx.stderr, /^forge: FO_CLI_NOT_BUILT: .*run npm run build first/m);
    assert.doesNotMatch(npx.stderr, /missing packages|npx canceled/);
  });

  it('npx --no-install forge --help runs the CLI once it is built', (t) => {
    if (reason !== undefined) {
      if (inCi()) throw new Error(`${reason}; CI runs from a clone with npm`);
      t.skip(reason);
      return;
    }
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const dist = join(root, 'packages', pkg, 'dist');
      if (existsSync(dist)) cpSync(dist, join(repo, 'packages', pkg, 'dist'), { recursive: true });
    }
    const npx = run('npx', ['--no-install', 'forge', '--help'], repo);
    assert.equal(npx.status, 0, npx.stderr);
    assert.match(npx.stdout, /^Usage: forge <command>/m);
    const version = run('npx', ['--no-install', 'forge', '--version'], join(repo, 'examples'));
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^forge \d+\.\d+\.\d+/);
  });

  it('runs the README\'s CLI section as written, as a user other than root, and leaves git status clean', (t) => {
    if (reason !== undefined) {
      if (inCi()) throw new Error(`${reason}; CI runs from a clone with npm`);
      t.skip(reason);
      return;
    }
    if (spawnSync('jq', ['--version']).status !== 0) {
      if (inCi()) throw new Error('jq is not installed; CI must install it (.ci/run)');
      t.skip('jq is not installed (the README pipes JSON to it)');
      return;
    }
    // The rest of `npm run build`: the sample plugin's module (dist/ was copied above).
    const build = run(process.execPath, ['examples/sample-plugin/build.mjs'], repo);
    assert.equal(build.status, 0, build.stderr);
    // As root the README would write /var/lib/forgeone on this machine; a new user is
    // not root anyway. Everything belongs to that user, as in their own clone.
    const asRoot = process.geteuid?.() === 0;
    const user = asRoot ? { uid: 65534, gid: 65534 } : {};
    const home = join(dir, 'home');
    mkdirSync(home);
    if (asRoot) giveTo({ uid: 65534, gid: 65534 }, dir);
    const env = { HOME: home, npm_config_cache: join(home, '.npm'), npm_config_update_notifier: 'false' };

    const commands = readmeCommands(readFileSync(join(repo, 'README.md'), 'utf8'));
    assert.ok(commands.length >= 15, `${commands.length} commands`);
    const result = run('bash', ['-c', statusScript(commands)], repo, { env, user });
    const statuses = [...result.stderr.matchAll(/^readme-status (\d+) (\d+)$/gm)].map((match) => [Number(match[1]), Number(match[2])]);
    const log = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    assert.deepEqual(
      statuses.map(([index, status]) => [commands[index].line, status]),
      commands.map(({ line, status }) => [line, status]),
      log,
    );
    assert.match(result.stderr, /forge: denied wasi_snapshot_preview1\.path_open on "\/data\/secret\.txt"/, log);
    assert.ok(existsSync(join(home, '.local', 'state', 'forgeone', 'audit', 'checkpoint-key.pem')), 'the audit key went to the state directory');

    const status = run('git', ['status', '--porcelain', '--untracked-files=all'], repo, { env, user });
    assert.equal(status.status, 0, status.stderr);
    assert.equal(status.stdout, '', 'git status after the README\'s commands');
  });
});
