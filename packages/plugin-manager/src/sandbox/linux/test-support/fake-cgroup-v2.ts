import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { CgroupFs } from '../cgroup-fs.js';

/** A system error like node:fs throws, so the code under test sees the errno it would get from the kernel. */
function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: fake cgroup, ${path}`), { code, path });
}

const CONTROLLER_FILES: Readonly<Record<string, Record<string, string>>> = {
  memory: { 'memory.max': 'max\n', 'memory.swap.max': 'max\n', 'memory.current': '0\n', 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' },
  cpu: { 'cpu.max': 'max 100000\n' },
  pids: { 'pids.max': 'max\n' },
};

/** A fake unified hierarchy in a temporary directory, and what the code under test did to it. */
export interface FakeCgroupV2 {
  /** The fake root cgroup (the layout's base). */
  readonly root: string;
  readonly fs: CgroupFs;
  /** Writes to cgroup.kill, by directory. */
  readonly kills: string[];
  /** Directory names (below root) whose cgroup.freeze write is acknowledged only after this many reads of cgroup.events. */
  readonly freezeLag: Map<string, number>;
}

/**
 * Builds a fake cgroup v2 tree whose `CgroupFs` acts like the kernel where the code
 * depends on it: `mkdir` creates a group's interface files, with a controller's files only
 * when the parent's cgroup.subtree_control enables it; enabling a controller the parent
 * does not have is EINVAL, and enabling any in a non-root group holding processes is EBUSY;
 * writing a missing file is ENOENT (no creation); `rmdir` of a group with processes or
 * children is EBUSY; cgroup.freeze is reported in cgroup.events after `freezeLag` reads.
 *
 * @param controllers what the root's cgroup.controllers lists (default memory, cpu, pids)
 */
export async function fakeCgroupV2(controllers: readonly string[] = ['memory', 'cpu', 'pids']): Promise<FakeCgroupV2> {
  const root = await mkdtemp(join(tmpdir(), 'forge-fake-cgroup-'));
  const kills: string[] = [];
  const freezeLag = new Map<string, number>();
  const pendingFreeze = new Map<string, { value: string; reads: number }>();
  await writeFile(join(root, 'cgroup.controllers'), `${controllers.join(' ')}\n`);
  await writeFile(join(root, 'cgroup.subtree_control'), '');
  await writeFile(join(root, 'cgroup.procs'), '');
  const read = (path: string): Promise<string> => readFile(path, 'utf8');
  const exists = (path: string): Promise<boolean> => readFile(path).then(() => true, () => false);

  const fs: CgroupFs = {
    async mkdir(path) {
      await mkdir(path); // EEXIST and ENOENT as the kernel gives them
      const enabled = (await read(join(dirname(path), 'cgroup.subtree_control'))).trim().split(/\s+/).filter(Boolean);
      const files: Record<string, string> = {
        'cgroup.controllers': `${enabled.join(' ')}\n`,
        'cgroup.subtree_control': '',
        'cgroup.procs': '',
        'cgroup.freeze': '0\n',
        'cgroup.events': 'populated 0\nfrozen 0\n',
        'cgroup.kill': '',
        'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n',
      };
      for (const controller of enabled) Object.assign(files, CONTROLLER_FILES[controller]);
      for (const [name, text] of Object.entries(files)) await writeFile(join(path, name), text);
    },
    async rmdir(path) {
      const children = (await readdir(path, { withFileTypes: true })).filter((entry) => entry.isDirectory());
      const procs = await read(join(path, 'cgroup.procs')).catch(() => '');
      if (children.length > 0 || procs.trim() !== '') throw errno('EBUSY', path);
      // Interface files vanish with the group, as on cgroupfs.
      for (const entry of await readdir(path)) await rm(join(path, entry));
      await rmdir(path);
    },
    async read(path) {
      const pending = pendingFreeze.get(dirname(path));
      if (basename(path) === 'cgroup.events' && pending !== undefined) {
        pending.reads += 1;
        if (pending.reads > (freezeLag.get(basename(dirname(path))) ?? 0)) {
          pendingFreeze.delete(dirname(path));
          await writeFile(path, `populated 0\nfrozen ${pending.value}\n`);
        }
      }
      return read(path);
    },
    async write(path, text) {
      if (!(await exists(path))) throw errno('ENOENT', path);
      const dir = dirname(path);
      const name = basename(path);
      if (name === 'cgroup.subtree_control') {
        const available = (await read(join(dir, 'cgroup.controllers'))).trim().split(/\s+/);
        const wanted = text.trim().split(/\s+/).map((token) => token.replace(/^\+/, ''));
        if (wanted.some((controller) => !available.includes(controller))) throw errno('EINVAL', path);
        if (dir !== root && (await read(join(dir, 'cgroup.procs'))).trim() !== '') throw errno('EBUSY', path);
        await writeFile(path, `${wanted.join(' ')}\n`);
      } else if (name === 'cgroup.procs') {
        await writeFile(path, `${(await read(path)) + text.trim()}\n`);
      } else if (name === 'cgroup.freeze') {
        await writeFile(path, `${text.trim()}\n`);
        pendingFreeze.set(dir, { value: text.trim(), reads: 0 });
      } else if (name === 'cgroup.kill') {
        kills.push(dir);
        await writeFile(join(dir, 'cgroup.procs'), '');
      } else {
        await writeFile(path, text);
      }
    },
    async subdirs(path) {
      return (await readdir(path, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    },
  };
  return { root, fs, kills, freezeLag };
}
