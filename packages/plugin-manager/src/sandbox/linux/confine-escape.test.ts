// Escape attempts from inside a real confined sandbox. The Node script run inside stands
// for a plugin that found a bug letting it run host code: the script is the attacker, it
// tries each escape and reports what the kernel answered; the test asserts the refusal
// and, from the host, that the effect did not happen.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inCi } from '@forgeone/common/testing';
import { nodeRuntimePaths } from './runtime-paths.js';
import { compileProbe } from './test-support/seccomp-probe.js';
import { reportOf, requireConfinement, runConfined, scratch } from './test-support/confine-run.js';

const ATTACKER = `
const fs = require('fs'), net = require('net'), os = require('os'), cp = require('child_process');
const task = JSON.parse(process.argv[2]);
const report = {};
const code = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code ?? String(e); } };
report.shadow = code(() => fs.readFileSync('/etc/shadow'));
report.secret = code(() => fs.readFileSync(task.secret));
report.etc = fs.readdirSync('/etc');
report.pids = fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).map(Number);
report.hostPidVisible = fs.existsSync('/proc/' + task.hostPid);
report.killHost = code(() => process.kill(task.hostPid, 'SIGKILL'));
report.ppid = process.ppid;
report.signalInit = code(() => process.kill(1, 0));
report.writeUsr = code(() => fs.writeFileSync('/usr/forge-escape', 'x'));
report.writeRuntime = code(() => fs.appendFileSync(task.runtimeFile, 'x'));
report.writeRoot = code(() => fs.writeFileSync('/forge-escape', 'x'));
report.writeTmp = code(() => fs.writeFileSync('/tmp/' + task.tmpName, 'x'));
report.writeRw = code(() => fs.writeFileSync('/rw/from-sandbox', 'hello from inside'));
report.readRo = code(() => fs.readFileSync('/ro/given'));
report.writeRo = code(() => fs.writeFileSync('/ro/from-sandbox', 'x'));
report.env = process.env;
report.hostname = os.hostname();
if (task.probe) {
  const ran = cp.spawnSync(task.probe, { encoding: 'utf8' });
  report.probe = ran.stdout;
  report.probeError = ran.error && ran.error.code;
}
const connect = (port, address) => new Promise((resolve) => {
  const socket = net.connect(port, address);
  socket.on('connect', () => { socket.destroy(); resolve('ok'); });
  socket.on('error', (e) => resolve(e.code));
});
(async () => {
  report.connect = await connect(task.port, '127.0.0.1');
  report.connectOutside = await connect(80, '192.0.2.1'); // TEST-NET-1: any address off the sandbox's own loopback
  console.log(JSON.stringify(report));
})();
`;

const CONNECT = `
const socket = require('net').connect(Number(process.argv[2]), '127.0.0.1');
socket.on('connect', () => { socket.destroy(); console.log(JSON.stringify({ connect: 'ok' })); });
socket.on('error', (e) => console.log(JSON.stringify({ connect: e.code })));
`;

