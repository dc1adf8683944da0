#!/usr/bin/env node
// `npm start`: the daemon running the signed sample plugin, with the dashboard up.
//
// Everything lives in a development state directory, $XDG_STATE_HOME/forgeone/dev (else
// ~/.local/state/forgeone/dev), kept between runs: a development root CA and publisher
// (made on the first run), the trust store holding that root, the sample plugin packed and
// signed, the configuration, the plugin store, the audit log and the daemon's database.
// Each run: build and sign the sample, start `forge daemon` on that configuration,
// install the sample through its API (the same version again changes nothing), start it,
// create a dashboard token, print where everything is and a `forge call` to try. Ctrl-C
// stops the daemon the way SIGTERM does (plugins stopped, the audit log checkpointed).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, copyFileSync, createWriteStream, existsSync, lstatSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const forgeBin = join(root, 'packages/forge/bin/forge.js');
const sample = join(root, 'examples/sample-plugin');
const stateHome = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
const dev = join(stateHome, 'forgeone', 'dev');
const config = join(dev, 'plugin-manager.yaml');
const packagePath = join(dev, 'sample-plugin.forgepkg');
const logPath = join(dev, 'daemon.log');
const quote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

/**
 * Runs `forge ARGS` against the development configuration; resolves to its stdout, or fails
 * with what forge said. Asynchronous, so the daemon's log pipe keeps being read meanwhile.
 */
function forge(args, { json = false, allow = () => false } = {}) {
  // The development daemon only: a FORGE_DAEMON or FORGE_TOKEN of the user's shell must not
  // send the install or the new token anywhere else.
  const env = { ...process.env, FORGE_CONFIG: config, FORGE_DAEMON: `unix:${join(dev, 'run', 'forge.sock')}` };
  delete env.FORGE_TOKEN;
  const child = spawn(process.execPath, [forgeBin, ...args], { cwd: dev, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      if (code !== 0 && allow(stderr)) return resolve(undefined);
      if (code !== 0) fail(`forge ${args.map(quote).join(' ')} exited with ${code ?? signal}:\n${stderr}${stdout}`);
      resolve(json ? JSON.parse(stdout) : stdout);
    });
  });
}

function step(message) {
  console.error(`npm start: ${message}`);
}

// 1. The development identity: a root CA, a publisher key and its certificate, the root in the trust store.
mkdirSync(dev, { recursive: true, mode: 0o700 });
// It holds the development CA's key and the daemon's database, and what it holds is
// trusted (its CA goes into the trust store): it and forgeone/ must be real directories of
// this user that nobody else can write, else someone else could plant a CA or a link.
for (const dir of [dirname(dev), dev]) {
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    fail(`${dir} must be a directory owned by this user (uid ${uid}) that no one else can write; found ${stat.isDirectory() ? `one owned by uid ${stat.uid} with mode ${(stat.mode & 0o777).toString(8)}` : 'something else'}. Remove it or set XDG_STATE_HOME to a directory of your own.`);
  }
}
chmodSync(dev, 0o700);
if (!existsSync(join(dev, 'publisher.pem'))) {
  step(`making a development root CA and publisher in ${dev}`);
  await forge(['ca', 'init', '--out', 'ca', '--name', 'ForgeOne Development Root CA']);
  await forge(['keygen', '--out', 'publisher']);
  await forge(['ca', 'issue', '--ca', 'ca', '--pub', 'publisher.pub', '--name', 'ForgeOne Development Publisher', '--out', 'publisher.pem']);
}
mkdirSync(join(dev, 'trust', 'roots'), { recursive: true });
copyFileSync(join(dev, 'ca', 'ca.pem'), join(dev, 'trust', 'roots', 'development.pem'));

