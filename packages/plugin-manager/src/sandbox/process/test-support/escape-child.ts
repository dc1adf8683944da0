/**
 * TEST ONLY: a program that plays a plugin which got past WebAssembly and runs host code
 * inside a process-backend sandbox (ProcessBackend's `childScript`, escape.test.ts). It
 * says READY like the real child; on the plugin's LOAD message it tries each escape and
 * writes what the kernel answered (error codes, listings) as JSON into the plugin's
 * key-value directory (`escape-report.json`), the one host directory it may write; then
 * it answers the load job with DONE, so the load succeeds, and blocks reading.
 *
 * What it needs from the test comes through the spec alone: the plugin's id is
 * `escape-<host pid>-<port>-<n>` (the test process's pid and a TCP listener's port on the
 * host's 127.0.0.1), and the kv directory's parent holds `trust/keys/signing.key` and
 * `neighbour/`, both outside every mount.
 */
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import { descriptorArgument, openChannel } from '../channel.js';
import { KIND, encodeFrame } from '../wire.js';

const IN = 0;
const OUT = 1;

/** ForgeOne's dist directory (this file is dist/sandbox/process/test-support/escape-child.js). */
const DIST = fileURLToPath(new URL('../../../', import.meta.url));

/** The report's file name in the kv directory (escape.test.ts knows it too). */
const REPORT_NAME = 'escape-report.json';

/** 'ok' when `attempt` succeeded, else the error's code. */
function outcome(attempt: () => unknown): string {
  try {
    attempt();
    return 'ok';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/** 'connected' or the error code of a TCP connection to `port` on 127.0.0.1. */
function tcpOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

/** Tries every escape and writes the report into `kvDirectory`. */
async function escape(id: string, kvDirectory: string): Promise<void> {
  const [, hostPid = '0', port = '0'] = id.split('-');
  const outside = dirname(kvDirectory);
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).sort((a, b) => a - b);
  const report = {
    shadow: outcome(() => readFileSync('/etc/shadow')),
    trustKey: outcome(() => readFileSync(join(outside, 'trust', 'keys', 'signing.key'))),
    pids,
    cmdlines: pids.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter((arg) => arg !== '');
      } catch (error) {
        return [(error as NodeJS.ErrnoException).code ?? String(error)];
      }
    }),
    hostPidProc: outcome(() => readFileSync(`/proc/${hostPid}/cmdline`)),
    signalHost: outcome(() => process.kill(Number(hostPid), 0)),
    initCmdline: readFileSync('/proc/1/cmdline', 'latin1').split('\0').filter((arg) => arg !== ''),
    ppid: process.ppid,
    pid: process.pid,
    tcp: await tcpOutcome(Number(port)),
    writeDist: outcome(() => writeFileSync(join(DIST, 'escape-planted.js'), 'x')),
    appendDist: outcome(() => appendFileSync(join(DIST, 'index.js'), '\n// planted')),
    writeRoot: outcome(() => writeFileSync('/escape-planted', 'x')),
    neighbour: outcome(() => readdirSync(join(outside, 'neighbour'))),
    writeNeighbour: outcome(() => writeFileSync(join(outside, 'neighbour', 'planted'), 'x')),
    writeKvParent: outcome(() => writeFileSync(join(outside, 'planted'), 'x')),
  };
  writeFileSync(join(kvDirectory, REPORT_NAME), JSON.stringify(report));
}

let spec: { id: string; hostCalls: { kvDirectory?: string } } | undefined;
let answered = false;
// Whatever transport the host chose (the shared ring, or the FIFOs alone).
const channel = openChannel('sandbox', IN, OUT, descriptorArgument(process.argv.slice(2), 'ring'));
channel.write(encodeFrame(KIND.READY, [], []));
for (;;) {
  const frame = channel.read();
  if (frame.kind === KIND.MSG) {
    const message = deserialize(frame.payload) as { type: string; spec?: { id: string; hostCalls: { kvDirectory?: string } } };
    if (message.type === 'load' && message.spec !== undefined) spec = message.spec;
  } else if (frame.kind === KIND.JOB && !answered) {
    answered = true;
    const kv = spec?.hostCalls.kvDirectory;
    if (spec === undefined || kv === undefined) process.exit(64);
    await escape(spec.id, kv);
    channel.write(encodeFrame(KIND.DONE, [0, 0, 0, 1, frame.ints[4] ?? 0], [0n, 0n]));
  }
}
