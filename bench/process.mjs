#!/usr/bin/env node
// The process backend against its anchors, issue 13's four figures, in one run:
//  1. start: load a plugin into a warm sandbox (ProcessBackend { warm: 1 }: bwrap, Node and
//     the worker started ahead) and into a cold one, next to `bwrap --unshare-all /bin/true`
//     (the floor of a bubblewrap start); podman and crun run in bench/containers.mjs;
//  2. call overhead: the same 16-byte echo call into the same plugin on the pool backend
//     and on the process backend, asynchronous (call) and synchronous (callSync), as ratios:
//     the mean of rounds of 200 calls (the target's figure), and async calls timed one at a
//     time (median and tail), with how many the host thread answered itself (the direct path);
//  3. pause + resume: lifecycle('pause') then lifecycle('resume') of a plugin without pause
//     or resume entry points, so what is timed is the freezer (freeze, poll until FROZEN, thaw);
//  4. memory: PSS (/proc/PID/smaps_rollup) of every process in the sandboxes' cgroups with
//     ten idle plugins loaded, one sandbox each (group_by plugin) and one shared sandbox
//     (group_by publisher), per plugin, read once every sandbox has been idle for its idle
//     collection (IDLE_COLLECT_MS: a sandbox gives back the memory its last work touched).
//     Next to them, ten bare `node -e` processes with the same V8 options: the floor of one Node per plugin.
//     This group_by plugin figure is issue 13's memory target (bench/targets.mjs); bench/freeze.mjs
//     measures the same way a confined Node that runs no plugin (its floor). PSS divides shared
//     pages (Node's binary) among every process mapping them, so it moves with whatever else runs
//     on the machine: compare figures of one run only. The private part (USS: Private_Clean +
//     Private_Dirty) is printed beside it; it does not depend on other processes.
// Run: npm run build && node bench/process.mjs [ROUNDS] [--quick] [--json]   (default 30; --quick 6)
//      node bench/process.mjs --memory [--child=FILE...]   memory only, ROUNDS times; with --child, the sandbox
//      programs to compare (files in dist/sandbox/process, e.g. an older bundle), measured in turn each round
import { spawn, spawnSync } from 'node:child_process';
import { benchCase, jsonOutput, show, withRatios } from './stats.mjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { PoolBackend } from '../packages/plugin-manager/dist/sandbox/pool.js';
import { ProcessBackend } from '../packages/plugin-manager/dist/sandbox/process/backend.js';
import { IDLE_COLLECT_MS } from '../packages/plugin-manager/dist/sandbox/process/idle-memory.js';
import { SANDBOX_NODE_OPTIONS } from '../packages/plugin-manager/dist/sandbox/process/sandbox.js';
import { CORE_GUEST } from '../packages/plugin-manager/dist/sandbox/test-support/guests.js';
import { RecordingHost, pluginSpec } from '../packages/plugin-manager/dist/sandbox/test-support/specs.js';

const emit = jsonOutput();
const rounds = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? (process.argv.includes('--quick') ? 6 : process.argv.includes('--memory') ? 1 : 30));
const memoryOnly = process.argv.includes('--memory');
const children = process.argv.filter((arg) => arg.startsWith('--child=')).map((arg) => arg.slice('--child='.length));
const cases = []; // for --json
const spec = (id) => pluginSpec(CORE_GUEST, { id, entryPoints: { init: 'init', start: 'start' } });
const input = new Uint8Array(16);

console.log(`process backend benchmark: ${rounds} rounds, node ${process.version}, ${readFileSync('/proc/loadavg', 'utf8').trim()} (load)`);

