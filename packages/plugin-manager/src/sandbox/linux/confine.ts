/**
 * The bubblewrap command line of one confined sandbox: the namespaces it unshares, the
 * mounts it builds from nothing, the environment and the seccomp filter's descriptor.
 * Pure: it validates the spec and returns an argv; launch.ts runs it. docs/sandbox.md
 * ("Confinement") says what each wall covers and what it does not.
 */
import { posix } from 'node:path';
import { ForgeError } from '@forgeone/common';

/** A host directory (or file) the sandbox sees at `guest`. */
export interface ConfinedVolume {
  /** Absolute host path, normalised (no `.`, `..`, `//` or trailing `/`). */
  readonly host: string;
  /** Absolute path inside the sandbox, normalised; not over the runtime's mounts or another volume. */
  readonly guest: string;
  /** True: bound read-only (`--ro-bind`); false: read-write (`--bind`). */
  readonly readOnly: boolean;
}

/** What one sandbox runs and sees. Every path is absolute and normalised. */
export interface ConfinementSpec {
  /** The Node binary to execute inside (normally `process.execPath`); it must be among `runtimePaths` (or inside a volume). */
  readonly node: string;
  /** The script Node runs, as the sandbox sees it; it must be inside a runtime path or a volume to be readable. */
  readonly script: string;
  /** Arguments after the script (no NUL). Default none. */
  readonly args?: readonly string[];
  /** Node and V8 options before the script (each `--name` or `--name=value`, no NUL). Default none. */
  readonly nodeOptions?: readonly string[];
  /**
   * Files and directories the runtime needs, bound read-only at the same path: the Node
   * binary and the libraries it links (see `nodeRuntimePaths`), the script's package
   * (dist and the node_modules it imports). Never the trust store or the plugin store.
   */
  readonly runtimePaths: readonly string[];
  /** Host paths the plugin may use, each at its guest path. Default none. */
  readonly volumes?: readonly ConfinedVolume[];
  /** The whole environment of the sandboxed process (bubblewrap adds `PWD=/`). Default empty. */
  readonly env?: Readonly<Record<string, string>>;
  /** True keeps the host's network namespace; default false: one of its own with only its own loopback. */
  readonly network?: boolean;
  /** Size of the private /tmp in bytes (a tmpfs charged to the sandbox's memory cgroup); default the kernel's (half of RAM). */
  readonly tmpBytes?: number;
  /** The descriptor, in the bwrap process, from which bwrap reads the seccomp program. Default 3. */
  readonly seccompFd?: number;
}

/** The hostname inside every sandbox (its own UTS namespace). */
export const SANDBOX_HOSTNAME = 'forge-sandbox';

/** Mount points bwrap creates itself; no runtime path or volume may sit at, under or above them. */
export const SANDBOX_OWN_MOUNTS: readonly string[] = ['/proc', '/dev', '/tmp'];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `outer` is `inner` or one of its ancestors. */
function covers(outer: string, inner: string): boolean {
  return outer === inner || outer === '/' || inner.startsWith(`${outer}/`);
}

/** True when `own` is the sandbox's /tmp and `path` lies strictly inside it: mounted after the tmpfs, over it. */
function insideTmp(own: string, path: string): boolean {
  return own === '/tmp' && path !== '/tmp' && covers('/tmp', path);
}

/** The problem with `path` as a mount path, if any. */
function pathProblem(what: string, path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '') return `${what}: expected an absolute path, found ${JSON.stringify(path)}`;
  if (path.includes('\0')) return `${what}: a path must not contain NUL, found ${JSON.stringify(path)}`;
  if (!path.startsWith('/')) return `${what}: expected an absolute path, found ${JSON.stringify(path)}`;
  if (path.split('/').includes('..')) return `${what}: a path must not contain '..' segments, found ${JSON.stringify(path)}`;
  if (path !== '/' && (path !== posix.normalize(path) || path.endsWith('/'))) return `${what}: expected a normalised path, found ${JSON.stringify(path)}`;
  return undefined;
}

/**
 * Checks a spec, collecting every problem.
 *
 * @throws FO_SANDBOX_BAD_OPTION listing each problem in details.problems
 */
