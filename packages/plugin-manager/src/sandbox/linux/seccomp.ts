/**
 * The seccomp filter of the process backend: a classic BPF program, generated here, that
 * bubblewrap installs (`bwrap --seccomp FD`) before it executes the plugin's host process.
 * It is a deny list: everything not named below is allowed, because the sandbox's other
 * walls (namespaces, a read-only root, no capabilities, cgroups) already confine ordinary
 * calls, and the filter's job is to take away the kernel surface those walls do not cover:
 * calls that reshape the sandbox itself, reach other processes or the machine, or have a
 * record of kernel exploits. docs/sandbox.md ("Seccomp filter") says why each is there and
 * what the filter does not cover.
 */
import { ForgeError } from '@forgeone/common';
import { BPF, SECCOMP_DATA, SECCOMP_RET, argLow, encodeProgram, jump, retErrno, stmt, type SockFilter } from './seccomp-bpf.js';
import { isKnownSyscall, syscallNumber, type SeccompArch } from './seccomp-syscalls.js';

export type { SeccompArch } from './seccomp-syscalls.js';

/** `AUDIT_ARCH_*` values (`linux/audit.h`) the filter accepts, one per architecture. */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = { x64: 0xc000_003e, arm64: 0xc000_00b7 };

/** On x86_64, the bit that marks an x32 system call; x32 calls share AUDIT_ARCH_X86_64. */
export const X32_SYSCALL_BIT = 0x4000_0000;

/** errno values the filter answers with (the same on both architectures). */
export const SECCOMP_ERRNO = { EPERM: 1, ENOSYS: 38, EAFNOSUPPORT: 97 } as const;

/**
 * The socket families a sandbox may create: those a network namespace confines (AF_UNIX 1,
 * AF_INET 2, AF_INET6 10) and AF_NETLINK 16 (per namespace; Node reads interfaces through
 * it). Every other family is refused with EAFNOSUPPORT, as a kernel without it answers:
 * AF_VSOCK reaches the hypervisor whatever the network namespace, and the rest (AF_PACKET,
 * AF_ALG, AF_BLUETOOTH, TIPC, RDS, XDP...) are kernel code a plugin has no use for.
 */
export const ALLOWED_SOCKET_FAMILIES = { AF_UNIX: 1, AF_INET: 2, AF_INET6: 10, AF_NETLINK: 16 } as const;

/**
 * Every `CLONE_NEW*` flag `clone(2)` accepts: NEWNS 0x20000, NEWCGROUP 0x2000000, NEWUTS,
 * NEWIPC, NEWUSER, NEWPID, NEWNET (0x4000000 to 0x40000000). CLONE_NEWTIME (0x80) is not
 * here: for clone(2) that bit is part of the exit signal, and only clone3 and unshare take
 * it, both refused as a whole.
 */
export const CLONE_NAMESPACE_FLAGS = 0x7e02_0000;

/** `ioctl` requests refused: they push characters into a terminal's input queue (TIOCSTI) or, on a virtual console, paste the selection (TIOCLINUX). */
export const DENIED_IOCTLS: Readonly<Record<'TIOCSTI' | 'TIOCLINUX', number>> = { TIOCSTI: 0x5412, TIOCLINUX: 0x541c };

/** `personality(2)` arguments allowed: PER_LINUX (0), and 0xffffffff, which only reads the current persona. */
export const ALLOWED_PERSONAS = [0, 0xffff_ffff] as const;

/**
 * System calls the filter refuses outright with EPERM, on every architecture where they
 * exist (a name absent from an architecture's table, such as `uselib`, `_sysctl`, `iopl`
 * or `create_module` on aarch64, is not filtered there: the call does not exist).
 *
 * - other processes: ptrace, process_vm_readv, process_vm_writev, kcmp, pidfd_getfd;
 * - the sandbox's own walls: mount, umount2, pivot_root, chroot, unshare, setns, and the
 *   new mount API (fsopen, fsconfig, fsmount, fspick, move_mount, open_tree,
 *   open_tree_attr, mount_setattr);
 * - state the kernel does not namespace: keyctl, add_key, request_key (keyrings), syslog
 *   (the kernel log), acct, quotactl, quotactl_fd;
 * - the machine: reboot, kexec_load, kexec_file_load, init_module, finit_module,
 *   delete_module, swapon, swapoff, iopl, ioperm; the clock: settimeofday,
 *   clock_settime, clock_adjtime, adjtimex (also its read-only use by ntp_gettime);
 * - a record of kernel exploits: bpf, perf_event_open, userfaultfd, io_uring_setup,
 *   io_uring_enter, io_uring_register; file handles that bypass path checks:
 *   open_by_handle_at, name_to_handle_at;
 * - obsolete calls nothing needs: lookup_dcookie, uselib, vhangup, _sysctl,
 *   create_module, get_kernel_syms, query_module, nfsservctl.
 *
 * Besides these, the filter checks arguments: `clone` with any CLONE_NEW* flag
 * ({@link CLONE_NAMESPACE_FLAGS}) gets EPERM; `clone3` gets ENOSYS (its flags sit behind
 * a pointer the filter cannot read; libc then falls back to clone); `personality` other
 * than {@link ALLOWED_PERSONAS} gets EPERM; `ioctl` with a request in
 * {@link DENIED_IOCTLS} gets EPERM.
 */