/** What the process backend's direct path did with the calls (the call rounds). */
let direct;
if (!memoryOnly) await startCallPause();
async function startCallPause() {
// 1. Start.
console.log('start of a plugin:');
const warmBackend = await ProcessBackend.create(new RecordingHost(), { warm: 1 });
const coldBackend = await ProcessBackend.create(new RecordingHost(), { warm: 0 });
const warm = [];
const cold = [];
const bwrap = [];
await sleep(1500); // the first warm sandbox starts
for (let i = 0; i < rounds; i += 1) {
  // The specs (module prepared and compiled on the host) are made before the clock starts: only the start is timed.
  const warmSpec = await spec(`warm-${i}`);
  const coldSpec = await spec(`cold-${i}`);
  let t = performance.now();
  const a = await warmBackend.load(warmSpec);
  warm.push(performance.now() - t);
  t = performance.now();
  const b = await coldBackend.load(coldSpec);
  cold.push(performance.now() - t);
  t = performance.now();
  spawnSync('/usr/bin/bwrap', ['--unshare-all', '--ro-bind', '/', '/', '/bin/true']);
  bwrap.push(performance.now() - t);
  await a.unload();
  await b.unload();
  await sleep(700); // the next warm sandbox starts behind the one taken
}
cases.push(...withRatios([benchCase('start: into a warm sandbox', 'ms', warm, { perCall: true, group: 'start' }), benchCase('start: into a cold sandbox', 'ms', cold, { perCall: true, group: 'start' }), benchCase('start: bwrap --unshare-all /bin/true', 'ms', bwrap, { perCall: true, group: 'start' })], 'start: bwrap --unshare-all /bin/true'));
const warmMs = show('into a warm sandbox (target <= 15 ms)', warm);
show('into a cold sandbox', cold);
const bwrapMs = show('bwrap --unshare-all /bin/true', bwrap);
console.log(`  warm start / bwrap true: ${(warmMs / bwrapMs).toFixed(2)}x`);
await warmBackend.close();
await coldBackend.close();

// 2. Call overhead.
console.log('a 16-byte call, same plugin, same guest:');
// The two backends' rounds alternate, so a noisy neighbour weighs on both alike.
const sides = {};
for (const [name, make] of [
  ['pool', (host) => new PoolBackend(host, { size: 1 })],
  ['process', (host) => ProcessBackend.create(host)],
]) {
  const backend = await make(new RecordingHost());
  const handle = await backend.load(await spec(name));
  for (let i = 0; i < 500; i += 1) await handle.call('echo', input);
  sides[name] = { backend, handle, asyncUs: [], syncUs: [] };
}
for (let r = 0; r < rounds; r += 1) {
  for (const side of Object.values(sides)) {
    let t = performance.now();
    for (let i = 0; i < 200; i += 1) await side.handle.call('echo', input);
    side.asyncUs.push(((performance.now() - t) / 200) * 1000);
    t = performance.now();
    for (let i = 0; i < 200; i += 1) side.handle.callSync('echo', input);
    side.syncUs.push(((performance.now() - t) / 200) * 1000);
  }
}
// The same calls timed one at a time (blocks of 100, alternating): the median call, and the
// tail a round's mean above folds in (on the process backend, calls handed to the relay).
for (const side of Object.values(sides)) side.oneUs = [];
for (let r = 0; r < rounds * 10; r += 1) {
  for (const side of Object.values(sides)) {
    for (let i = 0; i < 100; i += 1) {
      const t = performance.now();
      await side.handle.call('echo', input);
      side.oneUs.push((performance.now() - t) * 1000);
    }
  }
}
direct = sides.process.backend.sandboxes()[0]?.direct;
console.log(`  process: calls the host thread answered itself ${direct?.answered ?? 0}, handed to the relay ${direct?.handedOver ?? 0}`);
const medians = {};
for (const [name, side] of Object.entries(sides)) {
  cases.push(benchCase(`${name}: one call (async)`, 'us', side.oneUs, { perCall: true, group: 'one call' }));
  show(`${name}: one call (async), timed alone`, side.oneUs, 'us');
  for (const [kind, values] of [['call (async)', side.asyncUs], ['callSync', side.syncUs]]) cases.push(benchCase(`${name}: ${kind}`, 'us', values, { group: kind }));
  medians[name] = { async: show(`${name}: call (async)`, side.asyncUs, 'us'), sync: show(`${name}: callSync`, side.syncUs, 'us') };
  await side.backend.close();
}
console.log(`  process / pool: async ${(medians.process.async / medians.pool.async).toFixed(2)}x, sync ${(medians.process.sync / medians.pool.sync).toFixed(2)}x (target <= 2x)`);

// 3. Pause + resume.
console.log('pause + resume (freezer):');
{
  const backend = await ProcessBackend.create(new RecordingHost());
  const handle = await backend.load(await spec('paused'));
  await handle.lifecycle('init');
  const times = [];
  for (let i = 0; i < rounds; i += 1) {
    const t = performance.now();
    await handle.lifecycle('pause');
    await handle.lifecycle('resume');
    times.push(performance.now() - t);
  }
  show('lifecycle pause + resume (target <= 1 ms)', times);
  cases.push(benchCase('pause + resume', 'ms', times, { perCall: true, group: 'pause' }));
  await backend.close();
}
}

