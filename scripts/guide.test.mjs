// docs/guide/README.md, "Your first plugin, running under the daemon", run as written: its sh
// blocks in order from the repository root (where npx finds this tree's forge), the ones
// before the daemon's in one bash, the daemon's in a second "terminal" (its own process
// group, in work/ as the guide says, stopped with SIGINT as Ctrl-C would), the rest in a
// bash that starts in work/, as the first terminal is by then. Two departures, both checked
// to be there: the first line (`npm ci && npm run build`) is what the test run already did,
// so it is left out; and the guide's work/ becomes a directory of this run's own, so a work/
// of yours is never touched.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../packages/common/dist/testing/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const guide = readFileSync(join(root, 'docs/guide/README.md'), 'utf8');
const work = `.guide-test-${process.pid}`;
after(() => rmSync(join(root, work), { recursive: true, force: true }));

/** The section's sh blocks, work/ renamed: before the daemon, the daemon's command, after it. */
function blocks() {
  const section = guide.slice(guide.indexOf('## Your first plugin, running under the daemon'));
  const all = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1].replace(/\bwork\b/g, work));
  const daemon = all.findIndex((block) => block.startsWith('npx forge daemon'));
  assert.ok(daemon > 0, 'the section has a block that runs the daemon');
  const before = all.slice(0, daemon).join('').split('\n');
  assert.equal(before[0], 'npm ci && npm run build', 'the guide starts by building');
  return { before: before.slice(1).join('\n'), daemon: all[daemon].trim(), after: all.slice(daemon + 1).join('') };
}

/** The environment of a user's shell: without the test runner's protocol variable, which the project's own `node --test` would obey. */
function userEnv() {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function bash(script, cwd) {
  const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd, env: userEnv(), encoding: 'utf8', timeout: 180_000 });
  assert.equal(run.status, 0, `${script}\n---\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

describe('docs/guide/README.md', () => {
  it('gets a new plugin of your own running under the daemon, as the guide says', async (t) => {
    if (!requireTool(t, 'clang', ['--target=wasm32-wasi', '--version'])) return;
    const { before, daemon, after: rest } = blocks();
    const first = bash(before, root);
    assert.match(first, /# pass 2\n/, 'the project test passed');

    const second = spawn('bash', ['-c', daemon], { cwd: join(root, work), env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    second.stderr.setEncoding('utf8').on('data', (chunk) => (log += chunk));
    const exited = once(second, 'exit');
    try {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the daemon did not say it serves:\n${log}`)), 60_000);
        second.stderr.on('data', () => /forge daemon: serving \S*\/run\/forge\.sock/.test(log) && (clearTimeout(timer), resolve()));
        second.on('exit', (code) => reject(new Error(`the daemon exited ${code}:\n${log}`)));
      });
      const out = bash(rest, join(root, work));
      assert.match(out, /Hello, plugin author!/);
      assert.match(out, /^hello\s+running\s+running\s+0\.1\.0\s+Me\s+0$/m, 'forge ps: running under the daemon, signed by Me');
    } finally {
      process.kill(-second.pid, 'SIGINT');
      await exited;
    }
    assert.match(log, /"plugin":\{"id":"hello",.*"source":"forge\.log","msg":"hello ready"/, 'the plugin ran in the daemon, whose log carries its records');
  });
});
