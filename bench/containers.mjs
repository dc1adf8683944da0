#!/usr/bin/env node
// Container runtimes as anchors of the process backend (issues 13 and 16): `podman run --rm`
// start, `podman pause` + `unpause`, and the memory of an idle container, beside what
// ForgeOne does for the same step, in one run. crun is tried too; where it cannot run, the
// JSON says why, in crun's own words.
// Run: npm run build && node bench/containers.mjs [ROUNDS] [--quick] [--json]   (default 20; --quick 4)
//
// No image can be pulled here, so the benchmark builds one: `podman import` of a tarball
// holding Debian's static busybox (/bin/busybox from busybox-static) as /bin/busybox, with
// `true` and `sleep` linked to it. Podman runs it with runc: crun refuses this machine
// kind's cgroup layout (v1 controllers beside a v2 mount without them). The container gets
// explicit nofile/nproc limits because podman's default nofile (1048576) is above this
// host's hard limit, which the container's root may not raise.
//
// Timed, interleaved over ROUNDS:
//  - start: `podman run --rm ... /bin/true` against `bwrap --unshare-all ... /bin/true`
//    (ForgeOne's launcher; the process backend's own warm and cold starts are in process.mjs);
//  - pause + resume: `podman pause` + `podman unpause` of a running container against
//    ForgeOne's Cgroup.freeze() + thaw() of a busy confined Node process (what the process
//    backend adds to the plugin's pause and resume entry points);
// then PSS (/proc/PID/smaps_rollup) of an idle container (conmon and the container's sleep).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCase, jsonOutput, show, singleCase, withRatios } from './stats.mjs';
import { CgroupHost, launchConfined, nodeRuntimePaths, probeIsolation } from '../packages/plugin-manager/dist/sandbox/linux/index.js';

