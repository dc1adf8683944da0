// `npm start` as a user meets it: `npm start` itself (the build, then scripts/start.mjs)
// in its own process group, with its state in a temporary XDG_STATE_HOME. It must print a
// dashboard address whose token works, a metrics address reporting the sample running, and
// a `forge call` line that, run as printed, greets; Ctrl-C (SIGINT to the whole group, as a
// terminal sends it) must stop the daemon cleanly and end the script with status 0. A second
// run (the script alone, its exit status checked) keeps the development identity and brings
// the sample back.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const forgeBin = join(root, 'packages/forge/bin/forge.js');

/** The environment without what `npm test` sets (npm_config_*, INIT_CWD), which would steer a nested npm. */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== 'INIT_CWD'));
}

/**
 * Runs `npm start` (or, with `direct`, scripts/start.mjs without the build); resolves
 * once it printed its last line, with what it printed and a way to stop it. `exited`
 * resolves when every process of the group let go of the output (npm itself dies of
 * the SIGINT at once; the script and the daemon stop in their own time).
 */
async function npmStart(stateHome, { direct = false } = {}) {
  const [command, args] = direct ? [process.execPath, [join(root, 'scripts/start.mjs')]] : ['npm', ['start']];
  const child = spawn(command, args, {
    cwd: root,
    detached: true, // its own process group, so SIGINT reaches npm, the script and the daemon as Ctrl-C does
    env: { ...cleanEnv(), XDG_STATE_HOME: stateHome, FORGE_DAEMON: '', FORGE_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  const closed = (stream) => new Promise((resolve) => stream.once('close', resolve));
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const exited = Promise.all([exit, closed(child.stdout), closed(child.stderr)]).then(([status]) => status);
  const printed = await Promise.race([
    new Promise((resolve) => {
      const check = () => (stdout.includes('Ctrl-C stops the daemon.') ? resolve(true) : setTimeout(check, 50));
      check();
    }),
    exited.then((exit) => {
      throw new Error(`npm start exited (${JSON.stringify(exit)}) before it was ready:\n${stderr}${stdout}`);
    }),
  ]);
  assert.equal(printed, true);
  return { stdout, stderr: () => stderr, exited, interrupt: () => process.kill(-child.pid, 'SIGINT') };
}

describe('npm start', () => {
  it('runs the daemon with the signed sample running, prints a dashboard, metrics and a call that works, and stops on Ctrl-C', { timeout: 180_000 }, async () => {
    const stateHome = mkdtempSync(join(tmpdir(), 'forge-start-'));
    const dev = join(stateHome, 'forgeone', 'dev');
    const first = await npmStart(stateHome);
    try {
      const dashboard = /Dashboard {2}(http:\/\/127\.0\.0\.1:\d+)\/ui\/#token=(fo_\S+)/.exec(first.stdout);
      assert.ok(dashboard, first.stdout);
      const [, url, token] = dashboard;
      const page = await fetch(`${url}/ui/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      const plugins = await fetch(`${url}/v1/plugins`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(plugins.status, 200, 'the printed token is accepted');
      const listed = (await plugins.json()).plugins.map((plugin) => [plugin.name, plugin.state, plugin.publisher]);
      assert.deepEqual(listed, [['sample-plugin', 'running', 'ForgeOne Development Publisher']]);

      const metrics = /Metrics {4}(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(first.stdout);
      assert.ok(metrics, first.stdout);
      assert.match(await (await fetch(metrics[1])).text(), /^forgeone_plugins\{state="running"\} 1$/m);

      // The call line, pasted into a shell in the checkout as printed.
      const line = first.stdout.split('\n').find((text) => text.startsWith('npx forge call '));
      assert.equal(line, `npx forge call --config ${join(dev, 'plugin-manager.yaml')} sample-plugin greet ForgeOne`);
      const called = spawnSync('sh', ['-c', line], { cwd: root, encoding: 'utf8', env: { ...cleanEnv(), FORGE_DAEMON: '', FORGE_CONFIG: '' }, timeout: 60_000 });
      assert.deepEqual([called.status, called.stdout, called.stderr], [0, 'Hello, ForgeOne!', '']);
    } finally {
      first.interrupt();
    }
    const npmExit = await first.exited;
    assert.ok(npmExit.code === 0 || npmExit.signal === 'SIGINT', JSON.stringify(npmExit));
    assert.match(first.stderr(), /forge daemon: stopping\n[^]*forge daemon: stopped\nnpm start: stopped\n$/);
    assert.match(readFileSync(join(dev, 'daemon.log'), 'utf8'), /forge daemon: stopping\nforge daemon: stopped\n$/);

    // Again: the same development identity, the sample brought back by the daemon (the install changes nothing).
    const identity = statSync(join(dev, 'publisher.pem')).mtimeMs;
    const second = await npmStart(stateHome, { direct: true });
    try {
      assert.doesNotMatch(second.stderr(), /making a development root CA/);
      assert.equal(statSync(join(dev, 'publisher.pem')).mtimeMs, identity);
      const socket = { env: { ...process.env, FORGE_DAEMON: '', FORGE_CONFIG: join(dev, 'plugin-manager.yaml') }, encoding: 'utf8' };
      const ps = spawnSync(process.execPath, [forgeBin, 'ps', '--json'], socket);
      assert.equal(ps.status, 0, ps.stderr);
      const plugins = JSON.parse(ps.stdout);
      assert.deepEqual((plugins.plugins ?? plugins).map((plugin) => [plugin.name, plugin.state, plugin.restarts]), [['sample-plugin', 'running', 0]]);
      // The first run's dashboard token is revoked: one live npm start token at a time.
      const listed = spawnSync(process.execPath, [forgeBin, 'token', 'list', '--json'], socket);
      const live = JSON.parse(listed.stdout).tokens.filter((entry) => entry.name === 'npm-start-dashboard' && entry.revokedAt === null);
      assert.equal(live.length, 1);
      assert.match(second.stdout, new RegExp(`#token=fo_${live[0].id}_`));
    } finally {
      second.interrupt();
    }
    assert.deepEqual(await second.exited, { code: 0, signal: null }, second.stderr());
  });
});
