import { join } from 'node:path';
import { isNodeSystemError } from '@forgeone/common';
import { FORGEONE_DIR, hostGroupPid } from './cgroup.js';
import { NODE_CGROUP_FS, cgroupUnavailable, type CgroupFs } from './cgroup-fs.js';
import { V1_CONTROLLERS, detectCgroupLayout, type CgroupLayout } from './cgroup-layout.js';
import { removeHostGroup } from './cgroups.js';

/** Options of {@link sweepStaleCgroups}. */
export interface SweepOptions {
  /** Default: detected from /proc. */
  readonly layout?: CgroupLayout;
  readonly fs?: CgroupFs;
  /** Whether a host pid still runs; default: `kill(pid, 0)` (EPERM counts as running). */
  readonly isAlive?: (pid: number) => boolean;
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
 * Removes the host groups a ForgeOne host that died left behind: every `forgeone/<pid>-<random>`
 * whose pid no longer runs, with the sandbox groups in it (their tasks are killed: with their
 * host gone nobody can talk to them). Run it when a host starts, before it opens its own
 * group. A group of a live pid is kept, whoever owns it; directories that are not named like
 * a host group are left alone.
 *
 * Limits: a pid reused by an unrelated process keeps its dead host's group until that
 * process exits; and hosts in other pid namespaces sharing the cgroup tree are judged by
 * pids of this namespace, so such hosts must not share a parent cgroup.
 *
 * @returns the host group names removed
 * @throws FO_SANDBOX_UNAVAILABLE when a stale group cannot be removed
 */
export async function sweepStaleCgroups(options: SweepOptions = {}): Promise<string[]> {
  const fs = options.fs ?? NODE_CGROUP_FS;
  const layout = options.layout ?? (await detectCgroupLayout());
  const isAlive = options.isAlive ?? pidIsAlive;
  const parents = layout.version === 2 ? [join(layout.base, FORGEONE_DIR)] : [...new Set(V1_CONTROLLERS.map((controller) => join(layout.base[controller], FORGEONE_DIR)))];
  const stale = new Set<string>();
  for (const parent of parents) {
    const names = await fs.subdirs(parent).catch((error: unknown) => {
      if (isNodeSystemError(error, 'ENOENT')) return [];
      throw cgroupUnavailable('list the host groups', parent, error);
    });
    for (const name of names) {
      const pid = hostGroupPid(name);
      if (pid !== undefined && pid !== process.pid && !isAlive(pid)) stale.add(name);
    }
  }
  for (const name of stale) await removeHostGroup(fs, layout, name);
  return [...stale].sort();
}
