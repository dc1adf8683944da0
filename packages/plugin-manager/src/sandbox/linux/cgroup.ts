import { readFileSync } from 'node:fs';
import { ForgeError } from '@forgeone/common';

/**
 * Limits of one sandbox's cgroup. A limit left out is not changed (a new group has none).
 * Values are checked by {@link checkLimits}.
 */
export interface CgroupLimits {
  /** Memory in bytes (at least 1 MiB); swap is denied so the limit is real (v2 memory.swap.max 0, v1 memsw). */
  readonly memoryBytes?: number;
  /** CPU time in cores per period (0.1 = a tenth of one core; at least 0.01, at most 1,024). */
  readonly cpuCores?: number;
  /** Processes and threads the group may hold at once (1 to 4,194,304). */
  readonly pids?: number;
}

/** One read of a group's accounting. */
export interface CgroupUsage {
  /** CPU time used by the group's tasks, in microseconds. */
  readonly cpuUsec: number;
  /** Periods in which the CPU limit throttled the group. */
  readonly nrThrottled: number;
  /** Memory charged to the group now, in bytes. */
  readonly memoryBytes: number;
  /** Tasks the kernel killed for going over the memory limit. */
  readonly oomKills: number;
}

/**
 * One sandbox's control group, in every hierarchy it needs. Created by
 * `CgroupHost.create`; every method fails with FO_SANDBOX_UNAVAILABLE (naming the file)
 * when the kernel refuses.
 */
export interface Cgroup {
  /** The sandbox id the group is named after. */
  readonly id: string;
  readonly version: 1 | 2;
  /** The group's directory in each hierarchy (one for v2). */
  readonly dirs: readonly string[];
  /**
   * Sets the limits given.
   *
   * @throws FO_SANDBOX_BAD_OPTION for a value out of range; FO_SANDBOX_UNAVAILABLE
   */
  setLimits(limits: CgroupLimits): Promise<void>;
  /** Moves a process (and its later children) into the group. */
  addProcess(pid: number): Promise<void>;
  /** The processes in the group now. */
  pids(): Promise<number[]>;
  /** Stops every task of the group and resolves once the kernel reports them all frozen. */
  freeze(): Promise<void>;
  /** Lets the group's tasks run again. */
  thaw(): Promise<void>;
  /** Reads the group's accounting. */
  usage(): Promise<CgroupUsage>;
  /**
   * @throws FO_SANDBOX_MEMORY_LIMIT when the kernel has killed a task of the group for
   * going over its memory limit
   */
  checkMemory(): Promise<void>;
  /** Kills every task left and removes the group from every hierarchy. Idempotent. */
  remove(): Promise<void>;
}

/** The directory under each hierarchy's host cgroup that holds ForgeOne's groups. */
export const FORGEONE_DIR = 'forgeone';

/** Sandbox ids that can name a directory: no separators, no dot names, no surprises. */
const GROUP_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * @throws FO_SANDBOX_BAD_OPTION when `id` could not safely name a cgroup directory (it
 * must match `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`)
 */
export function checkGroupId(id: string): void {
  if (!GROUP_ID.test(id)) {
    throw new ForgeError('FO_SANDBOX_BAD_OPTION', `a cgroup name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; found ${JSON.stringify(id)}`, {
      details: { problems: [`bad cgroup name ${JSON.stringify(id)}`] },
    });
  }
}

/**
 * `<pid>-<start>-<8 hex digits>`: the host group's name, which the sweep reads the host's pid
 * and start time (clock ticks after boot, /proc/<pid>/stat field 22; 0 when unknown) back
 * from, so a pid reused by another process does not keep a dead host's groups.
 */
export function hostGroupName(pid: number, start: string, random: string): string {
  return `${pid}-${start}-${random}`;
}

/** The host a host group's name names, or undefined when the name is not one of ours. */
export function parseHostGroupName(name: string): { readonly pid: number; readonly start: string } | undefined {
  const match = /^([1-9]\d{0,9})-(\d{1,20})-[0-9a-f]{8}$/.exec(name);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { pid: Number(match[1]), start: match[2] };
}

/** A process's start time in clock ticks after boot (/proc/<pid>/stat field 22), or undefined when it cannot be read. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ")".
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return start !== undefined && /^\d{1,20}$/.test(start) ? start : undefined;
}

/** The CFS period ForgeOne uses, in microseconds (the kernel's default). */
export const CPU_PERIOD_US = 100_000;

/**
 * Checks limits, collecting every problem.
 *
 * @throws FO_SANDBOX_BAD_OPTION listing each value out of range
 */
export function checkLimits(limits: CgroupLimits): void {
  const problems: string[] = [];
  const { memoryBytes, cpuCores, pids } = limits;
  if (memoryBytes !== undefined && !(Number.isSafeInteger(memoryBytes) && memoryBytes >= 1024 * 1024)) problems.push(`memoryBytes must be an integer of at least 1 MiB; found ${memoryBytes}`);
  if (cpuCores !== undefined && !(Number.isFinite(cpuCores) && cpuCores >= 0.01 && cpuCores <= 1024)) problems.push(`cpuCores must be between 0.01 and 1024; found ${cpuCores}`);
  if (pids !== undefined && !(Number.isSafeInteger(pids) && pids >= 1 && pids <= 4_194_304)) problems.push(`pids must be an integer from 1 to 4194304; found ${pids}`);
  if (problems.length > 0) throw new ForgeError('FO_SANDBOX_BAD_OPTION', `cgroup limits: ${problems.join('; ')}`, { details: { problems } });
}

/** The CFS quota for `cores`, in microseconds per {@link CPU_PERIOD_US}. */
export function cpuQuotaUs(cores: number): number {
  // The kernel refuses quotas under 1 ms.
  return Math.max(1000, Math.round(cores * CPU_PERIOD_US));
}

/** The error for a group whose tasks the kernel killed over the memory limit, if any were. */
export function memoryLimitError(id: string, usage: CgroupUsage): ForgeError | undefined {
  if (usage.oomKills === 0) return undefined;
  return new ForgeError('FO_SANDBOX_MEMORY_LIMIT', `sandbox ${id} went over its memory limit: the kernel killed ${usage.oomKills} of its tasks`, {
    details: { sandbox: id, oomKills: usage.oomKills },
  });
}