export const DEFAULT_DENIED_SYSCALLS: readonly string[] = Object.freeze([
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd',
  'mount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns',
  'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'open_tree_attr', 'mount_setattr',
  'keyctl', 'add_key', 'request_key', 'syslog', 'acct', 'quotactl', 'quotactl_fd',
  'reboot', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'swapon', 'swapoff', 'iopl', 'ioperm',
  'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex',
  'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  'open_by_handle_at', 'name_to_handle_at',
  'lookup_dcookie', 'uselib', 'vhangup', '_sysctl', 'create_module', 'get_kernel_syms', 'query_module', 'nfsservctl',
]);

/** Options of {@link seccompProgram}. */
export interface SeccompOptions {
  /** The architecture the program is for; default: the host's (`process.arch`). */
  readonly arch?: SeccompArch;
  /**
   * More system calls to refuse with EPERM, by name, on top of {@link DEFAULT_DENIED_SYSCALLS}.
   * A name the tables know but the architecture lacks is not filtered there. Naming `clone`,
   * `clone3`, `personality` or `ioctl` refuses every use of it (EPERM), not only the ones
   * the argument checks refuse. Denying what every process needs (`execve`, `exit_group`,
   * `mmap`...) stops the plugin's host process from starting: nothing stops you.
   */
  readonly extraDenied?: readonly string[];
}

/**
 * Generates the filter as the bytes bubblewrap's `--seccomp FD` reads: an array of
 * `struct sock_filter` (8 bytes each, little-endian). The program, in order:
 *
 * 1. a foreign architecture (e.g. 32-bit calls through `int 0x80` on x86_64, or AArch32 on
 *    arm64) kills the process: its numbers mean other calls, so no list applies to it;
 * 2. on x86_64, an x32 call (number >= {@link X32_SYSCALL_BIT}) gets EPERM;
 * 3. each denied call gets EPERM; then `clone3` ENOSYS, and the argument checks on
 *    `clone`, `personality`, `ioctl`, `socket` and `socketpair` (only the families in
 *    {@link ALLOWED_SOCKET_FAMILIES}; the others get EAFNOSUPPORT);
 * 4. everything else is allowed.
 *
 * Its verdict for a call depends on the call's number alone except for those three, so
 * kernels from 5.11 on can cache its answer per number and skip running it for ordinary
 * calls.
 *
 * @throws ForgeError FO_SANDBOX_SECCOMP_INVALID when `arch` (or the host, by default) is
 *   neither x64 nor arm64, or `extraDenied` names calls neither table knows (every problem
 *   in details.problems)
 */
export function seccompProgram(options: SeccompOptions = {}): Buffer {
  const problems: string[] = [];
  const requested: string = options.arch ?? process.arch;
  const arch = requested === 'x64' || requested === 'arm64' ? requested : undefined;
  if (arch === undefined) problems.push(`arch: expected x64 or arm64, found ${JSON.stringify(requested)}`);
  const extra = options.extraDenied ?? [];
  for (const name of extra as readonly unknown[]) {
    if (typeof name !== 'string' || !isKnownSyscall(name)) problems.push(`extraDenied: expected a system call name, found ${JSON.stringify(name)}`);
  }
  if (arch === undefined || problems.length > 0) {
    throw new ForgeError('FO_SANDBOX_SECCOMP_INVALID', `seccomp filter options: ${problems.join('; ')}`, { details: { problems } });
  }
  // At most two instructions per known call plus a fixed head and tail: even denying every
  // call stays far below the kernel's BPF_MAXINSNS (a test checks it).
  return encodeProgram(buildFilter(arch, [...DEFAULT_DENIED_SYSCALLS, ...extra]));
}

