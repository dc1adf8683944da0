/**
 * Starting a confined sandbox: a small shell, run with an empty environment, joins the
 * sandbox's cgroup and sets RLIMIT_NOFILE for itself, reports that on a status pipe,
 * then replaces itself with bubblewrap (same pid), which builds the sandbox and executes
 * Node under the seccomp filter. So every instruction of bwrap and of the plugin's
 * process runs inside the cgroup and under the limit, and nothing runs unconfined: any
 * step that fails ends the chain before Node is executed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, readlinkSync } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ForgeError } from '@forgeone/common';
import type { Cgroup, CgroupLimits } from './cgroup.js';
import { confinementArgs, type ConfinementSpec } from './confine.js';
import { seccompProgram, type SeccompOptions } from './seccomp.js';

/** Limits of one confined sandbox. */
export interface ConfinementLimits extends CgroupLimits {
  /** RLIMIT_NOFILE, soft and hard (the plugin cannot raise it): open descriptors, 16 to 1,048,576. Default: the host's. */
  readonly fileDescriptors?: number;
}

/** Options of {@link launchConfined}. */
export interface LaunchOptions {
  /** The sandbox's cgroup; its process joins it before bwrap runs. Default none (then only `fileDescriptors` may be limited). */
  readonly cgroup?: Cgroup;
  /** Limits: the cgroup's (set on `cgroup` before the start) and RLIMIT_NOFILE. */
  readonly limits?: ConfinementLimits;
  /** Options of the seccomp filter ({@link seccompProgram}). */
  readonly seccomp?: SeccompOptions;
  /** The bubblewrap binary; default /usr/bin/bwrap (an absolute path: PATH is not consulted). */
  readonly bwrap?: string;
  /** The shell that joins the cgroup (bash: it closes descriptors above 9); default /bin/bash. */
  readonly shell?: string;
  /**
   * Descriptors of the host's to become the sandbox's stdin and stdout (the process
   * backend's FIFOs) instead of pipes; `stdin` and `stdout` of the result are then null.
   */
  readonly stdio?: { readonly stdin: number; readonly stdout: number };
  /**
   * Host descriptors the sandboxed program inherits, descriptor i at
   * {@link sharedDescriptor}(spec, i) (the process backend's shared-memory memfd). Default none.
   */
  readonly shared?: readonly number[];
}

/**
 * The descriptor number at which the sandboxed program finds `LaunchOptions.shared[index]`:
 * after the volumes' (which bwrap consumes and closes).
 */
export function sharedDescriptor(spec: ConfinementSpec, index: number): number {
  return FIRST_VOLUME_FD + (spec.volumes?.length ?? 0) + index;
}

/** How a confined process ended. */
export interface ConfinedExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running confined sandbox. */
export interface ConfinedProcess {
  /** bwrap's process (the plugin's process is its descendant, in its own pid namespace). */
  readonly child: ChildProcess;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable;
  /** Settles when bwrap has exited (it waits for the sandbox's processes). A bwrap set-up failure is exit status 1 with a `bwrap:` line on stderr. */
  readonly exited: Promise<ConfinedExit>;
  /**
   * Kills every process of the sandbox: with a cgroup, through its `remove()` (which also
   * removes the group); otherwise SIGKILL to bwrap, whose death kills the sandbox
   * (`--die-with-parent` on its pid 1, and a pid namespace dies with its init).
   * Resolves once bwrap has exited.
   *
   * @throws FO_SANDBOX_UNAVAILABLE when the cgroup cannot be removed
   */
  kill(): Promise<void>;
}

/** The descriptors of the shell and bwrap: 0-2 stdio, 3 the seccomp program, 4 the shell's status. */
const SECCOMP_FD = 3;
const STATUS_FD = 4;
/** Volume i is passed to bwrap on descriptor FIRST_VOLUME_FD + i. */
const FIRST_VOLUME_FD = 5;

/**
 * `$1` = how many volume descriptors follow the status descriptor (kept open for bwrap);
 * `$2` = how many cgroup.procs files follow; then the files; then the RLIMIT_NOFILE value
 * or `-`; then the command. `$$` is the shell's pid, which exec keeps for bwrap. It needs
 * bash: closing a descriptor above 9 is not POSIX shell.
 */
const JOIN_SCRIPT = [
  `keep=$((${STATUS_FD} + $1)); shift`,
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  `  echo $$ 2>&${STATUS_FD} >"$1" || { echo "cannot join the cgroup through $1" >&${STATUS_FD}; exit 126; }`,
  '  shift; n=$((n - 1))',
  'done',
  `if [ "$1" != - ]; then ulimit -n "$1" 2>&${STATUS_FD} || { echo "cannot set RLIMIT_NOFILE to $1" >&${STATUS_FD}; exit 126; }; fi`,
  'shift',
  // SECURITY: the host may hold descriptors it inherited without close-on-exec (Node marks
  // its own, but not what its parent left it); bwrap passes every descriptor on, so each
  // one above the launcher's is closed here, and checked closed, before bwrap runs.
  'inherited=',
  `for f in /proc/$$/fd/*; do fd=\${f##*/}; if [ "$fd" -gt "$keep" ]; then inherited="$inherited $fd"; fi; done`,
  'for fd in $inherited; do eval "exec $fd>&-" 2>/dev/null; done',
  `for fd in $inherited; do if [ -L "/proc/$$/fd/$fd" ]; then echo "cannot close the inherited descriptor $fd" >&${STATUS_FD}; exit 126; fi; done`,
  `echo ok >&${STATUS_FD}`,
  `exec ${STATUS_FD}>&-`,
  'exec "$@"',
].join('\n');

