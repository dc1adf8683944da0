// Against this machine's real cgroups (v1 or v2, whichever the layout detection picks).
// Probes first: without writable cgroups the tests skip with the reason, except under CI,
// whose machines have them, where they fail.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inCi, rejectsWithCode } from '@forgeone/common/testing';
import type { Cgroup, CgroupUsage } from './cgroup.js';
import { NODE_CGROUP_FS, type CgroupFs } from './cgroup-fs.js';
import { CgroupHost } from './cgroups.js';
import { sweepStaleCgroups } from './cgroup-sweep.js';
import { probeIsolation } from './probe.js';

let host: CgroupHost | undefined;
let unavailable: string | undefined;
const children: ChildProcess[] = [];

before(async () => {
  const probe = await probeIsolation();
  const missing = probe.capabilities.filter((capability) => capability.name.startsWith('cgroup-') && !capability.ok);
  if (missing.length > 0) unavailable = missing.map((capability) => `${capability.name}: ${capability.detail}`).join('; ');
  else host = await CgroupHost.open();
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await host?.close();
});

/** The host, or undefined after skipping (failing under CI) when cgroups are not usable here. */
function requireCgroups(t: TestContext): CgroupHost | undefined {
  if (host !== undefined) return host;
  const reason = `cgroups are not writable here (${unavailable ?? 'not probed'})`;
  if (inCi()) throw new Error(`${reason}; CI machines must have them`);
  t.skip(reason);
  return undefined;
}

/** Starts `command` waiting on stdin, so it can be put in a group before it does anything. */
function waiting(command: string, args: readonly string[]): ChildProcess & { go(): void; output(): string } {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return Object.assign(child, { go: () => void child.stdin?.write('go\n'), output: () => output });
}

const BUSY = "process.stdin.once('data', () => { for (;;) {} })";

/** Reads usage until `ready` holds (the kernel updates accounting as tasks run; no wall-clock bound). */
async function usageUntil(group: Cgroup, ready: (usage: CgroupUsage) => boolean): Promise<CgroupUsage> {
  for (;;) {
    const usage = await group.usage();
    if (ready(usage)) return usage;
    await sleep(20);
  }
}

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

