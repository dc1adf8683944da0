#!/usr/bin/env node
// Pause and resume of a confined sandbox through its cgroup's freezer, and the memory an
// idle confined Node process takes: the two figures issue 13 sets targets for (pause plus
// resume <= 1 ms; <= 10 MiB PSS per idle confined plugin), measured before the process
// backend exists, on the launcher it will use.
// Run: npm run build && node bench/freeze.mjs [ROUNDS] [--quick] [--json]   (default 50; --quick 20)
//
// Setup (not timed): a confined Node script (launchConfined: namespaces, seccomp, cgroup)
// that keeps one core busy, so the freezer has a running task to stop.
// Timed, interleaved, medians and p90 of ROUNDS:
//  - Cgroup.freeze() + thaw(): what the backend's pause and resume will add to the plugin's
//    own pause/resume entry points (v1: write FROZEN, poll until the kernel reads FROZEN;
//    then THAWED);
//  - the floor: the same two writes to freezer.state with no wait for the kernel (what the
//    issue calls a raw freezer write), done by this process with writeFileSync.
// Then: PSS (/proc/PID/smaps_rollup) of an idle confined Node process that has loaded
// nothing, of the bash/bwrap processes around it, and of a plain idle `node` for comparison;
// and per sandbox with ten of them side by side (PSS divides shared pages among the
// processes mapping them: Node's binary and libraries are the same files in every sandbox).
// The method is bench/process.mjs's (the PSS of every process in each sandbox's cgroup,
// ten sandboxes side by side), but what runs differs: here a one-line idle script under
// Node's default options and environment, no bundle, no plugin: the floor of a confined
// Node. Issue 13's target (<= 10 MiB per idle confined plugin) is bench/process.mjs's
// "memory: group_by plugin", a real sandbox with a plugin loaded (bench/targets.mjs).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCase, jsonOutput, singleCase, withRatios } from './stats.mjs';
import { CgroupHost, launchConfined, nodeRuntimePaths, probeIsolation } from '../packages/plugin-manager/dist/sandbox/linux/index.js';