// 4. Memory of ten idle plugins.
console.log('memory of ten idle plugins (PSS of every process in the sandboxes):');
/** The PSS and the USS (private pages) of `pid`, in MiB. */
const memory = (pid) => {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? 0) / 1024;
    return { pss: field('Pss'), uss: field('Private_Clean') + field('Private_Dirty') };
  } catch {
    return { pss: 0, uss: 0 };
  }
};
const pss = (pid) => memory(pid).pss;
const memoryCases = new Map();
for (let round = 0; round < (memoryOnly ? rounds : 1); round += 1) {
  // The floor: ten bare Node processes with the sandboxes' V8 options, idle (what one Node per plugin costs before any code).
  const bare = Array.from({ length: 10 }, () => spawn(process.execPath, [...SANDBOX_NODE_OPTIONS, '-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' }));
  await sleep(1500);
  const total = bare.reduce((sum, child) => sum + pss(child.pid), 0);
  const uss = bare.reduce((sum, child) => sum + memory(child.pid).uss, 0);
  for (const child of bare) child.kill('SIGKILL');
  record('memory: bare node -e', total / 10);
  console.log(`  bare node -e, ten processes:        ${total.toFixed(1)} MiB, ${(total / 10).toFixed(1)} MiB per process (the floor of one Node per plugin; USS ${(uss / 10).toFixed(2)})`);
  const programs = children.length === 0 ? [undefined] : children;
  for (const [groupBy, childScript] of [...programs.map((child) => ['plugin', child]), ...(memoryOnly ? [] : [['publisher', undefined]])]) {
    const backend = await ProcessBackend.create(new RecordingHost(), { groupBy, ...(childScript === undefined ? {} : { childScript: fileURLToPath(new URL(`../packages/plugin-manager/dist/sandbox/process/${childScript}`, import.meta.url)) }) });
    for (let i = 0; i < 10; i += 1) await backend.load(await spec(`idle-${round}-${i}`));
    await sleep(IDLE_COLLECT_MS + 1000); // idle: each sandbox has had its idle collection (idle-memory.ts)
    let sum = { pss: 0, uss: 0 };
    for (const sandbox of backend.sandboxes()) for (const pid of (await sandbox.cgroup?.pids()) ?? []) sum = { pss: sum.pss + memory(pid).pss, uss: sum.uss + memory(pid).uss };
    record(`memory: group_by ${groupBy}${childScript === undefined ? '' : ` (${childScript})`}`, sum.pss / 10);
    console.log(`  group_by ${groupBy.padEnd(9)} ${backend.sandboxes().length} sandbox(es): ${sum.pss.toFixed(1)} MiB, ${(sum.pss / 10).toFixed(1)} MiB per plugin (target <= 10 MiB with group_by plugin; USS ${(sum.uss / 10).toFixed(2)})${childScript === undefined ? '' : `, ${childScript}`}`);
    await backend.close();
  }
  if (memoryOnly) console.log(`  load: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
}
for (const [id, values] of memoryCases) cases.push(memoryOnly ? benchCase(id, 'MiB', values, { group: 'memory' }) : { id, unit: 'MiB', median: values[0], min: values[0], max: values[0], n: 1, group: 'memory' });
if (memoryOnly) for (const [id, values] of memoryCases) show(id, values, 'MiB');
/** Keeps one memory figure of a round. */
function record(id, value) {
  memoryCases.set(id, [...(memoryCases.get(id) ?? []), value]);
}
if (!memoryOnly) for (const kind of ['call (async)', 'callSync', 'one call']) withRatios(cases, kind === 'one call' ? 'pool: one call (async)' : `pool: ${kind}`, kind);
withRatios(cases, 'memory: bare node -e', 'memory');
emit?.({ rounds, cases, direct });
