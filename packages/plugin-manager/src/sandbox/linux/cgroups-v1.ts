import { join } from 'node:path';
import { ForgeError, isNodeSystemError } from '@forgeone/common';
import { CPU_PERIOD_US, checkLimits, cpuQuotaUs, memoryLimitError, type Cgroup, type CgroupLimits, type CgroupUsage } from './cgroup.js';
import { OnceRemoval, cgroupUnavailable, isGroupGone, killAll, parseKeyed, parsePids, readCgroupFile, removeGroupDir, writeCgroupFile, type CgroupFs } from './cgroup-fs.js';
import { FreezerFiles } from './cgroup-freezer.js';
import type { V1Controller } from './cgroup-layout.js';

/** A sandbox's group in the legacy hierarchies: one directory per hierarchy (cpu and cpuacct may share one). */
export class V1Cgroup implements Cgroup {
  readonly version = 1;
  readonly dirs: readonly string[];
  readonly #fs: CgroupFs;
  readonly #removal = new OnceRemoval();
  readonly #dir: Readonly<Record<V1Controller, string>>;
  readonly #freezer: FreezerFiles;

  /** Wraps existing directories; use {@link createV1Group}. */
  constructor(fs: CgroupFs, dirs: Readonly<Record<V1Controller, string>>, readonly id: string) {
    this.#fs = fs;
    this.#dir = dirs;
    this.dirs = [...new Set(Object.values(dirs))];
    const state = join(dirs.freezer, 'freezer.state');
    this.#freezer = new FreezerFiles(fs, state, state);
  }

  #file(controller: V1Controller, name: string): string {
    return join(this.#dir[controller], name);
  }

  async setLimits(limits: CgroupLimits): Promise<void> {
    checkLimits(limits);
    const fs = this.#fs;
    if (limits.memoryBytes !== undefined) await this.#setMemory(limits.memoryBytes);
    if (limits.cpuCores !== undefined) {
      await writeCgroupFile(fs, this.#file('cpu', 'cpu.cfs_period_us'), String(CPU_PERIOD_US), 'set the CPU period');
      await writeCgroupFile(fs, this.#file('cpu', 'cpu.cfs_quota_us'), String(cpuQuotaUs(limits.cpuCores)), 'set the CPU limit');
    }
    if (limits.pids !== undefined) await writeCgroupFile(fs, this.#file('pids', 'pids.max'), String(limits.pids), 'set the pids limit');
  }

  async #setMemory(bytes: number): Promise<void> {
    const fs = this.#fs;
    const limit = this.#file('memory', 'memory.limit_in_bytes');
    const memsw = this.#file('memory', 'memory.memsw.limit_in_bytes');
    // memsw (memory + swap) only exists with swap accounting; where it does, setting it to
    // the same value denies swap, so the limit kills instead of paging out. The kernel
    // keeps memsw >= the memory limit at every step, hence the order.
    const hasMemsw = await fs.read(memsw).then(
      () => true,
      (error: unknown) => {
        if (isNodeSystemError(error, 'ENOENT')) return false;
        throw cgroupUnavailable('read the memory+swap limit', memsw, error);
      },
    );
    const current = Number((await readCgroupFile(fs, limit, 'read the memory limit')).trim());
    const raising = bytes > current;
    if (hasMemsw && raising) await writeCgroupFile(fs, memsw, String(bytes), 'deny swap');
    await writeCgroupFile(fs, limit, String(bytes), 'set the memory limit');
    if (hasMemsw && !raising) await writeCgroupFile(fs, memsw, String(bytes), 'deny swap');
  }

  async addProcess(pid: number): Promise<void> {
    for (const dir of this.dirs) await writeCgroupFile(this.#fs, join(dir, 'cgroup.procs'), String(pid), `move process ${pid} into the cgroup`);
  }

  /** The processes in the group in any hierarchy (a hierarchy where it is already gone counts none). */
  async pids(): Promise<number[]> {
    const all = new Set<number>();
    for (const dir of this.dirs) {
      const file = join(dir, 'cgroup.procs');
      const text = await this.#fs.read(file).catch((error: unknown) => {
        if (isGroupGone(error)) return '';
        throw cgroupUnavailable("list the cgroup's processes", file, error);
      });
      for (const pid of parsePids(text)) all.add(pid);
    }
    return [...all].sort((a, b) => a - b);
  }

  #setState(state: 'FROZEN' | 'THAWED'): Promise<void> {
    // FREEZING until every task has stopped.
    return this.#freezer.set(state, (text) => text.trim() === state, state === 'FROZEN' ? 'freeze the cgroup' : 'thaw the cgroup');
  }

