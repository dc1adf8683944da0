// Escape attempts from inside a real process-backend sandbox. The sandbox runs
// test-support/escape-child.js in place of the real child, with exactly the backend's
// confinement and mounts: it stands for a plugin that got past WebAssembly and runs host
// code. It tries each escape on its load and reports what the kernel answered into its
// key-value directory; the test asserts each refusal's exact code and, from the host, that
// nothing happened. Needs bubblewrap, user namespaces and writable cgroups, as
// backend.test.ts: without them ProcessBackend.create throws and the test fails.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after, describe, it } from 'node:test';
import { CORE_GUEST } from '../test-support/guests.js';
import { RecordingHost, pluginSpec } from '../test-support/specs.js';
import { ProcessBackend } from './backend.js';

const SCRIPT = fileURLToPath(new URL('./test-support/escape-child.js', import.meta.url));
const DIST = fileURLToPath(new URL('../../', import.meta.url));
/** Where escape-child.ts writes its report in the kv directory (not imported: importing the program runs it). */
const REPORT_NAME = 'escape-report.json';

type Report = Record<string, unknown> & { pids: number[]; cmdlines: string[][]; initCmdline: string[]; ppid: number; pid: number };

describe('process backend against a plugin running host code in its sandbox', () => {
  const root = mkdtempSync(join(tmpdir(), 'forge-escape-'));
  const kvDirectory = join(root, 'kv');
  const trustKey = join(root, 'trust', 'keys', 'signing.key');
  const neighbour = join(root, 'neighbour');
  const connections: string[] = [];
  const listener = createServer((socket) => {
    connections.push(String(socket.remoteAddress));
    socket.destroy();
  });
  let report: Report;

  before(async () => {
    mkdirSync(kvDirectory);
    mkdirSync(join(root, 'trust', 'keys'), { recursive: true });
    writeFileSync(trustKey, 'the trust store’s signing key');
    mkdirSync(neighbour);
    writeFileSync(join(neighbour, 'other-plugin.kv'), 'another plugin’s data');
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    assert.ok(address !== null && typeof address === 'object');
    const backend = await ProcessBackend.create(new RecordingHost(), { childScript: SCRIPT });
    try {
      await backend.load(await pluginSpec(CORE_GUEST, { id: `escape-${process.pid}-${address.port}-1`, kvDirectory }));
      assert.equal(backend.sandboxes().length, 1, 'the load succeeded in a sandbox');
    } finally {
      await backend.close();
    }
    // The sandbox wrote its report before it answered the load.
    report = JSON.parse(readFileSync(join(kvDirectory, REPORT_NAME), 'utf8')) as Report;
  });

  after(async () => {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  it('cannot read /etc/shadow: the host’s /etc is not in the sandbox’s root (ENOENT)', () => {
    assert.equal(report['shadow'], 'ENOENT');
  });

  it('cannot read a host directory outside every mount, standing for the trust store’s keys (ENOENT)', () => {
    assert.equal(report['trustKey'], 'ENOENT');
  });

  it('sees only its own namespace’s processes in /proc, not the host’s test process', () => {
    assert.deepEqual(report.pids, [1, 2], 'bwrap’s init and the sandbox program');
    assert.equal(report.pid, 2);
    assert.ok(report.cmdlines[1]?.includes(SCRIPT), `pid 2 runs the sandbox program, found ${JSON.stringify(report.cmdlines[1])}`);
    assert.equal(report.pids.includes(process.pid), false, 'the host pid is not listed');
    assert.equal(report['hostPidProc'], 'ENOENT');
    assert.equal(report['signalHost'], 'ESRCH', 'the host process cannot be signalled (nor traced)');
  });

  it('runs under bwrap as pid 1 of its own pid namespace, its parent a pid of that namespace', () => {
    assert.equal(basename(report.initCmdline[0] ?? ''), 'bwrap', `pid 1 is bwrap, found ${JSON.stringify(report.initCmdline)}`);
    assert.equal(report.ppid, 1, 'the parent is the namespace’s init, not a host process');
  });

  it('cannot reach a listener on the host’s 127.0.0.1: its own network namespace (ECONNREFUSED)', () => {
    assert.equal(report['tcp'], 'ECONNREFUSED');
    assert.deepEqual(connections, [], 'the host listener saw no connection');
  });

  it('cannot write into ForgeOne’s dist directory nor into / (EROFS)', () => {
    assert.equal(report['writeDist'], 'EROFS');
    assert.equal(report['appendDist'], 'EROFS');
    assert.equal(report['writeRoot'], 'EROFS');
    assert.equal(existsSync(join(DIST, 'escape-planted.js')), false);
    assert.equal(readFileSync(join(DIST, 'index.js'), 'utf8').includes('// planted'), false);
  });

  it('writes its kv directory (the report proves it) but does not see a sibling of it on the host (ENOENT)', () => {
    assert.equal(report['neighbour'], 'ENOENT');
    assert.equal(report['writeNeighbour'], 'ENOENT');
    assert.deepEqual(readdirSync(neighbour), ['other-plugin.kv'], 'the neighbour is untouched');
    // The kv directory's parent inside the sandbox is bwrap's scaffolding on the sandbox's
    // own /tmp: whatever it writes there stays in the sandbox.
    assert.equal(report['writeKvParent'], 'ok', 'the sandbox writes its own /tmp');
    assert.equal(existsSync(join(root, 'planted')), false, `the host's ${root} is untouched`);
    assert.deepEqual(readdirSync(root).sort(), ['kv', 'neighbour', 'trust']);
  });
});