export function checkConfinementSpec(spec: ConfinementSpec): void {
  const problems: string[] = [];
  const add = (problem: string | undefined): void => void (problem !== undefined && problems.push(problem));
  add(pathProblem('node', spec.node));
  add(pathProblem('script', spec.script));
  spec.args?.forEach((arg, i) => add(typeof arg === 'string' && !arg.includes('\0') ? undefined : `args[${i}]: expected a string without NUL, found ${JSON.stringify(arg)}`));
  spec.nodeOptions?.forEach((option, i) =>
    add(typeof option === 'string' && /^--[a-z0-9-]+(=[^\0]*)?$/.test(option) ? undefined : `nodeOptions[${i}]: expected --name or --name=value, found ${JSON.stringify(option)}`),
  );
  const runtime = spec.runtimePaths;
  runtime.forEach((path, i) => {
    const problem = pathProblem(`runtimePaths[${i}]`, path);
    add(problem);
    if (problem !== undefined) return;
    // SECURITY: the runtime's paths are the host's, read-only; '/' would hand the plugin the whole host tree.
    if (path === '/') add(`runtimePaths[${i}]: the host's root cannot be a runtime path`);
    for (const own of SANDBOX_OWN_MOUNTS) {
      // A runtime path inside /tmp (a checkout in /tmp) is bound after the private /tmp is mounted, over it.
      if (insideTmp(own, path)) continue;
      if (covers(own, path) || covers(path, own)) add(`runtimePaths[${i}]: ${path} overlaps the sandbox's own ${own}`);
    }
  });
  if (!runtime.includes(spec.node) && !(spec.volumes ?? []).some((volume) => typeof volume.guest === 'string' && covers(volume.guest, spec.node))) {
    add(`node: ${JSON.stringify(spec.node)} must be one of runtimePaths or inside a volume`);
  }
  const guests: string[] = [];
  (spec.volumes ?? []).forEach((volume, i) => {
    const host = pathProblem(`volumes[${i}].host`, volume.host);
    const guest = pathProblem(`volumes[${i}].guest`, volume.guest);
    add(host);
    add(guest);
    if (typeof volume.readOnly !== 'boolean') add(`volumes[${i}].readOnly: expected true or false, found ${JSON.stringify(volume.readOnly)}`);
    if (guest !== undefined) return;
    // SECURITY: a volume over (or above) a runtime mount would replace the runtime, and a
    // runtime mount under a read-write volume would make bwrap create its mount point in the host's directory.
    for (const path of [...SANDBOX_OWN_MOUNTS, ...runtime.filter((p) => typeof p === 'string')]) {
      // A volume inside the private /tmp is mounted after the tmpfs, over a mount point bwrap creates in it.
      if (insideTmp(path, volume.guest)) continue;
      if (covers(volume.guest, path) || covers(path, volume.guest)) add(`volumes[${i}].guest: ${volume.guest} overlaps the runtime's ${path}`);
    }
    for (const other of guests) if (covers(other, volume.guest) || covers(volume.guest, other)) add(`volumes[${i}].guest: ${volume.guest} overlaps the volume at ${other}`);
    guests.push(volume.guest);
  });
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (!ENV_NAME.test(name)) add(`env: expected a variable name of letters, digits and '_', found ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || value.includes('\0')) add(`env.${name}: expected a string without NUL, found ${JSON.stringify(value)}`);
  }
  if (spec.tmpBytes !== undefined && !(Number.isSafeInteger(spec.tmpBytes) && spec.tmpBytes >= 1 << 20)) add(`tmpBytes: expected an integer of at least 1 MiB, found ${JSON.stringify(spec.tmpBytes)}`);
  const fd = spec.seccompFd ?? 3;
  if (!(Number.isInteger(fd) && fd >= 3 && fd <= 1023)) add(`seccompFd: expected an integer from 3 to 1023, found ${JSON.stringify(spec.seccompFd)}`);
  if (problems.length > 0) throw new ForgeError('FO_SANDBOX_BAD_OPTION', `confinement spec: ${problems.join('; ')}`, { details: { problems } });
}

/**
 * The bubblewrap arguments (after the program name) for one sandbox, in the order bwrap
 * applies them. Every argument and why:
 *
 * - `--unshare-user`: its own user namespace, so nothing it holds is a capability on the
 *   host; `--disable-userns` then stops it from nesting another one (seccomp refuses the
 *   calls as well).
 * - `--unshare-pid`: its own pid namespace; host processes are invisible and unreachable
 *   by kill or /proc; bwrap's reaper is its pid 1.
 * - `--unshare-ipc`, `--unshare-uts` (`--hostname forge-sandbox`): no System V IPC or
 *   POSIX message queues shared with the host, and a hostname that names nothing.
 * - `--unshare-cgroup-try`: /proc/self/cgroup shows `/` (its own group as the root)
 *   instead of the host's cgroup paths; skipped on kernels without cgroup namespaces.
 * - `--unshare-net` unless `network: true`: a network namespace of its own with only its
 *   own loopback (bwrap brings it up), so the host's 127.0.0.1 and every other address are out of reach.
 * - `--die-with-parent`: the sandbox gets SIGKILL when bwrap's parent (the host) dies.
 * - `--new-session`: no controlling terminal shared with the host (setsid; TIOCSTI).
 * - `--cap-drop ALL`: no capabilities, even inside its user namespace.
 * - `--clearenv`, then `--setenv` for each variable of `env`: the host's environment never reaches it.
 * - `--ro-bind P P` for each runtime path: the root is an empty tmpfs, so the runtime
 *   sees only these host files, read-only.
 * - `--proc /proc` (of its pid namespace), `--dev /dev` (null, zero, full, random,
 *   urandom, tty, a private devpts and shm), `--tmpfs /tmp` (private, gone with it;
 *   `--size` when `tmpBytes` is set).
 * - `--ro-bind`/`--bind HOST GUEST` per volume, shallow first; or, when `volumeFds` gives
 *   each volume (in `spec.volumes` order) a descriptor open on its host path,
 *   `--ro-bind-fd`/`--bind-fd FD GUEST`: bwrap then binds what was opened and checked, not
 *   whatever the path names by the time it mounts (launchConfined does this), and closes
 *   the descriptor before the program runs.
 * - `--remount-ro /`: the tmpfs root becomes read-only (not recursive: /tmp, /dev and
 *   read-write volumes stay writable).
 * - `--chdir /`, `--seccomp FD` (the filter, applied just before Node is executed), then
 *   `--` and the program.
 *
 * @throws FO_SANDBOX_BAD_OPTION when the spec is invalid ({@link checkConfinementSpec})
 */
export function confinementArgs(spec: ConfinementSpec, volumeFds?: readonly number[]): string[] {
  checkConfinementSpec(spec);
  const byFd = new Map<ConfinedVolume, number>();
  if (volumeFds !== undefined) {
    const given = spec.volumes ?? [];
    if (volumeFds.length !== given.length || volumeFds.some((fd) => !Number.isInteger(fd) || fd < 0)) {
      throw new ForgeError('FO_SANDBOX_BAD_OPTION', `confinement options: expected one descriptor per volume (${given.length}), found ${JSON.stringify(volumeFds)}`, {
        details: { problems: ['volumeFds: one non-negative integer per volume'] },
      });
    }
    given.forEach((volume, i) => byFd.set(volume, volumeFds[i] as number));
  }
  const args = ['--unshare-user', '--disable-userns', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  if (spec.network !== true) args.push('--unshare-net');
  args.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--hostname', SANDBOX_HOSTNAME, '--clearenv');
  for (const [name, value] of Object.entries(spec.env ?? {})) args.push('--setenv', name, value);
  const runtime = [...new Set(spec.runtimePaths)].sort();
  for (const path of runtime.filter((p) => !insideTmp('/tmp', p))) args.push('--ro-bind', path, path);
  args.push('--proc', '/proc', '--dev', '/dev');
  if (spec.tmpBytes !== undefined) args.push('--size', String(spec.tmpBytes));
  args.push('--tmpfs', '/tmp');
  // Runtime paths inside /tmp (a checkout there) go over the private /tmp, read-only.
  for (const path of runtime.filter((p) => insideTmp('/tmp', p))) args.push('--ro-bind', path, path);
  const volumes = [...(spec.volumes ?? [])].sort((a, b) => a.guest.split('/').length - b.guest.split('/').length || a.guest.localeCompare(b.guest));
  for (const volume of volumes) {
    const fd = byFd.get(volume);
    if (fd === undefined) args.push(volume.readOnly ? '--ro-bind' : '--bind', volume.host, volume.guest);
    else args.push(volume.readOnly ? '--ro-bind-fd' : '--bind-fd', String(fd), volume.guest);
  }
  args.push('--remount-ro', '/', '--chdir', '/', '--seccomp', String(spec.seccompFd ?? 3), '--', spec.node, ...(spec.nodeOptions ?? []), spec.script, ...(spec.args ?? []));
  return args;
}
