import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { CgroupHost } from './cgroups.js';
import { detectCgroupLayout } from './cgroup-layout.js';

/** One thing the process backend relies on, and whether this host has it. */
export interface Capability {
  /** Stable name: `bubblewrap`, `user-namespaces`, `cgroup-memory`, ... */
  readonly name: string;
  readonly ok: boolean;
  /** What was found when ok (a version, a path); why not otherwise. */
  readonly detail: string;
}

/** What isolation this host supports ({@link probeIsolation}). */
export interface IsolationProbe {
  /** Each capability, in a fixed order; every one is needed by the process backend. */
  readonly capabilities: readonly Capability[];
  /** The cgroup layout ForgeOne would use, or undefined when none fits. */
  readonly cgroupVersion: 1 | 2 | undefined;
  /** True when every capability is there. */
  readonly ready: boolean;
}

interface RunResult {
  readonly status: number | null;
  readonly output: string;
  readonly error?: Error;
}

/** Runs a command with a time limit (a hung bwrap must not hang the probe); `input` goes to fd 3. */
function run(command: string, args: readonly string[], fd3?: Uint8Array): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe', ...(fd3 === undefined ? [] : ['pipe' as const])], timeout: 10_000 });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    if (fd3 !== undefined) {
      const pipe = child.stdio[3] as NodeJS.WritableStream | null;
      pipe?.on('error', () => undefined); // the child may exit before reading it all; its status says so
      pipe?.end(Buffer.from(fd3));
    }
    child.on('error', (error) => resolve({ status: null, output, error }));
    child.on('close', (status) => resolve({ status, output: output.trim() }));
  });
}

function failure(result: RunResult): string {
  if (result.error !== undefined) return result.error.message;
  return `exit ${result.status ?? 'by signal'}${result.output === '' ? '' : `: ${result.output.split('\n')[0]}`}`;
}

/** A seccomp program of one instruction, `return ALLOW`: what bwrap --seccomp must accept. */
const ALLOW_ALL = new Uint8Array([0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f]);

async function probeBubblewrap(): Promise<Capability[]> {
  const version = await run('bwrap', ['--version']);
  if (version.status !== 0) {
    const why = `bwrap --version failed (${failure(version)}); install bubblewrap`;
    return ['bubblewrap', 'user-namespaces', 'bubblewrap-seccomp'].map((name) => ({ name, ok: false, detail: name === 'bubblewrap' ? why : 'bubblewrap is missing' }));
  }
  const sandbox = await run('bwrap', ['--unshare-all', '--ro-bind', '/', '/', 'true']);
  const userns = await run('bwrap', ['--unshare-user', '--ro-bind', '/', '/', 'true']);
  const maxUserNs = await readFile('/proc/sys/user/max_user_namespaces', 'utf8').then((text) => text.trim(), () => undefined);
  const seccomp = await run('bwrap', ['--seccomp', '3', '--ro-bind', '/', '/', 'true'], ALLOW_ALL);
  return [
    {
      name: 'bubblewrap',
      ok: sandbox.status === 0,
      detail: sandbox.status === 0 ? `${version.output}; bwrap --unshare-all runs` : `${version.output} is installed but bwrap --unshare-all failed (${failure(sandbox)})`,
    },
    {
      name: 'user-namespaces',
      ok: userns.status === 0,
      detail:
        userns.status === 0
          ? `bwrap --unshare-user runs (max_user_namespaces ${maxUserNs ?? 'unknown'})`
          : `bwrap --unshare-user failed (${failure(userns)})${maxUserNs === '0' ? '; /proc/sys/user/max_user_namespaces is 0' : ''}`,
    },
    { name: 'bubblewrap-seccomp', ok: seccomp.status === 0, detail: seccomp.status === 0 ? 'bwrap --seccomp loads a filter' : `bwrap --seccomp failed (${failure(seccomp)})` },
  ];
}

async function probeSeccomp(): Promise<Capability> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const line = /^Seccomp:\s*(\d+)/m.exec(status);
  if (line === null) return { name: 'seccomp', ok: false, detail: 'the kernel has no seccomp (no Seccomp: line in /proc/self/status)' };
  // The host itself may already run under a filter (mode 2): filters stack, so plugins can still get theirs.
  const filters = /^Seccomp_filters:\s*(\d+)/m.exec(status)?.[1];
  return { name: 'seccomp', ok: true, detail: `kernel seccomp present (this process: mode ${line[1]}${filters === undefined ? '' : `, ${filters} filters`})` };
}

/**
 * Tries every cgroup operation the process backend uses, on a real group that is
 * removed afterwards: creating it, each controller's limit, freezing and thawing.
 */
async function probeCgroups(): Promise<{ version: 1 | 2 | undefined; capabilities: Capability[] }> {
  const names = ['cgroup-memory', 'cgroup-cpu', 'cgroup-pids', 'cgroup-freezer'];
  let host: CgroupHost;
  try {
    host = await CgroupHost.open({ layout: await detectCgroupLayout() });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { version: undefined, capabilities: names.map((name) => ({ name, ok: false, detail: why })) };
  }
  const version = host.layout.version;
  const capabilities: Capability[] = [];
  const attempt = async (name: string, what: string, step: () => Promise<void>): Promise<void> => {
    try {
      await step();
      capabilities.push({ name, ok: true, detail: `cgroup v${version}: ${what}` });
    } catch (error) {
      capabilities.push({ name, ok: false, detail: `cgroup v${version}: cannot ${what}: ${error instanceof Error ? error.message : String(error)}` });
    }
  };
  try {
    const group = await host.create('probe');
    await attempt('cgroup-memory', 'set a memory limit', () => group.setLimits({ memoryBytes: 64 * 1024 * 1024 }));
    await attempt('cgroup-cpu', 'set a CPU limit and read CPU accounting', async () => {
      await group.setLimits({ cpuCores: 0.5 });
      await group.usage();
    });
    await attempt('cgroup-pids', 'set a pids limit', () => group.setLimits({ pids: 16 }));
    await attempt('cgroup-freezer', 'freeze and thaw a group', async () => {
      await group.freeze();
      await group.thaw();
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    for (const name of names.slice(capabilities.length)) capabilities.push({ name, ok: false, detail: why });
  } finally {
    await host.close().catch(() => undefined); // the probe's answer stands; a leftover is swept at the next start
  }
  return { version, capabilities };
}

let cached: Promise<IsolationProbe> | undefined;

/**
 * Finds out what isolation this host supports, each capability with the reason when it
 * is missing: bubblewrap running a sandbox with every namespace, user namespaces,
 * bubblewrap's seccomp support, kernel seccomp, and the cgroup controllers (memory, cpu,
 * pids, freezer) with a real group created, limited, frozen and removed. The first call
 * runs the probe (a few bwrap runs, well under a second); later calls in the process get
 * the same answer. Never throws: a failure is a missing capability.
 */
export function probeIsolation(): Promise<IsolationProbe> {
  cached ??= (async () => {
    const [bubblewrap, seccomp, cgroups] = await Promise.all([probeBubblewrap(), probeSeccomp(), probeCgroups()]);
    const capabilities = [...bubblewrap, seccomp, ...cgroups.capabilities];
    return { capabilities, cgroupVersion: cgroups.version, ready: capabilities.every((capability) => capability.ok) };
  })();
  return cached;
}
