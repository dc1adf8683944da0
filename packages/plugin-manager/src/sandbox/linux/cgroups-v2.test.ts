// The cgroup v2 code path against a fake unified hierarchy (test-support/fake-cgroup-v2.ts):
// the machines this runs on have no usable v2 controllers, so the kernel's rules the code
// depends on are reproduced there instead.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir as mkdirPlain, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rejectsWithCode } from '@forgeone/common/testing';
import { CgroupHost } from './cgroups.js';
import { detectCgroupLayout, parseCgroupMounts } from './cgroup-layout.js';
import { sweepStaleCgroups } from './cgroup-sweep.js';
import { fakeCgroupV2 } from './test-support/fake-cgroup-v2.js';

const text = (path: string): Promise<string> => readFile(path, 'utf8').then((content) => content.trim());

async function openFake(controllers?: readonly string[]) {
  const fake = await fakeCgroupV2(controllers);
  const host = await CgroupHost.open({ layout: { version: 2, base: fake.root }, fs: fake.fs, hostPid: 4242, hostStart: '987654' });
  return { fake, host };
}

describe('cgroups v2 (fake tree)', () => {
  it('creates forgeone/<pid>-<start>-<random>/<id> with memory, cpu and pids delegated down every level', async () => {
    const { fake, host } = await openFake();
    assert.match(host.name, /^4242-987654-[0-9a-f]{8}$/);
    const group = await host.create('plugin-1');
    assert.deepEqual(group.dirs, [join(fake.root, 'forgeone', host.name, 'plugin-1')]);
    for (const dir of [fake.root, join(fake.root, 'forgeone'), join(fake.root, 'forgeone', host.name)]) {
      assert.equal(await text(join(dir, 'cgroup.subtree_control')), 'memory cpu pids', dir);
    }
    assert.equal(await text(join(group.dirs[0] ?? '', 'cgroup.controllers')), 'memory cpu pids');
  });

  it('writes memory.max with swap denied, cpu.max as quota and period, and pids.max', async () => {
    const { host } = await openFake();
    const group = await host.create('limits');
    await group.setLimits({ memoryBytes: 32 * 1024 * 1024, cpuCores: 0.1, pids: 5 });
    const dir = group.dirs[0] ?? '';
    assert.equal(await text(join(dir, 'memory.max')), String(32 * 1024 * 1024));
    assert.equal(await text(join(dir, 'memory.swap.max')), '0');
    assert.equal(await text(join(dir, 'cpu.max')), '10000 100000');
    assert.equal(await text(join(dir, 'pids.max')), '5');
  });

  it('refuses ids that are not a plain directory name and limits out of range, naming each', async () => {
    const { host } = await openFake();
    for (const id of ['..', '../escape', 'a/b', '', '.hidden', 'x'.repeat(65)]) await rejectsWithCode(host.create(id), 'FO_SANDBOX_BAD_OPTION', id);
    const group = await host.create('ok');
    const error = await rejectsWithCode(group.setLimits({ memoryBytes: 1000, cpuCores: 0, pids: 1.5 }), 'FO_SANDBOX_BAD_OPTION');
    assert.equal((error.details['problems'] as string[]).length, 3);
  });

  it('adds a process through cgroup.procs and lists it', async () => {
    const { host } = await openFake();
    const group = await host.create('procs');
    await group.addProcess(1234);
    assert.deepEqual(await group.pids(), [1234]);
  });

  it('waits for cgroup.events to say frozen 1 before freeze resolves, and frozen 0 before thaw does', async () => {
    const { fake, host } = await openFake();
    const group = await host.create('freezer');
    fake.freezeLag.set('freezer', 3); // the kernel acknowledges on the fourth read
    const events = join(group.dirs[0] ?? '', 'cgroup.events');
    await group.freeze();
    assert.match(await text(events), /frozen 1/);
    await group.thaw();
    assert.match(await text(events), /frozen 0/);
  });

  it('reads usage_usec, nr_throttled, memory.current and oom_kill, and reports an OOM kill as FO_SANDBOX_MEMORY_LIMIT', async () => {
    const { host } = await openFake();
    const group = await host.create('usage');
    const dir = group.dirs[0] ?? '';
    await group.checkMemory(); // no kill yet
    await writeFile(join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 9\nnr_throttled 7\nthrottled_usec 80\n');
    await writeFile(join(dir, 'memory.current'), '4096\n');
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    assert.deepEqual(await group.usage(), { cpuUsec: 1500, nrThrottled: 7, memoryBytes: 4096, oomKills: 1 });
    const error = await rejectsWithCode(group.checkMemory(), 'FO_SANDBOX_MEMORY_LIMIT');
    assert.equal(error.details['oomKills'], 1);
  });

  it('fails with FO_SANDBOX_UNAVAILABLE naming the file when a controller is not enabled for the group', async () => {
    const { fake, host } = await openFake();
    // Someone took pids away from the host group's children: the new group has no pids.max.
    await writeFile(join(fake.root, 'forgeone', host.name, 'cgroup.subtree_control'), 'memory cpu\n');
    const group = await host.create('no-pids');
    const error = await rejectsWithCode(group.setLimits({ pids: 5 }), 'FO_SANDBOX_UNAVAILABLE');
    assert.deepEqual(error.details, { path: join(group.dirs[0] ?? '', 'pids.max'), errno: 'ENOENT' });
    assert.equal(existsSync(join(group.dirs[0] ?? '', 'pids.max')), false, 'the write did not create the file');
  });

  it('refuses a layout without pids at open, naming the file', async () => {
    const fake = await fakeCgroupV2(['memory', 'cpu']);
    const error = await rejectsWithCode(CgroupHost.open({ layout: { version: 2, base: fake.root }, fs: fake.fs }), 'FO_SANDBOX_UNAVAILABLE');
    assert.equal(error.details['path'], join(fake.root, 'cgroup.subtree_control'));
  });

  it('explains the no-internal-process rule when the host cgroup holds processes', async () => {
    const fake = await fakeCgroupV2();
    await fake.fs.write(join(fake.root, 'cgroup.subtree_control'), '+memory +cpu +pids');
    const base = join(fake.root, 'host.service');
    await fake.fs.mkdir(base);
    await fake.fs.write(join(base, 'cgroup.procs'), '777');
    const error = await rejectsWithCode(CgroupHost.open({ layout: { version: 2, base }, fs: fake.fs }), 'FO_SANDBOX_UNAVAILABLE');
    assert.match(error.message, /holds processes/);
  });

  it('removes a group with cgroup.kill then rmdir, and close leaves no directory behind', async () => {
    const { fake, host } = await openFake();
    const group = await host.create('gone');
    await group.addProcess(99);
    await group.remove();
    assert.deepEqual(fake.kills, group.dirs);
    assert.equal(existsSync(group.dirs[0] ?? ''), false);
    await group.remove(); // idempotent
    const left = await host.create('left');
    await left.addProcess(100);
    await host.close();
    assert.equal(existsSync(join(fake.root, 'forgeone', host.name)), false);
    assert.ok(fake.kills.includes(left.dirs[0] ?? ''), 'close kills what is left');
    await rejectsWithCode(host.create('late'), 'FO_SANDBOX_CLOSED');
  });

  it('sweeps host groups of dead pids, keeps those of live pids and directories that are not host groups', async () => {
    const fake = await fakeCgroupV2();
    const layout = { version: 2, base: fake.root } as const;
    const dead = await CgroupHost.open({ layout, fs: fake.fs, hostPid: 111 });
    await (await dead.create('orphan')).addProcess(5555);
    const live = await CgroupHost.open({ layout, fs: fake.fs, hostPid: 222 });
    await live.create('running');
    await mkdirPlain(join(fake.root, 'forgeone', 'not-a-host-group'));
    const removed = await sweepStaleCgroups({ layout, fs: fake.fs, isAlive: (pid) => pid === 222 });
    assert.deepEqual(removed, [dead.name]);
    assert.equal(existsSync(join(fake.root, 'forgeone', dead.name)), false);
    assert.equal(existsSync(join(fake.root, 'forgeone', live.name, 'running')), true);
    assert.equal(existsSync(join(fake.root, 'forgeone', 'not-a-host-group')), true);
    assert.deepEqual(fake.kills, [join(fake.root, 'forgeone', dead.name, 'orphan')]);
  });
});

describe('cgroup layout detection', () => {
  const v1Mounts = [
    '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
    '31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '32 25 0:28 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
    '33 25 0:29 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer',
    '34 25 0:30 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  ].join('\n');
  const v1Self = ['5:freezer:/', '4:pids:/user.slice', '3:memory:/svc/forge', '2:cpu,cpuacct:/svc', '0::/'].join('\n');

  it('finds the host group in each v1 hierarchy, co-mounted cpu,cpuacct included', () => {
    const mounts = parseCgroupMounts(v1Mounts, v1Self);
    assert.equal(mounts.v1.get('memory'), '/sys/fs/cgroup/memory/svc/forge');
    assert.equal(mounts.v1.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct/svc');
    assert.equal(mounts.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct/svc');
    assert.equal(mounts.v1.get('pids'), '/sys/fs/cgroup/pids/user.slice');
    assert.equal(mounts.unified, '/sys/fs/cgroup/unified');
  });

  it('picks v1 when the unified hierarchy has no controllers, v2 when it has memory, cpu and pids', async () => {
    const empty = await detectCgroupLayout({ mountinfo: v1Mounts, selfCgroup: v1Self, readText: () => Promise.resolve('\n') });
    assert.equal(empty.version, 1);
    const v2 = await detectCgroupLayout({
      mountinfo: '24 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
      selfCgroup: '0::/system.slice/forge.service',
      readText: (path) => Promise.resolve(path === '/sys/fs/cgroup/system.slice/forge.service/cgroup.controllers' ? 'cpuset cpu io memory pids\n' : ''),
    });
    assert.deepEqual(v2, { version: 2, base: '/sys/fs/cgroup/system.slice/forge.service' });
  });

  it('maps a container mount root, and falls back to the mount point for a path outside it', () => {
    const mounts = parseCgroupMounts('40 30 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/docker/abc/app');
    assert.equal(mounts.unified, '/sys/fs/cgroup/app');
    assert.equal(parseCgroupMounts('40 30 0:40 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/elsewhere').unified, '/sys/fs/cgroup');
  });

  it('fails with FO_SANDBOX_UNAVAILABLE naming what neither layout has', async () => {
    const error = await rejectsWithCode(
      detectCgroupLayout({ mountinfo: '24 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', selfCgroup: '0::/', readText: () => Promise.resolve('cpu memory\n') }),
      'FO_SANDBOX_UNAVAILABLE',
    );
    assert.deepEqual(error.details['v2Missing'], ['pids']);
    assert.deepEqual(error.details['v1Missing'], ['memory', 'cpu', 'cpuacct', 'pids', 'freezer']);
    assert.match(error.message, /lacks pids/);
  });
});