describe('cgroups on this machine', () => {
  it('accounts the CPU time of a process put in the group', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const group = await cgroups.create('cpu-usage');
    const child = waiting(process.execPath, ['-e', BUSY]);
    await group.addProcess(child.pid ?? 0);
    assert.deepEqual(await group.pids(), [child.pid]);
    child.go();
    const first = await usageUntil(group, (usage) => usage.cpuUsec > 0);
    await usageUntil(group, (usage) => usage.cpuUsec > first.cpuUsec);
    await group.remove();
  });

  it('kills a process that allocates 256 MiB under a 32 MiB limit, and counts the OOM kill', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const group = await cgroups.create('memory-limit');
    await group.setLimits({ memoryBytes: 32 * 1024 * 1024 });
    const child = waiting(process.execPath, ['-e', "process.stdin.once('data', () => { const kept = []; for (let i = 0; i < 256; i++) kept.push(Buffer.alloc(1 << 20, 1)); console.log('allocated', kept.length); process.exit(0); })"]);
    await group.addProcess(child.pid ?? 0);
    await group.checkMemory(); // nothing killed yet
    child.go();
    const { signal } = await exited(child);
    assert.equal(signal, 'SIGKILL', `the child should have been killed; it printed: ${child.output()}`);
    assert.doesNotMatch(child.output(), /allocated/);
    const usage = await group.usage();
    assert.equal(usage.oomKills, 1);
    const error = await rejectsWithCode(group.checkMemory(), 'FO_SANDBOX_MEMORY_LIMIT');
    assert.equal(error.details['sandbox'], 'memory-limit');
    await group.remove();
  });

  it('throttles a busy process under a limit of 0.1 core', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const group = await cgroups.create('cpu-limit');
    await group.setLimits({ cpuCores: 0.1 });
    assert.equal((await group.usage()).nrThrottled, 0);
    const child = waiting(process.execPath, ['-e', BUSY]);
    await group.addProcess(child.pid ?? 0);
    child.go();
    const usage = await usageUntil(group, (current) => current.nrThrottled > 0);
    assert.ok(usage.nrThrottled > 0);
    await group.remove();
  });

  it('freezes a busy process (its CPU time stops growing) and thaws it (it grows again)', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const group = await cgroups.create('freezer');
    const child = waiting(process.execPath, ['-e', BUSY]);
    await group.addProcess(child.pid ?? 0);
    child.go();
    await usageUntil(group, (usage) => usage.cpuUsec > 0);
    await group.freeze();
    const frozen = await group.usage();
    await sleep(300);
    // Exactly equal: freeze resolves only once the kernel reports every task stopped, and a
    // stopped task accrues no CPU time, so no tolerance is needed (cpuacct counts in ns;
    // both reads are floored the same way).
    assert.equal((await group.usage()).cpuUsec, frozen.cpuUsec);
    await group.thaw();
    await usageUntil(group, (usage) => usage.cpuUsec > frozen.cpuUsec);
    await group.remove();
  });

  it('refuses a 6th process under pids.max 5', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const group = await cgroups.create('pids-limit');
    await group.setLimits({ pids: 5 });
    // The shell is the first process; it starts sleepers until fork fails (sh exits then).
    const script = 'read go; i=0; while [ $i -lt 8 ]; do sleep 60 & i=$((i+1)); done; echo "started $i"';
    const child = waiting('sh', ['-c', script]);
    await group.addProcess(child.pid ?? 0);
    child.go();
    const { code } = await exited(child);
    assert.notEqual(code, 0, `the shell should have failed; it printed: ${child.output()}`);
    assert.match(child.output(), /fork/i, 'the shell saw a fork refused');
    assert.doesNotMatch(child.output(), /started/);
    // The shell and four sleepers made five; the fifth sleeper, the sixth process, was refused.
    assert.equal((await group.pids()).length, 4);
    await group.remove();
  });

  it('leaves no directory behind in any hierarchy once removed', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const group = await cgroups.create('removed');
    const child = waiting('sleep', ['60']);
    await group.addProcess(child.pid ?? 0);
    await group.freeze(); // a frozen task must still be killed (v1 needs a thaw for that)
    for (const dir of group.dirs) assert.equal(existsSync(dir), true, dir);
    await group.remove();
    for (const dir of group.dirs) assert.equal(existsSync(dir), false, dir);
    assert.equal((await exited(child)).signal, 'SIGKILL');
  });

  it('keeps no freezer descriptor open after create, freeze, thaw and remove cycles, nor after a group removed behind its back and refused', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const open = (): number => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let round = 0; round < 20; round += 1) {
      const group = await cgroups.create(`fds-${round}`);
      await group.freeze();
      await group.thaw();
      await group.freeze();
      await group.remove();
    }
    assert.equal(open(), before, 'every cycle closed what it opened');
    const group = await cgroups.create('fds-gone');
    await group.freeze();
    await group.thaw();
    assert.ok(open() > before, 'the freezer files are kept open between uses');
    for (const dir of [...group.dirs].reverse()) rmdirSync(dir); // removed by someone else, the files still open
    await rejectsWithCode(() => group.freeze(), 'FO_SANDBOX_UNAVAILABLE');
    await group.remove();
    assert.equal(open(), before, 'closed at removal all the same');
  });

  it('removes a group once when its removal is asked for several times at once (a kill racing a close), with no ENODEV', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    for (let round = 0; round < 5; round += 1) {
      const group = await cgroups.create(`raced-${round}`);
      const child = waiting('sleep', ['60']);
      await group.addProcess(child.pid ?? 0);
      await Promise.all([group.remove(), group.remove(), group.remove()]);
      for (const dir of group.dirs) assert.equal(existsSync(dir), false, dir);
      assert.equal((await exited(child)).signal, 'SIGKILL');
      await group.remove(); // and again, once gone
    }
  });

  it('counts no tasks in a group the kernel is tearing down (its files answer ENODEV), and removes it again without error', async (t) => {
    if (requireCgroups(t) === undefined) return;
    // The real file system, except that a file of a removed directory answers ENODEV, as the
    // kernel does to a reader that opened it just before another remover's rmdir.
    const removed = new Set<string>();
    const fs: CgroupFs = {
      ...NODE_CGROUP_FS,
      rmdir: async (path) => {
        await NODE_CGROUP_FS.rmdir(path);
        removed.add(path);
      },
      read: (path) => (removed.has(join(path, '..')) ? Promise.reject(Object.assign(new Error(`ENODEV: no such device, read '${path}'`), { code: 'ENODEV' })) : NODE_CGROUP_FS.read(path)),
    };
    const own = await CgroupHost.open({ fs });
    try {
      const group = await own.create('torn-down');
      const child = waiting('sleep', ['60']);
      await group.addProcess(child.pid ?? 0);
      await group.remove();
      assert.deepEqual(await group.pids(), []);
      await group.remove();
      assert.equal((await exited(child)).signal, 'SIGKILL');
    } finally {
      await own.close();
    }
  });

  it('sweeps the groups of a host pid that no longer runs and keeps those of a live pid', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const gone = spawn('true');
    await exited(gone);
    const live = waiting('sleep', ['60']);
    const deadHost = await CgroupHost.open({ layout: cgroups.layout, hostPid: gone.pid ?? 0 });
    const orphan = await deadHost.create('orphan');
    const orphanTask = waiting('sleep', ['60']);
    await orphan.addProcess(orphanTask.pid ?? 0);
    const liveHost = await CgroupHost.open({ layout: cgroups.layout, hostPid: live.pid ?? 0 });
    const kept = await liveHost.create('kept');
    const removed = await sweepStaleCgroups({ layout: cgroups.layout });
    assert.ok(removed.includes(deadHost.name), `removed: ${removed.join(', ')}`);
    assert.ok(!removed.includes(liveHost.name));
    for (const dir of orphan.dirs) assert.equal(existsSync(join(dir, '..')), false, dir);
    for (const dir of kept.dirs) assert.equal(existsSync(dir), true, dir);
    assert.equal((await exited(orphanTask)).signal, 'SIGKILL');
    await liveHost.close();
    for (const dir of kept.dirs) assert.equal(existsSync(join(dir, '..')), false, dir);
  });

  it('sweeps the groups of a host whose pid now belongs to another process (another start time)', async (t) => {
    const cgroups = requireCgroups(t);
    if (cgroups === undefined) return;
    const live = waiting('sleep', ['60']);
    // A group made by an earlier process that had this pid: same pid, another start time.
    const reused = await CgroupHost.open({ layout: cgroups.layout, hostPid: live.pid ?? 0, hostStart: '1' });
    await reused.create('orphan');
    const current = await CgroupHost.open({ layout: cgroups.layout, hostPid: live.pid ?? 0 });
    await current.create('kept');
    const removed = await sweepStaleCgroups({ layout: cgroups.layout });
    assert.ok(removed.includes(reused.name), `removed: ${removed.join(', ')}`);
    assert.ok(!removed.includes(current.name), 'the group of the process that has the pid now stays');
    await current.close();
    live.kill('SIGKILL');
  });
});
