/**
 * Starting one confined sandbox process for the process backend: its cgroup and limits,
 * the pair of FIFOs it speaks frames on (blocking on both ends, with end-of-file when
 * the other side is gone), bubblewrap with the runtime read-only and the plugins' own
 * directories bound, and knowing why it died (the memory cgroup's OOM kills).
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ForgeError, type Logger } from '@forgeone/common';
import type { Cgroup, CgroupHost } from '../linux/index.js';
import { launchConfined, nodeRuntimePaths, sharedDescriptor, type ConfinedVolume, type ConfinementLimits, type ConfinementSpec } from '../linux/index.js';
import { LEDGER_BYTES } from '../pool-ledger.js';
import { RING_BYTES, sharedMemory, type SharedMemoryModule } from './ring.js';
import type { PluginSpec } from '../spec.js';

/**
 * The program the sandbox runs: child-main.js and its imports bundled into one CommonJS
 * file by `npm run build` (scripts/bundle-sandbox.mjs: ~7 MiB less memory per sandbox than
 * ~190 modules loaded one by one, and no ES module loader), else child-main.js itself (a
 * `tsc -b` build).
 */
export const CHILD_SCRIPT = ((): string => {
  const bundle = fileURLToPath(new URL('./sandbox-child.cjs', import.meta.url));
  return existsSync(bundle) ? bundle : fileURLToPath(new URL('./child-main.js', import.meta.url));
})();

/**
 * V8 options of every sandbox, for memory: a young generation of at most 1 MiB per
 * semi-space (a sandbox allocates little per call; the default lets it grow to 16 MiB),
 * garbage collection on the main thread alone (no helper threads for a heap this size),
 * and one V8 background thread (compiling a plugin's module, tiering up hot functions).
 */
export const SANDBOX_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=1', '--single-threaded-gc', '--v8-pool-size=1'];

/**
 * The whole environment of every sandbox process, for memory (bench/process.mjs, PSS):
 * one malloc arena instead of one per thread that allocates (each touches its own pages),
 * and one libuv thread instead of four (an ES module entry starts the thread pool; the
 * sandbox does all its I/O synchronously). With `--v8-pool-size=1` (one V8 background
 * thread instead of one per CPU) above, a sandbox runs 4 threads instead of 11. Nothing
 * from the host's environment reaches a sandbox (confine.ts: `--clearenv`).
 */
export const SANDBOX_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '1', UV_THREADPOOL_SIZE: '1' });

/** A running sandbox, as the host's relay thread and lane see it. */
export interface SandboxChannel {
  /** Read end of the sandbox's frames (blocking). */
  readonly fromSandbox: number;
  /** Write end of the frames to the sandbox (blocking). */
  readonly toSandbox: number;
  /** The shared ring's memfd when the sandbox speaks through it (the FIFOs then carry doorbells); closed by kill. */
  readonly ring: number | undefined;
  /** The host's mapping of the sandbox's ledger (pool-ledger.ts), when shared memory is available: written by the sandbox, untrusted. */
  readonly ledger: ArrayBuffer | undefined;
  readonly cgroup: Cgroup | undefined;
  /** Settles with why the sandbox ended, once it has. */
  readonly ended: Promise<ForgeError>;
  /** FO_SANDBOX_MEMORY_LIMIT when the kernel killed the sandbox for memory, read now. */
  memoryCause(): ForgeError | undefined;
  /** Kills every process of the sandbox, removes its cgroup and closes the host's ends. Idempotent. */
  kill(): Promise<void>;
}

/** What every sandbox of a backend shares. */
export interface SandboxEnv {
  /** Where cgroups are made; undefined: no cgroup (limits other than descriptors are then refused earlier). */
  readonly cgroups: CgroupHost | undefined;
  readonly limits: ConfinementLimits;
  readonly logger: Logger;
  /** The runtime's read-only paths (Node, its libraries, ForgeOne's code), computed once. */
  readonly runtimePaths: Promise<string[]>;
  /** The program the sandbox runs; default {@link CHILD_SCRIPT}. Tests give a hostile one (it must be inside a runtime path). */
  readonly script?: string;
  /** Frames through a shared-memory ring (ring.ts) or over the FIFOs alone. */
  readonly transport: 'ring' | 'fifo';
}

/**
 * The host directories a plugin's spec needs inside its sandbox, each at its own host path
 * and with its rights: the key-value directory (read-write), the forge.file_* volumes and
 * the WASI preopens as granted.
 */