  freeze(): Promise<void> {
    return this.#setState('FROZEN');
  }

  thaw(): Promise<void> {
    return this.#setState('THAWED');
  }

  async usage(): Promise<CgroupUsage> {
    const fs = this.#fs;
    const cpuNs = Number((await readCgroupFile(fs, this.#file('cpuacct', 'cpuacct.usage'), 'read CPU accounting')).trim());
    const cpu = parseKeyed(await readCgroupFile(fs, this.#file('cpu', 'cpu.stat'), 'read CPU throttling'));
    const memory = Number((await readCgroupFile(fs, this.#file('memory', 'memory.usage_in_bytes'), 'read memory accounting')).trim());
    const oom = parseKeyed(await readCgroupFile(fs, this.#file('memory', 'memory.oom_control'), 'read OOM kills'));
    return { cpuUsec: Math.floor(cpuNs / 1000), nrThrottled: cpu.get('nr_throttled') ?? 0, memoryBytes: memory, oomKills: oom.get('oom_kill') ?? 0 };
  }

  async checkMemory(): Promise<void> {
    const error = memoryLimitError(this.id, await this.usage());
    if (error !== undefined) throw error;
  }

  /** Kills the group's tasks and removes its directories, once (see {@link OnceRemoval}). */
  remove(): Promise<void> {
    return this.#removal.run(() => this.#remove());
  }

  async #remove(): Promise<void> {
    const fs = this.#fs;
    // Freeze first: a frozen task cannot exit, so no pid read below can be recycled for an
    // unrelated process before its SIGKILL lands, and none can fork. If the group will not
    // freeze (a task stuck in the kernel), kill anyway: the race is narrow and the kill loop
    // below still empties the group.
    await this.freeze().catch((error: unknown) => {
      if (!ForgeError.is(error, 'FO_SANDBOX_UNAVAILABLE')) throw error;
    });
    // A frozen v1 task does not act on SIGKILL until thawed: queue the kill first, so
    // that no task runs another instruction of its own after the thaw, then thaw.
    for (const pid of await this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (error) {
        if (!isNodeSystemError(error, 'ESRCH')) throw cgroupUnavailable(`kill task ${pid} of the cgroup`, this.#dir.freezer, error);
      }
    }
    await fs.write(this.#file('freezer', 'freezer.state'), 'THAWED').catch((error: unknown) => {
      if (!isGroupGone(error)) throw cgroupUnavailable('thaw the cgroup before removing it', this.#file('freezer', 'freezer.state'), error);
    });
    await killAll(() => this.pids(), this.#dir.freezer);
    this.#freezer.close();
    for (const dir of this.dirs) await removeGroupDir(fs, dir);
  }
}

/**
 * Creates a sandbox's group: its directory in every hierarchy.
 *
 * @param dirs the group's directory per controller (cpu and cpuacct may be the same one)
 * @throws FO_SANDBOX_UNAVAILABLE when a directory cannot be created (the ones made are removed)
 */
export async function createV1Group(fs: CgroupFs, dirs: Readonly<Record<V1Controller, string>>, id: string): Promise<V1Cgroup> {
  const group = new V1Cgroup(fs, dirs, id);
  const made: string[] = [];
  for (const dir of group.dirs) {
    try {
      await fs.mkdir(dir);
      made.push(dir);
    } catch (error) {
      for (const done of made) await fs.rmdir(done).catch(() => undefined); // best effort: the mkdir error is the one to report
      throw cgroupUnavailable(`create the cgroup of sandbox ${id}`, dir, error);
    }
  }
  return group;
}
