import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ForgeError } from '@forgeone/common';

/** The controllers a v1 host needs, each in its own hierarchy or co-mounted (cpu,cpuacct). */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer'] as const;
/** One of {@link V1_CONTROLLERS}. */
export type V1Controller = (typeof V1_CONTROLLERS)[number];
/** The controllers a v2 host needs enabled below its cgroup (the freezer is built into v2). */
export const V2_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

/**
 * Unified hierarchy: `base` is the host process's own cgroup directory; ForgeOne's groups
 * go below it, so whatever limits the host has also bound its plugins.
 */
export interface CgroupV2Layout {
  readonly version: 2;
  readonly base: string;
}

/** Legacy hierarchies: the host's own cgroup directory in the hierarchy of each controller. */
export interface CgroupV1Layout {
  readonly version: 1;
  readonly base: Readonly<Record<V1Controller, string>>;
}

/** Where this host's cgroups go. */
export type CgroupLayout = CgroupV1Layout | CgroupV2Layout;

/** What /proc/self/mountinfo and /proc/self/cgroup say about the cgroup file systems. */
export interface CgroupMounts {
  /** The host's directory in the unified hierarchy, when one is mounted. */
  readonly unified?: string;
  /** The host's directory in each mounted v1 hierarchy, by controller. */
  readonly v1: ReadonlyMap<string, string>;
}

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The host's directory for a cgroup path, given where (and from which root) its hierarchy is mounted. */
function hostDir(mountPoint: string, mountRoot: string, cgroupPath: string): string {
  // In a container the mount shows a sub-tree (mountRoot) and /proc/self/cgroup may name a
  // path outside it; the mount point itself is then the closest the host can reach.
  const rel = posix.relative(mountRoot, cgroupPath);
  return rel.startsWith('..') ? mountPoint : join(mountPoint, rel);
}

/**
 * Finds the host's cgroup directories from the text of /proc/self/mountinfo and
 * /proc/self/cgroup. Pure: the I/O is in {@link detectCgroupLayout}.
 */
export function parseCgroupMounts(mountinfo: string, selfCgroup: string): CgroupMounts {
  const paths = new Map<string, string>(); // hierarchy key (controller list, or '' for v2) -> cgroup path
  for (const line of selfCgroup.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (match?.[2] !== undefined && match[3] !== undefined) paths.set(match[2], match[3]);
  }
  let unified: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const mountRoot = fields[3];
    const mountPoint = fields[4];
    if (mountRoot === undefined || mountPoint === undefined) continue;
    if (fstype === 'cgroup2' && unified === undefined) {
      unified = hostDir(unescapeMount(mountPoint), mountRoot, paths.get('') ?? '/');
    } else if (fstype === 'cgroup') {
      const controllers = superOptions.split(',').filter((option) => (V1_CONTROLLERS as readonly string[]).includes(option));
      const key = [...paths.keys()].find((names) => controllers.length > 0 && controllers.every((c) => names.split(',').includes(c)));
      for (const controller of controllers) {
        if (!v1.has(controller)) v1.set(controller, hostDir(unescapeMount(mountPoint), mountRoot, key === undefined ? '/' : (paths.get(key) ?? '/')));
      }
    }
  }
  return unified === undefined ? { v1 } : { unified, v1 };
}

/** Options of {@link detectCgroupLayout}; the defaults read /proc. */
export interface DetectOptions {
  readonly mountinfo?: string;
  readonly selfCgroup?: string;
  /** Reads a file (the unified hierarchy's cgroup.controllers); default node:fs. */
  readonly readText?: (path: string) => Promise<string>;
}

/**
 * Picks the cgroup layout: v2 when the host's cgroup in the unified hierarchy has the
 * memory, cpu and pids controllers available (listed in its cgroup.controllers, so it can
 * enable them for groups below it), else v1 when the memory, cpu, cpuacct, pids and
 * freezer hierarchies are all mounted.
 *
 * @throws FO_SANDBOX_UNAVAILABLE naming the controllers neither layout provides
 */
export async function detectCgroupLayout(options: DetectOptions = {}): Promise<CgroupLayout> {
  const readText = options.readText ?? ((path: string) => readFile(path, 'utf8'));
  const mountinfo = options.mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8'));
  const selfCgroup = options.selfCgroup ?? (await readFile('/proc/self/cgroup', 'utf8'));
  const mounts = parseCgroupMounts(mountinfo, selfCgroup);
  let v2Missing: string[] = [...V2_CONTROLLERS];
  if (mounts.unified !== undefined) {
    const available = (await readText(join(mounts.unified, 'cgroup.controllers')).catch(() => '')).trim().split(/\s+/);
    v2Missing = V2_CONTROLLERS.filter((controller) => !available.includes(controller));
    if (v2Missing.length === 0) return { version: 2, base: mounts.unified };
  }
  const v1Missing = V1_CONTROLLERS.filter((controller) => !mounts.v1.has(controller));
  if (v1Missing.length === 0) {
    const base = Object.fromEntries(V1_CONTROLLERS.map((controller) => [controller, mounts.v1.get(controller) ?? ''])) as Record<V1Controller, string>;
    return { version: 1, base };
  }
  const v2Says = mounts.unified === undefined ? 'no cgroup2 file system is mounted' : `${mounts.unified} lacks ${v2Missing.join(', ')} in cgroup.controllers`;
  throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `no usable cgroup layout: cgroup v2 needs memory, cpu and pids (${v2Says}); cgroup v1 needs memory, cpu, cpuacct, pids and freezer hierarchies (missing: ${v1Missing.join(', ')})`, {
    details: { v2Missing, v1Missing, ...(mounts.unified === undefined ? {} : { path: mounts.unified }) },
  });
}