export function mountsOf(spec: PluginSpec): ConfinedVolume[] {
  const mounts = new Map<string, boolean>();
  const add = (host: string, readOnly: boolean): void => {
    const known = mounts.get(host);
    mounts.set(host, known === undefined ? readOnly : known && readOnly);
  };
  if (spec.hostCalls.kvDirectory !== undefined) add(spec.hostCalls.kvDirectory, false);
  for (const volume of spec.hostCalls.volumes) add(volume.host, volume.mode === 'ro');
  for (const preopen of spec.wasi.preopens) add(preopen.host, preopen.readOnly);
  return [...mounts].map(([host, readOnly]) => ({ host, guest: host, readOnly }));
}

/** The code the sandbox imports: this package's, its workspace siblings' and node_modules, read-only. */
export async function sandboxRuntimePaths(): Promise<string[]> {
  const paths = new Set(await nodeRuntimePaths());
  const packageRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
  for (const dir of [join(packageRoot, 'dist'), join(packageRoot, 'package.json')]) paths.add(realpathSync(dir));
  for (let dir = packageRoot; dir !== dirname(dir); dir = dirname(dir)) {
    const modules = join(dir, 'node_modules');
    if (!existsSync(modules)) continue;
    paths.add(realpathSync(modules));
    for (const sibling of ['common', 'microkernel']) {
      const link = join(modules, '@forgeone', sibling);
      if (!existsSync(link)) continue;
      const real = realpathSync(link);
      for (const part of ['dist', 'package.json']) if (existsSync(join(real, part))) paths.add(join(real, part));
    }
  }
  // A path inside another one is bound by it already.
  const sorted = [...paths].sort();
  return sorted.filter((path) => !sorted.some((other) => other !== path && path.startsWith(`${other}/`)));
}

const MKFIFO = ['/usr/bin/mkfifo', '/bin/mkfifo'];

/**
 * Two FIFOs opened so that each end blocks and sees end-of-file when the other side's
 * last holder closes: a temporary read-write descriptor lets the one-way opens succeed
 * without waiting, and is closed at once.
 */