/** The program for `arch` denying `names` (unknown on this architecture: skipped). */
function buildFilter(arch: SeccompArch, names: readonly string[]): SockFilter[] {
  const deny = retErrno(SECCOMP_ERRNO.EPERM);
  const denied = new Set<number>();
  for (const name of names) {
    const nr = syscallNumber(arch, name);
    if (nr !== undefined) denied.add(nr);
  }
  const program: SockFilter[] = [
    stmt(BPF.LD_W_ABS, SECCOMP_DATA.arch),
    jump(BPF.JEQ_K, AUDIT_ARCH[arch], 1, 0),
    stmt(BPF.RET_K, SECCOMP_RET.KILL_PROCESS),
    stmt(BPF.LD_W_ABS, SECCOMP_DATA.nr),
  ];
  if (arch === 'x64') program.push(jump(BPF.JGE_K, X32_SYSCALL_BIT, 0, 1), stmt(BPF.RET_K, deny));
  // One comparison and one return per call keeps every jump short (classic BPF jumps
  // reach at most 255 instructions ahead) however long the list grows.
  for (const nr of [...denied].sort((a, b) => a - b)) program.push(jump(BPF.JEQ_K, nr, 0, 1), stmt(BPF.RET_K, deny));
  // The blocks below run only for calls not denied outright; each ends in a return, so
  // loading an argument into the accumulator never leaks into a later number comparison.
  const special = (name: string): number | undefined => {
    const nr = syscallNumber(arch, name);
    return nr === undefined || denied.has(nr) ? undefined : nr;
  };
  const clone3 = special('clone3');
  if (clone3 !== undefined) program.push(jump(BPF.JEQ_K, clone3, 0, 1), stmt(BPF.RET_K, retErrno(SECCOMP_ERRNO.ENOSYS)));
  // SECURITY: the argument checks read only the low 32 bits, exactly what the kernel uses:
  // clone takes lower_32_bits(flags), personality and ioctl's request are unsigned int. A
  // 64-bit comparison would let a caller set high bits the kernel ignores to slip past it.
  const clone = special('clone');
  if (clone !== undefined) {
    program.push(
      jump(BPF.JEQ_K, clone, 0, 4),
      stmt(BPF.LD_W_ABS, argLow(0)),
      jump(BPF.JSET_K, CLONE_NAMESPACE_FLAGS, 0, 1),
      stmt(BPF.RET_K, deny),
      stmt(BPF.RET_K, SECCOMP_RET.ALLOW),
    );
  }
  const personality = special('personality');
  if (personality !== undefined) {
    const [persona, query] = ALLOWED_PERSONAS;
    program.push(
      jump(BPF.JEQ_K, personality, 0, 5),
      stmt(BPF.LD_W_ABS, argLow(0)),
      jump(BPF.JEQ_K, persona, 2, 0),
      jump(BPF.JEQ_K, query, 1, 0),
      stmt(BPF.RET_K, deny),
      stmt(BPF.RET_K, SECCOMP_RET.ALLOW),
    );
  }
  const ioctl = special('ioctl');
  if (ioctl !== undefined) {
    program.push(
      jump(BPF.JEQ_K, ioctl, 0, 5),
      stmt(BPF.LD_W_ABS, argLow(1)),
      jump(BPF.JEQ_K, DENIED_IOCTLS.TIOCSTI, 2, 0),
      jump(BPF.JEQ_K, DENIED_IOCTLS.TIOCLINUX, 1, 0),
      stmt(BPF.RET_K, SECCOMP_RET.ALLOW),
      stmt(BPF.RET_K, deny),
    );
  }
  // SECURITY: socket(domain, ...) and socketpair(domain, ...): the family is an int (low 32 bits).
  for (const name of ['socket', 'socketpair']) {
    const nr = special(name);
    if (nr === undefined) continue;
    const { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK } = ALLOWED_SOCKET_FAMILIES;
    program.push(
      jump(BPF.JEQ_K, nr, 0, 7),
      stmt(BPF.LD_W_ABS, argLow(0)),
      jump(BPF.JEQ_K, AF_UNIX, 4, 0),
      jump(BPF.JEQ_K, AF_INET, 3, 0),
      jump(BPF.JEQ_K, AF_INET6, 2, 0),
      jump(BPF.JEQ_K, AF_NETLINK, 1, 0),
      stmt(BPF.RET_K, retErrno(SECCOMP_ERRNO.EAFNOSUPPORT)),
      stmt(BPF.RET_K, SECCOMP_RET.ALLOW),
    );
  }
  program.push(stmt(BPF.RET_K, SECCOMP_RET.ALLOW));
  return program;
}