function unavailable(what: string, cause?: unknown, details: Record<string, unknown> = {}): ForgeError {
  const why = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}`;
  return new ForgeError('FO_SANDBOX_UNAVAILABLE', `cannot confine the sandbox: ${what}${why}`, { ...(cause === undefined ? {} : { cause }), details });
}

function badOption(problems: string[]): ForgeError {
  return new ForgeError('FO_SANDBOX_BAD_OPTION', `confinement options: ${problems.join('; ')}`, { details: { problems } });
}

/** Checks what can be checked before anything starts; every failure here is reported before a process exists. */
async function prepare(spec: ConfinementSpec, options: LaunchOptions): Promise<{ bwrap: string; shell: string; program: Buffer }> {
  const { cgroup, limits = {} } = options;
  const problems: string[] = [];
  const { fileDescriptors, ...groupLimits } = limits;
  if (fileDescriptors !== undefined && !(Number.isInteger(fileDescriptors) && fileDescriptors >= 16 && fileDescriptors <= 1_048_576)) {
    problems.push(`limits.fileDescriptors: expected an integer from 16 to 1048576, found ${JSON.stringify(fileDescriptors)}`);
  }
  if (cgroup === undefined && Object.values(groupLimits).some((value) => value !== undefined)) problems.push('limits: memory, CPU and pids limits need a cgroup');
  for (const [name, path] of [['bwrap', options.bwrap], ['shell', options.shell]] as const) {
    // An absolute path: a bare name would be looked up in a PATH the host does not control here.
    if (path !== undefined && !(typeof path === 'string' && path.startsWith('/') && !path.includes('\0'))) problems.push(`${name}: expected an absolute path, found ${JSON.stringify(path)}`);
  }
  if (spec.seccompFd !== undefined && spec.seccompFd !== SECCOMP_FD) problems.push(`seccompFd: launchConfined passes the filter on ${SECCOMP_FD}, found ${spec.seccompFd}`);
  // SECURITY: bwrap follows links in a volume's host path at mount time; a path that is a
  // link (or runs through one) could be redirected by whoever can write there, so only
  // real paths are bound.
  for (const [i, volume] of (spec.volumes ?? []).entries()) {
    const real = await realpath(volume.host).catch((error: unknown) => `missing (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    if (real !== volume.host) problems.push(`volumes[${i}].host: expected an existing path without links, found ${volume.host} resolving to ${real}`);
  }
  if (problems.length > 0) throw badOption(problems);
  confinementArgs(spec); // the spec's own checks, before anything starts
  const bwrap = options.bwrap ?? '/usr/bin/bwrap';
  const shell = options.shell ?? '/bin/bash';
  for (const [name, path] of [['bubblewrap', bwrap], ['the shell', shell]] as const) {
    await access(path, constants.X_OK).catch((error: unknown) => {
      throw unavailable(`${name} is not executable at ${path}`, error, { path });
    });
  }
  let program: Buffer;
  try {
    program = seccompProgram(options.seccomp);
  } catch (error) {
    throw unavailable('the seccomp filter cannot be built', error);
  }
  if (cgroup !== undefined && Object.values(groupLimits).some((value) => value !== undefined)) await cgroup.setLimits(groupLimits);
  return { bwrap, shell, program };
}

/** Reads the shell's status pipe to its end: `ok\n` when the cgroup was joined and the limit set. */
function readStatus(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    const pipe = child.stdio[STATUS_FD] as Readable | null;
    let text = '';
    if (pipe === null) return resolve('no status pipe');
    pipe.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    pipe.on('error', (error) => (text += error.message));
    pipe.on('close', () => resolve(text));
  });
}

/**
 * Starts `spec` confined: the limits are set on the cgroup, then the process joins the
 * cgroup and takes RLIMIT_NOFILE before bubblewrap (and so the plugin's code) runs, and
 * bubblewrap loads the seccomp filter given on descriptor 3 (a pipe, closed once
 * written). The environment of the shell and of bwrap is empty; the sandbox's is
 * `spec.env`. Resolves once the process is in its cgroup and bwrap is being executed.
 *
 * ```ts
 * const group = await host.create('plugin-1');
 * const box = await launchConfined(spec, { cgroup: group, limits: { memoryBytes: 64 * 2 ** 20, fileDescriptors: 64 } });
 * box.stdout.on('data', ...);
 * await box.kill();
 * ```
 *
 * @throws FO_SANDBOX_BAD_OPTION for an invalid spec or limit, a bwrap or shell path that is not absolute, or a volume whose host path
 *   is missing or runs through a link
 * @throws FO_SANDBOX_UNAVAILABLE naming what failed: bwrap or the shell missing, the
 *   seccomp filter, a cgroup limit, joining the cgroup, RLIMIT_NOFILE, the spawn itself.
 *   The process is killed (and never ran Node) in every case.
 */