const emit = jsonOutput();
const quick = process.argv.includes('--quick');
const rounds = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? (quick ? 4 : 20));
const IMAGE = 'localhost/forgeone-bench/busybox:1';
const BUSYBOX = '/bin/busybox';
const RUN = ['run', '--rm', '--runtime', 'runc', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

const run = (command, args) => spawnSync(command, args, { encoding: 'utf8' });
const fail = (why) => {
  console.error(why);
  process.exit(3); // bench/run.mjs records exit code 3 as skipped, with this reason
};
const podmanVersion = run('podman', ['--version']);
if (podmanVersion.error) fail(`podman is not installed (${podmanVersion.error.code}); Debian: apt-get install podman runc busybox-static`);
if (run('runc', ['--version']).error) fail('runc is not installed (podman needs it here: crun refuses this cgroup layout); Debian: apt-get install runc');
if (!existsSync(BUSYBOX)) fail(`${BUSYBOX} is missing; Debian: apt-get install busybox-static`);
const probe = await probeIsolation();
if (!probe.ready) fail(`this host cannot confine: ${probe.capabilities.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);

/** Imports the busybox image unless it exists. */
function ensureImage() {
  if (run('podman', ['image', 'exists', IMAGE]).status === 0) return;
  const root = mkdtempSync(join(tmpdir(), 'forge-bench-busybox-'));
  try {
    mkdirSync(join(root, 'rootfs/bin'), { recursive: true });
    copyFileSync(BUSYBOX, join(root, 'rootfs/bin/busybox'));
    for (const applet of ['sh', 'true', 'sleep']) symlinkSync('busybox', join(root, 'rootfs/bin', applet));
    const tar = run('tar', ['-C', join(root, 'rootfs'), '-cf', join(root, 'image.tar'), '.']);
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    const imported = run('podman', ['import', join(root, 'image.tar'), IMAGE]);
    if (imported.status !== 0) throw new Error(`podman import: ${imported.stderr}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
ensureImage();
const first = run('podman', [...RUN, IMAGE, '/bin/true']);
if (first.status !== 0) fail(`podman run cannot start a container here: ${first.stderr.trim()}`);
const crun = run('podman', ['run', '--rm', '--runtime', 'crun', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', IMAGE, '/bin/true']);
const crunSkipped = crun.status === 0 ? undefined : `crun cannot run a container on this host: ${crun.stderr.trim().split('\n').at(-1)}`;

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const timed = (command, args) => {
  const start = process.hrtime.bigint();
  const result = run(command, args);
  const took = ms(start);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return took;
};

// Start, interleaved so the machine's load falls on both alike.
const bwrapArgs = ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '/bin/true'];
const times = { podman: [], crun: [], bwrap: [], podmanPause: [], freeze: [] };
for (let round = 0; round < rounds; round += 1) {
  times.podman.push(timed('podman', [...RUN, IMAGE, '/bin/true']));
  times.bwrap.push(timed('bwrap', bwrapArgs));
  if (crunSkipped === undefined) times.crun.push(timed('podman', [...RUN.map((arg) => (arg === 'runc' ? 'crun' : arg)), IMAGE, '/bin/true']));
}

// Pause + resume: a running container against a busy confined Node process.
const name = `forge-bench-${process.pid}`;
const started = run('podman', [...RUN.filter((arg) => arg !== '--rm'), '-d', '--name', name, IMAGE, '/bin/sleep', '3600']);
if (started.status !== 0) fail(`podman run -d failed: ${started.stderr.trim()}`);
const dir = mkdtempSync(join(tmpdir(), 'forge-bench-containers-'));
const host = await CgroupHost.open();
try {
  await writeFile(join(dir, 'busy.js'), "console.log('up'); for (;;) {}");
  const runtimePaths = await nodeRuntimePaths();
  const group = await host.create('bench-containers');
  const busy = await launchConfined({ node: process.execPath, script: '/forge/busy.js', runtimePaths, volumes: [{ host: dir, guest: '/forge', readOnly: true }] }, { cgroup: group, limits: { memoryBytes: 256 * 2 ** 20 } });
  await new Promise((resolve) => busy.stdout.once('data', resolve));
  for (let round = 0; round < rounds; round += 1) {
    times.podmanPause.push(timed('podman', ['pause', name]) + timed('podman', ['unpause', name]));
    const start = process.hrtime.bigint();
    await group.freeze();
    await group.thaw();
    times.freeze.push(ms(start));
  }
  await group.remove();

  // Memory of the idle container: conmon plus the container's own process.
  const pids = run('podman', ['inspect', '--format', '{{.State.ConmonPid}} {{.State.Pid}}', name]).stdout.trim().split(/\s+/).map(Number);
  const pss = (pid) => Number(/^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN) / 1024;
  const [conmon, sleeper] = pids.map(pss);
  console.log(`${podmanVersion.stdout.trim()} with runc, image ${IMAGE}, ${rounds} rounds`);
  show('podman run --rm /bin/true', times.podman);
  show('bwrap --unshare-all /bin/true', times.bwrap);
  if (crunSkipped === undefined) show('podman run --rm --runtime crun /bin/true', times.crun);
  else console.log(`  crun: not measured: ${crunSkipped}`);
  show('podman pause + unpause', times.podmanPause);
  show('ForgeOne Cgroup.freeze() + thaw()', times.freeze);
  console.log(`  idle container PSS: conmon ${conmon.toFixed(2)} MiB + sleep ${sleeper.toFixed(2)} MiB`);
  const start = [benchCase('start: podman run --rm /bin/true (runc)', 'ms', times.podman, { perCall: true, group: 'start' }), benchCase('start: bwrap --unshare-all /bin/true', 'ms', times.bwrap, { perCall: true, group: 'start' })];
  if (crunSkipped === undefined) start.push(benchCase('start: podman run --rm /bin/true (crun)', 'ms', times.crun, { perCall: true, group: 'start' }));
  emit?.({
    rounds,
    podman: podmanVersion.stdout.trim(),
    ...(crunSkipped ? { skipped: { crun: crunSkipped } } : {}),
    cases: [
      ...withRatios(start, 'start: bwrap --unshare-all /bin/true', 'start'),
      ...withRatios([benchCase('pause + resume: podman pause + unpause', 'ms', times.podmanPause, { perCall: true, group: 'pause' }), benchCase('pause + resume: ForgeOne Cgroup.freeze() + thaw()', 'ms', times.freeze, { perCall: true, group: 'pause' })], 'pause + resume: podman pause + unpause', 'pause'),
      singleCase('memory: idle podman container (conmon + process, PSS)', 'MiB', conmon + sleeper, { group: 'memory' }),
    ],
  });
} finally {
  run('podman', ['rm', '-f', '-t', '0', name]);
  await host.close();
  rmSync(dir, { recursive: true, force: true });
}