// 2. The configuration: everything under the state directory, the API also on a free loopback port.
/** Writes `path` afresh, never through a link planted in its place. */
function writeOwn(path, text) {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
writeOwn(
  config,
  `# Written by npm start (scripts/start.mjs) on every run; docs/reference/config.md has every key.
plugin_manager:
  plugin_directory: plugins
  security:
    trust_store: trust
  audit:
    path: audit/audit.log
    checkpoint_key: audit/checkpoint-key.pem
  daemon:
    socket: run/forge.sock
    database: run/daemon.db
    listen: 127.0.0.1:0
  telemetry:
    prometheus_listen: 127.0.0.1:0
    # No OpenTelemetry collector runs beside the development daemon; see docs/observability.md.
    tracing_enabled: false
`,
);

// 3. The sample plugin, built, packed and signed by the development publisher.
step('packing and signing examples/sample-plugin');
const build = spawnSync(process.execPath, [join(sample, 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) fail('building the sample plugin failed');
await forge(['pack', sample, '-o', packagePath]);
await forge(['sign', packagePath, '--key', 'publisher.key', '--cert', 'publisher.pem']);

// 4. The daemon, its JSON log lines kept in daemon.log (warnings and errors shown here too).
step(`starting forge daemon (log: ${logPath})`);
const log = createWriteStream(logPath, { fd: openSync(logPath, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600) });
const daemon = spawn(process.execPath, [forgeBin, 'daemon', '--config', config], { cwd: dev, stdio: ['ignore', 'inherit', 'pipe'] });
const exited = new Promise((resolve) => daemon.once('exit', (code, signal) => resolve(code ?? signal)));
let stopping = false;
let said = '';
let daemonStopping = false;
const serving = new Promise((resolve) => {
  let pending = '';
  daemon.stderr.setEncoding('utf8');
  daemon.stderr.on('data', (chunk) => {
    log.write(chunk);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      said = `${said}${line}\n`.slice(-4000);
      const ready = /^forge daemon: serving (\S+) and (\S+); metrics at (\S+)$/.exec(line);
      if (line === 'forge daemon: stopping') daemonStopping = true;
      if (ready) resolve({ socket: ready[1], url: ready[2], metrics: ready[3] });
      else if (!line.startsWith('{')) console.error(line);
      else showIfLoud(line);
    }
  });
});

/** Shows a daemon log record at warn level or above as one readable line. */
function showIfLoud(line) {
  try {
    const record = JSON.parse(line);
    if (record.level >= 40) console.error(`forge daemon ${record.level >= 50 ? 'error' : 'warning'}: ${record.msg}${record.code ? ` (${record.code})` : ''}`);
  } catch {
    console.error(line);
  }
}

void exited.then((status) => {
  if (stopping) return;
  console.error(`npm start: forge daemon exited (${status}) unexpectedly; its last words:\n${said}`);
  process.exit(1);
});

const stop = () => {
  if (stopping) return;
  stopping = true;
  step('stopping forge daemon');
  // A terminal's Ctrl-C reaches the daemon too (same process group); a signal sent to this
  // script alone is passed on. The daemon takes a third signal as "exit at once", so only one is sent.
  setTimeout(() => daemonStopping || daemon.kill('SIGTERM'), 500);
  const timer = setTimeout(() => fail('forge daemon did not stop within 10 s'), 10_000);
  void exited.then((status) => {
    clearTimeout(timer);
    log.end();
    step(status === 0 ? 'stopped' : `forge daemon exited with ${status}`);
    process.exit(status === 0 ? 0 : 1);
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const endpoints = await serving;

// 5. The sample plugin installed through the daemon's API and running; a dashboard token.
// The sample is built from this checkout, so the developer running this is its operator:
// permissions their edits add are approved. A sample whose content changed at the same
// version (a state directory from an earlier checkout) cannot replace the installed one in
// place (FO_STORE_VERSION_EXISTS): it is uninstalled first, its data with it.
const install = ['install', packagePath, '--approve-permissions', '--json'];
let installed = await forge(install, { json: true, allow: (stderr) => stderr.includes('FO_STORE_VERSION_EXISTS') });
if (installed === undefined) {
  step('the sample plugin changed since the last run at the same version: reinstalling it (its data is reset)');
  await forge(['uninstall', 'sample-plugin']);
  installed = await forge(install, { json: true });
}
const plugins = await forge(['ps', '--json'], { json: true });
const entry = (Array.isArray(plugins) ? plugins : plugins.plugins).find((plugin) => plugin.name === 'sample-plugin');
if (entry?.state !== 'running') await forge(['start', 'sample-plugin']);
// One dashboard token at a time: the ones earlier runs printed are revoked first.
const { tokens } = await forge(['token', 'list', '--json'], { json: true });
for (const earlier of tokens.filter((entry) => entry.name === 'npm-start-dashboard' && entry.revokedAt === null)) await forge(['token', 'revoke', earlier.id]);
const token = (await forge(['token', 'create', '--name', 'npm-start-dashboard', '--role', 'admin', '--expires', '12h'])).trim();

const version = installed.plugin?.version ?? installed.version ?? '0.1.0';
console.log(`
ForgeOne is running: forge daemon hosts the signed sample plugin (sample-plugin ${version}).

  Dashboard  ${endpoints.url}/ui/#token=${token}
  API        ${endpoints.url} (Authorization: Bearer ${token}) and ${endpoints.socket}
  Metrics    ${endpoints.metrics}
  State      ${dev} (daemon log: daemon.log)

Call the plugin from another terminal:

npx forge call --config ${quote(config)} sample-plugin greet ForgeOne

More: npx forge ps --config ${quote(config)}, npx forge logs -f --config ${quote(config)} sample-plugin, docs/daemon.md.
Ctrl-C stops the daemon.`);