export async function launchConfined(spec: ConfinementSpec, options: LaunchOptions = {}): Promise<ConfinedProcess> {
  const { bwrap, shell, program } = await prepare(spec, options);
  const volumeFds = openVolumes(spec);
  try {
    return await start(spec, options, { bwrap, shell, program }, volumeFds);
  } finally {
    // The child has its copies (or never started); bwrap closes them before the program runs.
    for (const fd of volumeFds) closeSync(fd);
  }
}

/**
 * SECURITY: opens each volume's host path (the last component not followed) and checks
 * through /proc/self/fd that the descriptor is the path validated in prepare(): bwrap then
 * binds the descriptor, so swapping the path for a link after the check (whoever can
 * write its parent could) binds nothing else. Found by an attack review: binding by path,
 * a swapped link's target was mounted read-write within a few launches.
 *
 * @throws FO_SANDBOX_BAD_OPTION for a volume whose host path is now a link or elsewhere
 */
function openVolumes(spec: ConfinementSpec): number[] {
  const fds: number[] = [];
  try {
    for (const [i, volume] of (spec.volumes ?? []).entries()) {
      let fd: number;
      try {
        fd = openSync(volume.host, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (error) {
        throw badOption([`volumes[${i}].host: expected an existing path without links, found ${volume.host} unopenable (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
      }
      fds.push(fd);
      const opened = readlinkSync(`/proc/self/fd/${fd}`);
      if (opened !== volume.host) throw badOption([`volumes[${i}].host: expected ${volume.host}, found it now leads to ${opened}`]);
    }
    return fds;
  } catch (error) {
    for (const fd of fds) closeSync(fd);
    throw error;
  }
}

async function start(spec: ConfinementSpec, options: LaunchOptions, { bwrap, shell, program }: { bwrap: string; shell: string; program: Buffer }, volumeFds: readonly number[]): Promise<ConfinedProcess> {
  const procs = (options.cgroup?.dirs ?? []).map((dir) => join(dir, 'cgroup.procs'));
  const nofile = options.limits?.fileDescriptors;
  // --norc: bash reads ~/.bashrc when its stdin is a socket (it takes that for rsh), and
  // Node's stdio pipes are sockets; nothing of the host's shell set-up may run here.
  const childFds = volumeFds.map((_, i) => FIRST_VOLUME_FD + i);
  const shared = options.shared ?? [];
  // The shell keeps every descriptor up to the last shared one (volumes, then shared) and closes the rest.
  const argv = ['--norc', '--noprofile', '-c', JOIN_SCRIPT, 'forge-confine', String(volumeFds.length + shared.length), String(procs.length), ...procs, nofile === undefined ? '-' : String(nofile), bwrap, ...confinementArgs(spec, childFds)];
  const io = options.stdio;
  // detached: a process group of its own, so a Ctrl-C (SIGINT to the host's group) is the
  // host's to handle, and it ends its sandboxes in order; the host's death still kills them
  // (bwrap --die-with-parent).
  const child = spawn(shell, argv, { stdio: [io?.stdin ?? 'pipe', io?.stdout ?? 'pipe', 'pipe', 'pipe', 'pipe', ...volumeFds, ...shared], env: {}, cwd: '/', detached: true });
  const exited = new Promise<ConfinedExit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const spawned = new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
  const seccompPipe = child.stdio[SECCOMP_FD] as Writable | null;
  seccompPipe?.on('error', () => undefined); // a child that fails early stops reading; its status says why
  seccompPipe?.end(program);
  const status = readStatus(child);
  const spawnError = await spawned;
  if (spawnError !== undefined) throw unavailable(`${shell} could not be started`, spawnError, { path: shell });
  const kill = async (): Promise<void> => {
    if (options.cgroup !== undefined) await options.cgroup.remove();
    else child.kill('SIGKILL');
    await exited;
  };
  const said = await status;
  if (said !== 'ok\n') {
    // The shell exits by itself after a failed step; the kill only covers a shell stuck or
    // killed in between. The caller's group stays: it is the caller's to remove.
    child.kill('SIGKILL');
    await exited;
    throw unavailable(said.trim() || `the launcher ended before joining the cgroup (${JSON.stringify(await exited)})`, undefined, { status: said.trim() });
  }
  // Descriptor 2 is a pipe (stdio above): never null; 0 and 1 are unless the caller gave descriptors.
  return { child, stdin: child.stdin, stdout: child.stdout, stderr: child.stderr as Readable, exited, kill };
}
