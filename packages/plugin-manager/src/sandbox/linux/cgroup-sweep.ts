import { join } from 'node:path';
import { isNodeSystemError } from '@forgeone/common';
import { FORGEONE_DIR, parseHostGroupName, processStartTime } from './cgroup.js';
import { NODE_CGROUP_FS, cgroupUnavailable, type CgroupFs } from './cgroup-fs.js';
import { V1_CONTROLLERS, detectCgroupLayout, type CgroupLayout } from './cgroup-layout.js';
import { removeHostGroup } from './cgroups.js';

/** Options of {@link sweepStaleCgroups}. */
export interface SweepOptions {
  /** Default: detected from /proc. */
  readonly layout?: CgroupLayout;
  readonly fs?: CgroupFs;
  /** Whether the host still runs; default {@link hostIsAlive}. */
  readonly isAlive?: (pid: number, start: string) => boolean;
}

/** `kill(pid, 0)`: true unless the kernel says there is no such process. */
export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !isNodeSystemError(error, 'ESRCH');
  }
}

/**
 * True while the process `pid` that started at `start` (clock ticks after boot) runs: a
 * process with that pid but another start time is another process, the host is gone. A
 * start of 0 (unknown when the group was made) falls back to {@link pidIsAlive}.
 */
export function hostIsAlive(pid: number, start: string): boolean {
  if (start === '0') return pidIsAlive(pid);
  return processStartTime(pid) === start;
}

/**
 * Removes the host groups a ForgeOne host that died left behind: every `forgeone/<pid>-<start>-<random>`
 * whose pid no longer runs, with the sandbox groups in it (their tasks are killed: with their
 * host gone nobody can talk to them). Run it when a host starts, before it opens its own
 * group. A group of a live pid is kept, whoever owns it; directories that are not named like
 * a host group are left alone.
 *
 * A group names its host's pid and start time, so a pid reused by an unrelated process
 * does not keep a dead host's group. Limits: hosts in other pid namespaces sharing the
 * cgroup tree are judged by pids of this namespace, so such hosts must not share a parent
 * cgroup.
 *
 * @returns the host group names removed
 * @throws FO_SANDBOX_UNAVAILABLE when a stale group cannot be removed
 */
export async function sweepStaleCgroups(options: SweepOptions = {}): Promise<string[]> {
  const fs = options.fs ?? NODE_CGROUP_FS;
  const layout = options.layout ?? (await detectCgroupLayout());
  const isAlive = options.isAlive ?? hostIsAlive;
  const parents = layout.version === 2 ? [join(layout.base, FORGEONE_DIR)] : [...new Set(V1_CONTROLLERS.map((controller) => join(layout.base[controller], FORGEONE_DIR)))];
  const stale = new Set<string>();
  for (const parent of parents) {
    const names = await fs.subdirs(parent).catch((error: unknown) => {
      if (isNodeSystemError(error, 'ENOENT')) return [];
      throw cgroupUnavailable('list the host groups', parent, error);
    });
    for (const name of names) {
      const host = parseHostGroupName(name);
      if (host !== undefined && host.pid !== process.pid && !isAlive(host.pid, host.start)) stale.add(name);
    }
  }
  for (const name of stale) await removeHostGroup(fs, layout, name);
  return [...stale].sort();
}