const emit = jsonOutput();
const rounds = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? (process.argv.includes('--quick') ? 20 : 50));
const probe = await probeIsolation();
if (!probe.ready) {
  console.error(`this host cannot confine: ${probe.capabilities.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
  process.exit(3); // bench/run.mjs records exit code 3 as skipped, with this reason
}
const dir = await mkdtemp(join(tmpdir(), 'forge-bench-freeze-'));
await writeFile(join(dir, 'busy.js'), "console.log('up'); for (;;) {}");
await writeFile(join(dir, 'idle.js'), "console.log('up'); setInterval(() => {}, 1 << 30);");
const host = await CgroupHost.open();
const runtimePaths = await nodeRuntimePaths();
const spec = (script) => ({ node: process.execPath, script: `/forge/${script}`, runtimePaths, volumes: [{ host: dir, guest: '/forge', readOnly: true }] });
const firstLine = (stream) => new Promise((resolve) => stream.once('data', resolve));
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const sorted = (values) => [...values].sort((a, b) => a - b);
const median = (values) => sorted(values)[Math.floor(values.length / 2)];
const p90 = (values) => sorted(values)[Math.floor(values.length * 0.9)];

// Pause and resume.
const busyGroup = await host.create('bench-busy');
const busy = await launchConfined(spec('busy.js'), { cgroup: busyGroup, limits: { memoryBytes: 256 * 2 ** 20 } });
await firstLine(busy.stdout);
const freezerState = busyGroup.version === 1 ? busyGroup.dirs.map((d) => join(d, 'freezer.state')).find((file) => { try { readFileSync(file); return true; } catch { return false; } }) : join(busyGroup.dirs[0], 'cgroup.freeze');
const [frozenValue, thawedValue] = busyGroup.version === 1 ? ['FROZEN', 'THAWED'] : ['1', '0'];
const times = { cgroup: [], raw: [] };
for (let round = 0; round < rounds; round += 1) {
  let start = process.hrtime.bigint();
  await busyGroup.freeze();
  await busyGroup.thaw();
  times.cgroup.push(ms(start));
  start = process.hrtime.bigint();
  writeFileSync(freezerState, frozenValue);
  writeFileSync(freezerState, thawedValue);
  times.raw.push(ms(start));
}
await busyGroup.remove();

// Memory of an idle confined Node process.
function pss(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB$/m.exec(text)?.[1] ?? NaN) / 1024;
}
/** Starts `count` idle confined processes; the PSS of each one's processes, by command. */
async function idleSandboxes(count) {
  const groups = [];
  for (let i = 0; i < count; i += 1) {
    const group = await host.create(`bench-idle-${count}-${i}`);
    const box = await launchConfined(spec('idle.js'), { cgroup: group, limits: { memoryBytes: 256 * 2 ** 20 } });
    await firstLine(box.stdout);
    groups.push(group);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const perSandbox = [];
  for (const group of groups) perSandbox.push((await group.pids()).map((pid) => ({ pid, command: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), pss: pss(pid) })));
  for (const group of groups) await group.remove();
  return perSandbox;
}
const [members] = await idleSandboxes(1);
const ten = await idleSandboxes(10);
const tenTotals = ten.map((processes) => processes.reduce((sum, m) => sum + m.pss, 0));
const plain = spawn(process.execPath, [join(dir, 'idle.js')], { env: {}, stdio: ['ignore', 'pipe', 'ignore'] });
await firstLine(plain.stdout);
await new Promise((resolve) => setTimeout(resolve, 500));
const plainPss = pss(plain.pid);
plain.kill('SIGKILL');
await host.close();

console.log(`freezer pause + resume of a busy confined process (cgroup v${busyGroup.version}, node ${process.version}, ${rounds} rounds)`);
console.log(`  Cgroup.freeze() + thaw() (waits for the kernel)   median ${median(times.cgroup).toFixed(3)} ms, p90 ${p90(times.cgroup).toFixed(3)} ms  (target <= 1 ms with the plugin's entry points)`);
console.log(`  raw freezer writes (no wait)                     median ${median(times.raw).toFixed(3)} ms, p90 ${p90(times.raw).toFixed(3)} ms`);
console.log(`  ratio: ${(median(times.cgroup) / median(times.raw)).toFixed(1)}x the raw writes`);
console.log('idle confined Node process, PSS by process of its cgroup:');
for (const member of members) console.log(`  ${member.command.padEnd(8)} pid ${String(member.pid).padEnd(8)} ${member.pss.toFixed(1)} MiB`);
console.log(`  total ${members.reduce((sum, m) => sum + m.pss, 0).toFixed(1)} MiB (no plugin: the floor under issue 13's per-plugin target, which bench/process.mjs measures); a plain idle node: ${plainPss.toFixed(1)} MiB`);
console.log(`ten idle confined Node processes side by side (they share Node's pages, which PSS divides): ${median(tenTotals).toFixed(1)} MiB PSS per sandbox (median), ${tenTotals.reduce((a, b) => a + b, 0).toFixed(1)} MiB in all`);
const oneTotal = members.reduce((sum, m) => sum + m.pss, 0);
emit?.({
  rounds,
  cgroupVersion: busyGroup.version,
  cases: [
    ...withRatios([benchCase('Cgroup.freeze() + thaw()', 'ms', times.cgroup, { perCall: true, group: 'pause' }), benchCase('raw freezer writes, no wait', 'ms', times.raw, { perCall: true, group: 'pause' })], 'raw freezer writes, no wait'),
    ...withRatios([singleCase('idle confined node, alone (PSS)', 'MiB', oneTotal, { group: 'memory' }), benchCase('idle confined node, ten side by side (PSS per sandbox)', 'MiB', tenTotals, { group: 'memory' }), singleCase('plain idle node (PSS)', 'MiB', plainPss, { group: 'memory' })], 'plain idle node (PSS)', 'memory'),
  ],
});
