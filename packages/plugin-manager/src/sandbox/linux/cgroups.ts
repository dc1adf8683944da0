import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ForgeError, isNodeSystemError } from '@forgeone/common';
import { FORGEONE_DIR, checkGroupId, hostGroupName, processStartTime, type Cgroup } from './cgroup.js';
import { NODE_CGROUP_FS, cgroupUnavailable, removeGroupDir, type CgroupFs } from './cgroup-fs.js';
import { V1_CONTROLLERS, detectCgroupLayout, type CgroupLayout, type CgroupV1Layout, type V1Controller } from './cgroup-layout.js';
import { V1Cgroup, createV1Group } from './cgroups-v1.js';
import { V2Cgroup, createV2Group, delegateV2 } from './cgroups-v2.js';

/** Options of {@link CgroupHost.open}. */
export interface CgroupHostOptions {
  /** Where groups go; default: detected from /proc ({@link detectCgroupLayout}). */
  readonly layout?: CgroupLayout;
  /** File operations; default the real file system (tests pass a fake v2 tree). */
  readonly fs?: CgroupFs;
  /** The pid the host group is named after (default this process's), which the sweep checks for life. */
  readonly hostPid?: number;
  /** That process's start time in clock ticks after boot (default: read from /proc; 0 when unknown). */
  readonly hostStart?: string;
}

/** The host group's directory in each hierarchy: one for v2, one per controller for v1. */
function hostDirs(layout: CgroupLayout, name: string): readonly string[] {
  return layout.version === 2 ? [join(layout.base, FORGEONE_DIR, name)] : [...new Set(V1_CONTROLLERS.map((controller) => join(layout.base[controller], FORGEONE_DIR, name)))];
}

/** The directories of sandbox `id`'s group, per controller for v1. */
function groupDirsV1(layout: CgroupV1Layout, hostName: string, id: string): Record<V1Controller, string> {
  return Object.fromEntries(V1_CONTROLLERS.map((controller) => [controller, join(layout.base[controller], FORGEONE_DIR, hostName, id)])) as Record<V1Controller, string>;
}

/** A handle on an existing sandbox group (the sweep and close use it to remove leftovers). */
function existingGroup(fs: CgroupFs, layout: CgroupLayout, hostName: string, id: string): Cgroup {
  return layout.version === 2 ? new V2Cgroup(fs, join(layout.base, FORGEONE_DIR, hostName, id), id) : new V1Cgroup(fs, groupDirsV1(layout, hostName, id), id);
}

/**
 * Removes a host group: every sandbox group under it (killing what runs there), then the
 * host group's own directories. A hierarchy where it is already gone is skipped.
 *
 * @throws FO_SANDBOX_UNAVAILABLE when a group cannot be removed
 */
export async function removeHostGroup(fs: CgroupFs, layout: CgroupLayout, hostName: string): Promise<void> {
  const dirs = hostDirs(layout, hostName);
  const ids = new Set<string>();
  for (const dir of dirs) {
    const names = await fs.subdirs(dir).catch((error: unknown) => {
      if (isNodeSystemError(error, 'ENOENT')) return [];
      throw cgroupUnavailable('list the sandbox groups', dir, error);
    });
    for (const name of names) ids.add(name);
  }
  for (const id of ids) await existingGroup(fs, layout, hostName, id).remove();
  for (const dir of dirs) await removeGroupDir(fs, dir);
}

/**
 * This host process's parent group, `forgeone/<pid>-<start>-<random>` below the host's own cgroup
 * in every hierarchy, under which each sandbox gets a group named after its id. The pid in
 * the name lets the next host remove what a crashed one left ({@link sweepStaleCgroups}).
 *
 * ```ts
 * const host = await CgroupHost.open();
 * const group = await host.create('plugin-1');
 * await group.setLimits({ memoryBytes: 64 * 2 ** 20, cpuCores: 0.5, pids: 32 });
 * await group.addProcess(child.pid);
 * await host.close(); // kills what is left and removes every group
 * ```
 */
export class CgroupHost {
  readonly #fs: CgroupFs;
  #closed = false;

  private constructor(
    fs: CgroupFs,
    /** Where the groups live. */
    readonly layout: CgroupLayout,
    /** The host group's name, `<pid>-<start>-<8 hex digits>`. */
    readonly name: string,
  ) {
    this.#fs = fs;
  }

  /**
   * Creates the host group in every hierarchy (and, on v2, enables the memory, cpu and
   * pids controllers down to it).
   *
   * @throws FO_SANDBOX_UNAVAILABLE when no layout fits or the kernel refuses a directory or controller
   */
  static async open(options: CgroupHostOptions = {}): Promise<CgroupHost> {
    const fs = options.fs ?? NODE_CGROUP_FS;
    const layout = options.layout ?? (await detectCgroupLayout());
    const pid = options.hostPid ?? process.pid;
    const name = hostGroupName(pid, options.hostStart ?? processStartTime(pid) ?? '0', randomBytes(4).toString('hex'));
    const host = new CgroupHost(fs, layout, name);
    if (layout.version === 2) {
      await delegateV2(fs, layout.base, false);
      await delegateV2(fs, join(layout.base, FORGEONE_DIR), true);
      await delegateV2(fs, join(layout.base, FORGEONE_DIR, name), true);
      return host;
    }
    for (const base of new Set(Object.values(layout.base))) {
      for (const dir of [join(base, FORGEONE_DIR), join(base, FORGEONE_DIR, name)]) {
        try {
          await fs.mkdir(dir);
        } catch (error) {
          if (!isNodeSystemError(error, 'EEXIST') || dir.endsWith(name)) {
            await removeHostGroup(fs, layout, name).catch(() => undefined); // best effort: report the mkdir failure
            throw cgroupUnavailable('create the host cgroup', dir, error);
          }
        }
      }
    }
    return host;
  }

  /**
   * Creates a sandbox's group, with no limits yet.
   *
   * @throws FO_SANDBOX_BAD_OPTION for an id that cannot name a directory; FO_SANDBOX_CLOSED
   * after {@link close}; FO_SANDBOX_UNAVAILABLE (an id already in use included)
   */
  async create(id: string): Promise<Cgroup> {
    checkGroupId(id);
    if (this.#closed) throw new ForgeError('FO_SANDBOX_CLOSED', `the cgroup host ${this.name} is closed; cannot create ${id}`, { details: { sandbox: id } });
    const layout = this.layout;
    if (layout.version === 2) return createV2Group(this.#fs, join(layout.base, FORGEONE_DIR, this.name), id);
    return createV1Group(this.#fs, groupDirsV1(layout, this.name, id), id);
  }

  /**
   * Kills every task left in the host's groups and removes them, then the host group. Idempotent.
   *
   * @throws FO_SANDBOX_UNAVAILABLE when a group cannot be removed
   */
  async close(): Promise<void> {
    this.#closed = true;
    await removeHostGroup(this.#fs, this.layout, this.name);
  }
}
