#!/usr/bin/env node
// Start-up cost of a confined sandbox: time from launchConfined to the first line a trivial
// Node script prints, against a plain `node -e` spawn (the floor: Node's own start) and
// `bwrap --unshare-all --ro-bind / / /bin/true` (bubblewrap's own cost). Interleaved
// rounds, medians. Run: npm run build && node bench/confine.mjs [ROUNDS] [--quick] [--json]
// (default 20 rounds; --quick 6)
//
// Cases:
//  - node: spawn(process.execPath, ['-e', "console.log('up')"]) with an empty environment until its first line;
//  - bwrap true: spawn('bwrap', [--unshare-all, --ro-bind / /, /bin/true]) until it exits;
//  - confined: launchConfined (shell, cgroup join, RLIMIT_NOFILE, bwrap with every
//    namespace, the mounts, seccomp) until the same script's first line; with a cgroup
//    (created and removed outside the timing) when this host has writable cgroups;
//  - confined, no cgroup: the same without the cgroup step.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCase, jsonOutput, withRatios } from './stats.mjs';
import { CgroupHost, launchConfined, nodeRuntimePaths, probeIsolation } from '../packages/plugin-manager/dist/sandbox/linux/index.js';

const emit = jsonOutput();
const rounds = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? (process.argv.includes('--quick') ? 6 : 20));
const dir = await mkdtemp(join(tmpdir(), 'forge-bench-confine-'));
await writeFile(join(dir, 'up.js'), "console.log('up')");
const probe = await probeIsolation();
if (!probe.ready) {
  console.error(`this host cannot confine: ${probe.capabilities.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
  process.exit(3); // bench/run.mjs records exit code 3 as skipped, with this reason
}
const host = await CgroupHost.open();
const spec = { node: process.execPath, script: '/forge/up.js', runtimePaths: await nodeRuntimePaths(), volumes: [{ host: dir, guest: '/forge', readOnly: true }] };

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const firstLine = (stream) => new Promise((resolve) => stream.once('data', resolve));
const exited = (child) => new Promise((resolve) => child.once('close', resolve));

const cases = {
  async node() {
    const start = process.hrtime.bigint();
    // An empty environment, as the sandbox has: NODE_EXTRA_CA_CERTS alone costs Node ~40 ms at start.
    const child = spawn(process.execPath, ['-e', "console.log('up')"], { env: {} });
    await firstLine(child.stdout);
    const time = ms(start);
    await exited(child);
    return time;
  },
  async 'bwrap true'() {
    const start = process.hrtime.bigint();
    await exited(spawn('bwrap', ['--unshare-all', '--ro-bind', '/', '/', '/bin/true']));
    return ms(start);
  },
  async confined(round) {
    const group = await host.create(`bench-${round}`);
    const start = process.hrtime.bigint();
    const box = await launchConfined(spec, { cgroup: group, limits: { memoryBytes: 256 * 2 ** 20, fileDescriptors: 256 } });
    await firstLine(box.stdout);
    const time = ms(start);
    await box.exited;
    await group.remove();
    return time;
  },
  async 'confined, no cgroup'() {
    const start = process.hrtime.bigint();
    const box = await launchConfined(spec);
    await firstLine(box.stdout);
    const time = ms(start);
    await box.exited;
    return time;
  },
};

const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < rounds + 2; round += 1) {
  for (const [name, run] of Object.entries(cases)) {
    const time = await run(round);
    if (round >= 2) times[name].push(time); // two warm-up rounds
  }
}
await host.close();
await rm(dir, { recursive: true, force: true });

const floor = median(times.node);
console.log(`medians of ${rounds} interleaved rounds (Node ${process.version}, ${probe.capabilities.find((c) => c.name === 'bubblewrap')?.detail})`);
for (const [name, values] of Object.entries(times)) {
  const value = median(values);
  console.log(`${name.padEnd(22)} ${value.toFixed(1).padStart(7)} ms   ${(value / floor).toFixed(2)}x node`);
}
emit?.({ rounds, bubblewrap: probe.capabilities.find((c) => c.name === 'bubblewrap')?.detail, cases: withRatios(Object.entries(times).map(([name, values]) => benchCase(name, 'ms', values, { perCall: true })), 'node') });
