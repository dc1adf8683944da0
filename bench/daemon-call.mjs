#!/usr/bin/env node
// A plugin call through the daemon's API (unix socket, loopback TCP) against the same call
// in-process (registry.call), side by side.
// Run: npm run build && node bench/daemon-call.mjs [--inline] [rounds] [calls-per-round] [--quick] [--json]
// (--quick: 5 rounds x 50 calls)
// (--inline: both the daemon and the in-process registry run plugins on their main thread
// instead of the default worker pool, which takes the thread hop out of every case.)
//
// Setup (not timed): a signing workspace (CA, publisher, trust store); an operator token
// written to the daemon's database; `forge daemon` started as a child process on that
// workspace (socket and 127.0.0.1:0); the sample plugin installed and started through the
// API. In this process, a PluginRegistry with the same configuration (audit off) loads the
// same installed package and starts it.
// Timed, rounds alternating between the cases, every call timed; median and p90 per call:
//  - in-process: registry.call('sample-plugin', 'greet', 8 bytes)
//  - socket: POST /v1/plugins/sample-plugin/call/greet over the unix socket, keep-alive
//    (client.ts send, what the CLI uses), authorised as the daemon's user and audited
//  - TCP: the same over 127.0.0.1 with a bearer token (hashed and checked per request)
//  - socket, a new connection per call: what each `forge call` process pays on top of its
//    own start-up
// The daemon runs in its own process, as operators run it: a call over the API crosses
// two processes and both event loops; on 2 vCPUs they compete with each other.
import { request } from 'node:http';
import { benchCase, jsonOutput, withRatios } from './stats.mjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfigFile } from '../packages/common/dist/index.js';
import { PluginRegistry } from '../packages/plugin-manager/dist/index.js';
import { loadAttestationSettings } from '../packages/plugin-manager/dist/signing.js';
import { call, send } from '../packages/forge/dist/daemon/client.js';
import { DaemonState } from '../packages/forge/dist/daemon/state.js';
import { Tokens } from '../packages/forge/dist/daemon/tokens.js';
import { daemonTable, spawnDaemon } from '../packages/forge/dist/test-support/daemon-process.js';
import { signedSample } from '../packages/forge/dist/test-support/daemon.js';
import { signingWorkspace } from '../packages/forge/dist/test-support/workspace.js';

const args = process.argv.slice(2);
const inline = args.includes('--inline');
const emit = jsonOutput();
const quick = args.includes('--quick');
const [rounds = quick ? 5 : 21, perRound = quick ? 50 : 200] = args.filter((arg) => !arg.startsWith('--')).map(Number);
const input = Buffer.from('ForgeOne');
const expected = 'Hello, ForgeOne!';

const dir = await signingWorkspace('forge-bench-daemon-', `${daemonTable('127.0.0.1:0')}${inline ? '  runtime:\n    backend: inline\n' : ''}`, '', inline ? '    namespace_isolation: false\n' : '');
const config = await loadConfigFile(join(dir, 'plugin-manager.yaml'));
const state = DaemonState.open(config.daemon.database);
const token = new Tokens(state.db).create('bench', 'operator').token;
state.close();

const daemon = await spawnDaemon(dir);
const url = /forge daemon: serving \S+ and (http:\/\/\S+)/.exec(daemon.stderr())?.[1];
if (url === undefined) throw new Error(`no TCP listener in:\n${daemon.stderr()}`);
const socket = { socket: daemon.socket };
const tcp = { url, token };
const installed = await call(socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(dir)) });

const attestation = await loadAttestationSettings(config.security, dir);
const registry = await PluginRegistry.create(config, { configDir: dir, audit: false, attestation });
const id = await registry.loadPlugin(join(config.plugin_directory, 'sample-plugin', 'versions', installed.plugin.version, 'package.forgepkg'));
await registry.startPlugin(id);

const path = '/v1/plugins/sample-plugin/call/greet';
const check = (text) => {
  if (text !== expected) throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(text)}`);
};
/** One request on a connection of its own (no agent). */
const fresh = () =>
  new Promise((resolve, reject) => {
    const outgoing = request({ socketPath: daemon.socket, path, method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': input.length } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    outgoing.on('error', reject);
    outgoing.end(input);
  });
const cases = {
  'in-process registry.call': async () => check(new TextDecoder().decode(await registry.call(id, 'greet', input))),
  'API over the unix socket (keep-alive)': async () => check((await send(socket, { method: 'POST', path, bytes: input })).body.toString('utf8')),
  'API over loopback TCP + bearer token (keep-alive)': async () => check((await send(tcp, { method: 'POST', path, bytes: input })).body.toString('utf8')),
  'API over the unix socket, new connection per call': async () => check(await fresh()),
};

const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (const run of Object.values(cases)) for (let i = 0; i < 50; i += 1) await run(); // warm-up
for (let round = 0; round < rounds; round += 1) {
  for (const [name, run] of Object.entries(cases)) {
    for (let i = 0; i < perRound; i += 1) {
      const start = process.hrtime.bigint();
      await run();
      times[name].push(Number(process.hrtime.bigint() - start) / 1e3);
    }
  }
}

await registry.close();
daemon.child.kill('SIGTERM');
await daemon.exited;

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)];
const base = quantile(times['in-process registry.call'], 0.5);
console.log(`sample plugin greet (8 B in, 16 B out), ${inline ? 'inline' : 'pool'} backend, node ${process.version}, ${rounds} rounds x ${perRound} calls per case`);
console.log('  case                                                  median      p90     vs in-process');
for (const [name, values] of Object.entries(times)) {
  const median = quantile(values, 0.5);
  console.log(`  ${name.padEnd(52)} ${median.toFixed(1).padStart(7)} us ${quantile(values, 0.9).toFixed(1).padStart(7)} us  ${(median / base).toFixed(1).padStart(6)}x`);
}
emit?.({ backend: inline ? 'inline' : 'pool', rounds, perRound, cases: withRatios(Object.entries(times).map(([name, values]) => benchCase(name, 'us', values, { perCall: true })), 'in-process registry.call') });
