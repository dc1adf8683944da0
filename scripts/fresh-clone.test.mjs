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
import { accessSync, constants, cpSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOG, EXIT_CODES } from '../packages/common/dist/index.js';
import { inCi } from '../packages/common/dist/testing/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The environment without what `npm test` sets (npm_config_*, INIT_CWD), which would point npx back at this tree. */
function cleanEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== 'INIT_CWD' && value !== undefined) env[key] = value;
  }
  return env;
}

function run(command, args, cwd) {
  return spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
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
});
