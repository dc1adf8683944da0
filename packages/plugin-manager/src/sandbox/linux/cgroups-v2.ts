import { join } from 'node:path';
import { ForgeError, isNodeSystemError } from '@forgeone/common';
import { CPU_PERIOD_US, checkLimits, cpuQuotaUs, memoryLimitError, type Cgroup, type CgroupLimits, type CgroupUsage } from './cgroup.js';
import { OnceRemoval, cgroupUnavailable, isGroupGone, killAll, parseKeyed, parsePids, readCgroupFile, removeGroupDir, writeCgroupFile, type CgroupFs } from './cgroup-fs.js';
import { FreezerFiles } from './cgroup-freezer.js';
import { V2_CONTROLLERS } from './cgroup-layout.js';

const ENABLE = V2_CONTROLLERS.map((controller) => `+${controller}`).join(' ');

/**
 * Makes `dir` (creating it unless `create` is false) hand the memory, cpu and pids
 * controllers to the groups below it, by writing them to its cgroup.subtree_control.
 *
 * @throws FO_SANDBOX_UNAVAILABLE when the kernel refuses; EBUSY means the directory holds
 * processes (v2's no-internal-process rule): the host must run in a delegated cgroup of
 * its own, whose parent it does not share with its processes
 */
export async function delegateV2(fs: CgroupFs, dir: string, create: boolean): Promise<void> {
  if (create) {
    try {
      await fs.mkdir(dir);
    } catch (error) {
      if (!isNodeSystemError(error, 'EEXIST')) throw cgroupUnavailable('create the cgroup', dir, error);
    }
  }
  const file = join(dir, 'cgroup.subtree_control');
  try {
    await fs.write(file, ENABLE);
  } catch (error) {
    if (isNodeSystemError(error, 'EBUSY')) {
      throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `cannot enable ${V2_CONTROLLERS.join(', ')} below ${dir}: it holds processes, and cgroup v2 enables controllers only below groups without any; run the host in a delegated cgroup (systemd Delegate=yes) with its own process in a leaf`, {
        details: { path: file, errno: 'EBUSY' },
        cause: error,
      });
    }
    throw cgroupUnavailable(`enable ${V2_CONTROLLERS.join(', ')} for child groups`, file, error);
  }
}

/** A sandbox's group in the unified hierarchy. */
export class V2Cgroup implements Cgroup {
  readonly version = 2;
  readonly dirs: readonly string[];
  readonly #fs: CgroupFs;
  readonly #removal = new OnceRemoval();
  readonly #dir: string;
  readonly #freezer: FreezerFiles;

  /** Wraps an existing directory; use {@link createV2Group}. */
  constructor(fs: CgroupFs, dir: string, readonly id: string) {
    this.#fs = fs;
    this.#dir = dir;
    this.dirs = [dir];
    this.#freezer = new FreezerFiles(fs, join(dir, 'cgroup.freeze'), join(dir, 'cgroup.events'));
  }

  #file(name: string): string {
    return join(this.#dir, name);
  }

  async setLimits(limits: CgroupLimits): Promise<void> {
    checkLimits(limits);
    const fs = this.#fs;
    if (limits.memoryBytes !== undefined) {
      await writeCgroupFile(fs, this.#file('memory.max'), String(limits.memoryBytes), 'set the memory limit');
      // Without this the kernel pages the group out to swap instead of killing it, and the limit only slows it down.
      await writeCgroupFile(fs, this.#file('memory.swap.max'), '0', 'deny swap');
    }
    if (limits.cpuCores !== undefined) await writeCgroupFile(fs, this.#file('cpu.max'), `${cpuQuotaUs(limits.cpuCores)} ${CPU_PERIOD_US}`, 'set the CPU limit');
    if (limits.pids !== undefined) await writeCgroupFile(fs, this.#file('pids.max'), String(limits.pids), 'set the pids limit');
  }

  async addProcess(pid: number): Promise<void> {
    await writeCgroupFile(this.#fs, this.#file('cgroup.procs'), String(pid), `move process ${pid} into the cgroup`);
  }

  async pids(): Promise<number[]> {
    return parsePids(await readCgroupFile(this.#fs, this.#file('cgroup.procs'), 'list the cgroup\'s processes'));
  }

  #setFrozen(frozen: 0 | 1): Promise<void> {
    return this.#freezer.set(String(frozen), (events) => parseKeyed(events).get('frozen') === frozen, frozen === 1 ? 'freeze the cgroup' : 'thaw the cgroup');
  }

  freeze(): Promise<void> {
    return this.#setFrozen(1);
  }

  thaw(): Promise<void> {
    return this.#setFrozen(0);
  }

  async usage(): Promise<CgroupUsage> {
    const fs = this.#fs;
    const cpu = parseKeyed(await readCgroupFile(fs, this.#file('cpu.stat'), 'read CPU accounting'));
    const memory = Number((await readCgroupFile(fs, this.#file('memory.current'), 'read memory accounting')).trim());
    const events = parseKeyed(await readCgroupFile(fs, this.#file('memory.events'), 'read memory events'));
    return { cpuUsec: cpu.get('usage_usec') ?? 0, nrThrottled: cpu.get('nr_throttled') ?? 0, memoryBytes: memory, oomKills: events.get('oom_kill') ?? 0 };
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
    this.#freezer.close();
    try {
      // cgroup.kill (Linux 5.14) kills every task at once, forks included, frozen or not.
      await fs.write(this.#file('cgroup.kill'), '1');
    } catch (error) {
      if (!isGroupGone(error)) throw cgroupUnavailable('kill the cgroup', this.#file('cgroup.kill'), error);
      // No cgroup.kill: an older kernel, or the group is already gone (remove is idempotent).
      const gone = await fs.read(this.#file('cgroup.procs')).then(
        () => false,
        (readError: unknown) => isGroupGone(readError),
      );
      if (gone) return;
      await killAll(() => this.pids(), this.#dir);
    }
    await removeGroupDir(fs, this.#dir);
  }
}

/**
 * Creates a sandbox's group below `hostDir` (which {@link delegateV2} prepared).
 *
 * @throws FO_SANDBOX_UNAVAILABLE when it cannot be created (EEXIST included: ids are unique per host)
 */
export async function createV2Group(fs: CgroupFs, hostDir: string, id: string): Promise<V2Cgroup> {
  const dir = join(hostDir, id);
  try {
    await fs.mkdir(dir);
  } catch (error) {
    throw cgroupUnavailable(`create the cgroup of sandbox ${id}`, dir, error);
  }
  return new V2Cgroup(fs, dir, id);
}