async function fifos(): Promise<{ hostIn: number; hostOut: number; childIn: number; childOut: number }> {
  const mkfifo = MKFIFO.find((path) => existsSync(path));
  if (mkfifo === undefined) throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `cannot confine the sandbox: mkfifo is not at ${MKFIFO.join(' or ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'forge-sandbox-'));
  try {
    const toChild = join(dir, 'in');
    const fromChild = join(dir, 'out');
    await promisify(execFile)(mkfifo, ['-m', '600', toChild, fromChild], { env: {} });
    const open = (path: string, flags: number): number => openSync(path, flags | constants.O_NOFOLLOW);
    const holdIn = open(toChild, constants.O_RDWR);
    const childIn = open(toChild, constants.O_RDONLY);
    const hostOut = open(toChild, constants.O_WRONLY);
    closeSync(holdIn);
    const holdOut = open(fromChild, constants.O_RDWR);
    const hostIn = open(fromChild, constants.O_RDONLY);
    const childOut = open(fromChild, constants.O_WRONLY);
    closeSync(holdOut);
    return { hostIn, hostOut, childIn, childOut };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Sandboxes still running, killed synchronously when the host process exits: a relay
 * thread blocked reading its sandbox's FIFO cannot be terminated (process.exit waits
 * for it) until every writer of that FIFO is gone.
 */
const live = new Set<() => void>();
let exitHook = false;

function killAtExit(kill: () => void): () => void {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const each of live) each();
    });
  }
  live.add(kill);
  return () => live.delete(kill);
}

/** SIGKILL to every task of the sandbox, synchronously (its group is removed at the next start: cgroup-sweep.ts). */
function killNow(cgroup: Cgroup | undefined, launcher: number | undefined): void {
  try {
    if (launcher !== undefined) process.kill(-launcher, 'SIGKILL');
  } catch {
    // gone already
  }
  for (const dir of cgroup?.dirs ?? []) {
    try {
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((line) => /^\d+$/.test(line))) process.kill(Number(pid), 'SIGKILL');
      // A frozen v1 task acts on SIGKILL once thawed.
      if (existsSync(join(dir, 'freezer.state'))) writeFileSync(join(dir, 'freezer.state'), 'THAWED');
    } catch {
      // not this controller, or gone
    }
  }
}

/** OOM kills the memory cgroup counted, read synchronously (v1 memory.oom_control, v2 memory.events). */
function oomKills(cgroup: Cgroup): number {
  for (const dir of cgroup.dirs) {
    for (const file of ['memory.events', 'memory.oom_control']) {
      try {
        const match = /^oom_kill (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'));
        if (match?.[1] !== undefined) return Number(match[1]);
      } catch {
        // not this controller's directory
      }
    }
  }
  return 0;
}

/**
 * Starts a sandbox with `mounts` bound, in a new cgroup `id` under the backend's limits.
 * @throws FO_SANDBOX_UNAVAILABLE naming what could not be set up; FO_SANDBOX_BAD_OPTION for a bad mount
 */
export async function startSandbox(id: string, mounts: readonly ConfinedVolume[], env: SandboxEnv): Promise<SandboxChannel> {
  // The key-value directory is made on first use by the store; it must exist to be bound.
  for (const mount of mounts) if (!mount.readOnly && !existsSync(mount.host)) mkdirSync(mount.host, { recursive: true, mode: 0o700 });
  const cgroup = await env.cgroups?.create(id);
  let ends: Awaited<ReturnType<typeof fifos>> | undefined;
  let ring: number | undefined;
  let ledgerFd: number | undefined;
  try {
    ends = await fifos();
    const spec: ConfinementSpec = { node: process.execPath, nodeOptions: SANDBOX_NODE_OPTIONS, script: env.script ?? CHILD_SCRIPT, runtimePaths: await env.runtimePaths, volumes: mounts, env: SANDBOX_ENV };
    if (env.transport === 'ring') ring = requireSharedMemory().create(RING_BYTES);
    // What the sandbox still holds when it is killed mid-call (its unposted audit records, its folding calls' counts).
    const memory = sharedMemory();
    ledgerFd = memory?.create(LEDGER_BYTES);
    const ledger = ledgerFd === undefined ? undefined : memory?.map(ledgerFd, LEDGER_BYTES);
    const shared = [...(ring === undefined ? [] : [ring]), ...(ledgerFd === undefined ? [] : [ledgerFd])];
    const args = [...(ring === undefined ? [] : [`--ring=${sharedDescriptor(spec, 0)}`]), ...(ledgerFd === undefined ? [] : [`--ledger=${sharedDescriptor(spec, shared.length - 1)}`])];
    const box = await launchConfined(
      { ...spec, args },
      {
        ...(cgroup === undefined ? {} : { cgroup }),
        limits: env.limits,
        stdio: { stdin: ends.childIn, stdout: ends.childOut },
        ...(shared.length === 0 ? {} : { shared }),
      },
    );
    closeSync(ends.childIn);
    closeSync(ends.childOut);
    // The host keeps its mapping; the sandbox has its own descriptor.
    if (ledgerFd !== undefined) closeSync(ledgerFd);
    ledgerFd = undefined;
    const { hostIn, hostOut } = ends;
    // A started sandbox does not keep the host's event loop alive (as an idle pool worker does not).
    box.child.unref();
    (box.stderr as Readable & { unref?: () => void }).unref?.();
    let stderr = '';
    box.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    const memoryCause = (): ForgeError | undefined => {
      const kills = cgroup === undefined ? 0 : oomKills(cgroup);
      return kills === 0
        ? undefined
        : new ForgeError('FO_SANDBOX_MEMORY_LIMIT', `sandbox ${id} went over its ${env.limits.memoryBytes ?? 'cgroup'} byte memory limit and the kernel killed it`, { details: { oomKills: kills, sandbox: id } });
    };
    const ended = box.exited.then((exit) => {
      const cause = memoryCause();
      if (cause !== undefined) return cause;
      const said = stderr.trim();
      if (said !== '') env.logger.warn('a sandbox process wrote to stderr before it ended', { sandbox: id, stderr: said });
      return new ForgeError('FO_SANDBOX_WORKER_FAILED', `sandbox process ${id} ended (${exit.signal ?? `exit code ${String(exit.code)}`})${said === '' ? '' : `: ${said.split('\n').at(-1) ?? ''}`}`, { details: { sandbox: id, ...exit } });
    });
    const forget = killAtExit(() => killNow(cgroup, box.child.pid));
    let killing: Promise<void> | undefined;
    const kill = (): Promise<void> =>
      (killing ??= box.kill().finally(() => {
        forget();
        closeSync(hostIn);
        closeSync(hostOut);
        if (ring !== undefined) closeSync(ring);
      }));
    return { fromSandbox: hostIn, toSandbox: hostOut, ring, ledger, cgroup, ended, memoryCause, kill };
  } catch (error) {
    if (ends !== undefined) for (const fd of Object.values(ends)) closeSafely(fd);
    if (ring !== undefined) closeSafely(ring);
    if (ledgerFd !== undefined) closeSafely(ledgerFd);
    await cgroup?.remove().catch(() => undefined);
    throw error;
  }
}

function requireSharedMemory(): SharedMemoryModule {
  const memory = sharedMemory();
  if (memory === undefined) throw new ForgeError('FO_SANDBOX_UNAVAILABLE', 'the shared-memory ring was asked for, but native/shared-memory.node was not built (npm run build needs a C compiler)');
  return memory;
}

function closeSafely(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
}