describe('escapes from a confined sandbox (a real kernel)', () => {
  let dir = '';
  let remove = (): void => undefined;
  let server: Server;
  let connections = 0;
  let port = 0;
  let probe: string | undefined;
  let probeMissing = '';
  let report: Record<string, unknown> = {};
  const tmpName = `forge-escape-${process.pid}-${Date.now()}`;
  const SECRET = 'trust-store-key-material';
  const HOST_VAR = 'FORGE_CONFINE_HOST_SECRET';

  before(async () => {
    ({ dir, remove } = scratch());
    server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    if (process.arch === 'x64' || process.arch === 'arm64') {
      const built = compileProbe(dir, process.arch, process.env['CC'] ? [process.env['CC']] : ['cc', 'clang', 'gcc']);
      if ('path' in built) probe = '/forge/seccomp-probe';
      else probeMissing = built.reason;
    } else probeMissing = `no seccomp filter for ${process.arch}`;
  });
  after(() => {
    server.close();
    delete process.env[HOST_VAR];
    remove();
  });

  /** Runs the attacker once, with no network; every case below reads its report. */
  async function attack(): Promise<Record<string, unknown>> {
    if (Object.keys(report).length > 0) return report;
    const trust = join(dir, 'trust-store');
    mkdirSync(trust, { recursive: true });
    writeFileSync(join(trust, 'root.key'), SECRET);
    mkdirSync(join(dir, 'rw'), { recursive: true });
    mkdirSync(join(dir, 'ro'), { recursive: true });
    writeFileSync(join(dir, 'ro', 'given'), 'read me');
    process.env[HOST_VAR] = SECRET; // the host's environment holds a secret; the sandbox must not see it
    const task = { runtimeFile: (await nodeRuntimePaths()).find((path) => path.endsWith('.so.6')), secret: join(trust, 'root.key'), hostPid: process.pid, tmpName, port, probe };
    const run = await runConfined(dir, 'attacker.js', ATTACKER, {
      args: [JSON.stringify(task)],
      env: { FORGE_PLUGIN: 'attacker' },
      volumes: [
        { host: join(dir, 'rw'), guest: '/rw', readOnly: false },
        { host: join(dir, 'ro'), guest: '/ro', readOnly: true },
      ],
    });
    report = reportOf(run);
    return report;
  }

  it('cannot read /etc/shadow or a trust-store key outside its mounts (ENOENT: they are not there)', async (t) => {
    if (!(await requireConfinement(t))) return;
    const seen = await attack();
    assert.equal(seen['shadow'], 'ENOENT');
    assert.equal(seen['secret'], 'ENOENT');
    assert.deepEqual(seen['etc'], ['ld.so.cache'].filter((name) => existsSync(`/etc/${name}`)));
    assert.equal(JSON.stringify(seen).includes(SECRET), false);
  });

  it('sees only its own pid namespace: the host test process is absent and cannot be signalled', async (t) => {
    if (!(await requireConfinement(t))) return;
    const seen = await attack();
    const pids = seen['pids'] as number[];
    assert.ok(pids.length <= 3, `expected bwrap's init and the script (and at most one more), found ${pids.join(',')}`);
    assert.ok(pids.includes(1));
    assert.equal(pids.includes(process.pid), false);
    assert.equal(seen['hostPidVisible'], false);
    assert.equal(seen['killHost'], 'ESRCH');
    assert.equal(seen['ppid'], 1, "its parent is the namespace's init, not the host");
    assert.equal(seen['signalInit'], 'ok', "kill(1) reaches the namespace's init");
  });

  it('cannot write outside its volumes: the root, /usr and the runtime libraries are read-only; /tmp is private', async (t) => {
    if (!(await requireConfinement(t))) return;
    const seen = await attack();
    assert.equal(seen['writeUsr'], 'EROFS');
    assert.equal(seen['writeRoot'], 'EROFS');
    assert.equal(seen['writeRuntime'], 'EROFS', 'a runtime library is read-only');
    assert.equal(seen['writeTmp'], 'ok');
    assert.equal(existsSync(join('/tmp', tmpName)), false, "the sandbox's /tmp is not the host's");
    assert.equal(existsSync('/forge-escape'), false);
  });

  it('writes inside a read-write volume (the host sees the file) and not inside a read-only one (EROFS)', async (t) => {
    if (!(await requireConfinement(t))) return;
    const seen = await attack();
    assert.equal(seen['writeRw'], 'ok');
    assert.equal(readFileSync(join(dir, 'rw', 'from-sandbox'), 'utf8'), 'hello from inside');
    assert.equal(seen['readRo'], 'ok');
    assert.equal(seen['writeRo'], 'EROFS');
    assert.equal(existsSync(join(dir, 'ro', 'from-sandbox')), false);
  });

  it("sees only the environment the spec set, not the host's", async (t) => {
    if (!(await requireConfinement(t))) return;
    const seen = await attack();
    // bubblewrap sets PWD after --chdir; it names the sandbox's own root.
    assert.deepEqual(seen['env'], { FORGE_PLUGIN: 'attacker', PWD: '/' });
    assert.equal(seen['hostname'], 'forge-sandbox');
  });

  it('cannot reach a server on the host loopback without network, and reaches it with network: true', async (t) => {
    if (!(await requireConfinement(t))) return;
    const seen = await attack();
    // bwrap brings up the new namespace's own loopback: its 127.0.0.1 is not the host's, and nothing listens there.
    assert.equal(seen['connect'], 'ECONNREFUSED');
    assert.equal(connections, 0, "the host's server got no connection");
    assert.equal(seen['connectOutside'], 'ENETUNREACH');
    const open = reportOf(await runConfined(dir, 'connect.js', CONNECT, { args: [String(port)], network: true }));
    assert.equal(open['connect'], 'ok');
    assert.equal(connections, 1);
  });

  it('native code it runs gets EPERM from seccomp for ptrace, unshare and mount', async (t) => {
    if (!(await requireConfinement(t))) return;
    if (probe === undefined) {
      if (inCi()) throw new Error(`${probeMissing}; CI must install a C compiler`);
      t.skip(probeMissing);
      return;
    }
    const seen = await attack();
    assert.equal(seen['probeError'], undefined, 'the probe ran');
    const rows = new Map((seen['probe'] as string).trim().split('\n').map((line) => line.split(' ') as [string, string]));
    for (const name of ['ptrace', 'unshare', 'mount', 'setns', 'clone_newuser']) assert.equal(rows.get(name), '1', `${name}: expected EPERM (1), found ${rows.get(name)}`);
    assert.equal(rows.get('fork'), '0');
  });
});
