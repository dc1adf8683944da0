/**
 * A native probe for the seccomp filter, for tests: a small C program, generated from the
 * filter's own tables, that makes each denied call through syscall(2) and prints
 * `name errno` (0 when the call succeeded), plus the calls that must keep working. It runs
 * inside bubblewrap with and without the filter, so a test can tell the filter's refusals
 * from the kernel's own.
 *
 * SECURITY (of the test machine): the probe also runs without the filter, possibly with
 * real capabilities (bubblewrap started by root without a user namespace), so every
 * argument below makes the call fail before it acts or act on nothing: bad pointers,
 * invalid descriptors, flags or magic numbers, zero lengths, a path that does not exist.
 * Calls that would change the probe's own state (unshare, personality) run in a child.
 * vhangup acts only on a controlling terminal, which `bwrap --new-session` takes away.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DENIED_SYSCALLS, DENIED_IOCTLS, X32_SYSCALL_BIT, type SeccompArch } from '../seccomp.js';
import { knownSyscalls, syscallNumber } from '../seccomp-syscalls.js';

/**
 * Harmless arguments for each denied call, as C expressions (`self` is the probe's pid; 1 is
 * a bad pointer); `CHILD x` makes the call with the one argument x in a forked child.
 */
export const PROBE_ARGS: Readonly<Record<string, string>> = {
  ptrace: '0x7fffffff, 0, 0, 0',
  process_vm_readv: 'self, 0, 0, 0, 0, 0',
  process_vm_writev: 'self, 0, 0, 0, 0, 0',
  kcmp: 'self, self, 0, 0, 0',
  pidfd_getfd: '-1, 0, 0',
  mount: '0, 0, 0, 0, 0',
  umount2: '0, 0',
  pivot_root: '0, 0',
  chroot: '0',
  unshare: 'CHILD 0x10000000',
  setns: '-1, 0',
  fsopen: '(long)"forge-no-such-fs", 0',
  fsconfig: '-1, 0, 0, 0, 0',
  fsmount: '-1, 0, 0',
  fspick: '-1, 0, 0',
  move_mount: '-1, 0, -1, 0, 0',
  open_tree: '-1, 0, 0',
  open_tree_attr: '-1, 0, 0, 0, 0',
  mount_setattr: '-1, 0, 0, 0, 0',
  keyctl: '0, -1, 0',
  add_key: '0, 0, 0, 0, 0',
  request_key: '0, 0, 0, 0',
  syslog: '10, 0, 0',
  acct: '(long)"/nonexistent/forge-acct"',
  quotactl: '0, 0, 0, 0',
  quotactl_fd: '-1, 0, 0, 0',
  reboot: '0, 0, 0, 0',
  kexec_load: '0, 0, 0, 0xffffffffL',
  kexec_file_load: '-1, -1, 0, 0, 0xffffffffL',
  init_module: '0, 0, 0',
  finit_module: '-1, 0, 0',
  delete_module: '0, 0',
  swapon: '0, 0',
  swapoff: '0',
  iopl: '0',
  ioperm: '0, 0, 0',
  settimeofday: '1, 0',
  clock_settime: '0, 1',
  clock_adjtime: '0, 1',
  adjtimex: '1',
  bpf: '-1, 0, 0',
  perf_event_open: '0, 0, -1, -1, 0',
  userfaultfd: '-1',
  io_uring_setup: '0, 0',
  io_uring_enter: '-1, 0, 0, 0, 0, 0',
  io_uring_register: '-1, 0, 0, 0',
  open_by_handle_at: '-1, 0, 0',
  name_to_handle_at: '-100, 0, 0, 0, 0',
  lookup_dcookie: '0, 0, 0',
  uselib: '0',
  vhangup: '',
  _sysctl: '0',
  create_module: '0, 0',
  get_kernel_syms: '0',
  query_module: '0, 0, 0, 0, 0',
  nfsservctl: '0, 0, 0',
};

const CLONE_NEWUSER = 0x1000_0000;
const SIGCHLD = 17;
const ADDR_NO_RANDOMIZE = 0x004_0000;
const TCGETS = 0x5401;

/** The probe's C source for `arch`; the rows it prints are the denied names present on `arch` and the extra rows of {@link probeRows}. */
export function probeSource(arch: SeccompArch): string {
  const nr = (name: string): number => {
    const number = syscallNumber(arch, name);
    if (number === undefined) throw new Error(`${name} has no number on ${arch}`);
    return number;
  };
  const lines: string[] = [];
  for (const name of DEFAULT_DENIED_SYSCALLS) {
    const args = PROBE_ARGS[name];
    if (args === undefined) throw new Error(`the probe has no arguments for ${name}`);
    const number = syscallNumber(arch, name);
    if (number === undefined) continue;
    if (args.startsWith('CHILD ')) lines.push(`  in_child("${name}", ${number}, ${args.slice(6)});`);
    else lines.push(`  report("${name}", call(${number}, ${[...args.split(',').filter((a) => a.trim() !== ''), '0', '0', '0', '0', '0', '0'].slice(0, 6).join(', ')}));`);
  }
  // The host's own <sys/syscall.h> must agree with the table wherever it knows a name.
  const agree = knownSyscalls(arch).map((name) => `#ifdef SYS_${name}\n_Static_assert(SYS_${name} == ${nr(name)}, "${name}");\n#endif`);
  return `#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

${agree.join('\n')}

static void report(const char *name, long result) { printf("%s %d\\n", name, result < 0 ? errno : 0); fflush(stdout); }
static long call(long nr, long a, long b, long c, long d, long e, long f) { errno = 0; return syscall(nr, a, b, c, d, e, f); }

/* Makes a call in a forked child, so that a new namespace or persona stays there; reports the errno it exits with. */
static void in_child(const char *name, long nr, long a) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) _exit(call(nr, a, 0, 0, 0, 0, 0) < 0 ? errno : 0);
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) printf("%s -1\\n", name);
  else printf("%s %d\\n", name, WEXITSTATUS(status));
  fflush(stdout);
}

/* clone(2) through syscall(2) with no new stack behaves like fork; the child leaves at once with 7. */
static void clone_with(const char *name, long nr, long flags) {
  fflush(stdout);
  errno = 0;
  long r = syscall(nr, flags, 0, 0, 0, 0);
  if (r == 0) _exit(7);
  if (r < 0) { report(name, r); return; }
  int status;
  printf("%s %d\\n", name, waitpid(r, &status, 0) == r && WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : -1);
  fflush(stdout);
}

static void *thread_main(void *arg) { return arg; }

int main(void) {
  long self = getpid();
  printf("getpid %d\\n", self > 0 ? 0 : -1);
  pid_t child = fork();
  if (child == 0) _exit(7);
  int status;
  printf("fork %d\\n", child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : errno);
  pthread_t thread;
  int made = pthread_create(&thread, 0, thread_main, 0);
  printf("pthread_create %d\\n", made == 0 ? pthread_join(thread, 0) : made);
  clone_with("clone", ${nr('clone')}, ${SIGCHLD});
  clone_with("clone_newuser", ${nr('clone')}, ${CLONE_NEWUSER | SIGCHLD});
  report("clone3", call(${nr('clone3')}, 0, 0, 0, 0, 0, 0));
  report("ioctl_tiocsti", call(${nr('ioctl')}, -1, ${DENIED_IOCTLS.TIOCSTI}, 0, 0, 0, 0));
  report("ioctl_tioclinux", call(${nr('ioctl')}, -1, ${DENIED_IOCTLS.TIOCLINUX}, 0, 0, 0, 0));
  report("ioctl_tcgets", call(${nr('ioctl')}, -1, ${TCGETS}, 0, 0, 0, 0));
  report("personality_0", call(${nr('personality')}, 0, 0, 0, 0, 0, 0));
  in_child("personality_no_randomize", ${nr('personality')}, ${ADDR_NO_RANDOMIZE});
${arch === 'x64' ? `  report("x32_getpid", call(${X32_SYSCALL_BIT | nr('getpid')}, 0, 0, 0, 0, 0, 0));\n` : ''}${lines.join('\n')}
  return 0;
}
`;
}

/**
 * Compiles the probe for `arch` in `dir` with the first of `compilers` that can build a
 * trivial C program (so that a missing toolchain is told apart from a broken probe).
 *
 * @returns the probe's path, or why no compiler could build C here
 * @throws Error when a working compiler fails on the probe (a bug in the probe or a table)
 */
export function compileProbe(dir: string, arch: SeccompArch, compilers: readonly string[]): { readonly path: string } | { readonly reason: string } {
  const trivial = join(dir, 'trivial.c');
  writeFileSync(trivial, '#include <stdio.h>\nint main(void) { return puts("") < 0; }\n');
  const source = join(dir, 'seccomp-probe.c');
  writeFileSync(source, probeSource(arch));
  const path = join(dir, 'seccomp-probe');
  const build = (compiler: string, file: string) => spawnSync(compiler, ['-O1', '-Wall', '-Werror', '-pthread', '-o', path, file], { encoding: 'utf8' });
  const failures: string[] = [];
  for (const compiler of compilers) {
    const works = build(compiler, trivial);
    if (works.status !== 0) {
      failures.push(`${compiler}: ${works.error?.message ?? works.stderr.trim().split('\n')[0]}`);
      continue;
    }
    const built = build(compiler, source);
    if (built.status !== 0) throw new Error(`${compiler} could not build ${source}:\n${built.stderr}`);
    return { path };
  }
  return { reason: `no C compiler works here (${failures.join('; ')})` };
}

/** bubblewrap's arguments for the probe: every namespace, a read-only root, a new session. */
export const BWRAP_ARGS: readonly string[] = ['--unshare-all', '--die-with-parent', '--new-session', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];

/**
 * Runs `probe` inside bubblewrap, with `program` (a seccomp filter) on fd 3 when given.
 *
 * @returns each row's errno, 0 for success
 */
export function runProbe(probe: string, programFile?: { readonly fd: number }): Map<string, number> {
  const args = [...BWRAP_ARGS, ...(programFile === undefined ? [] : ['--seccomp', '3']), probe];
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe'];
  if (programFile !== undefined) stdio.push(programFile.fd);
  const ran = spawnSync('bwrap', args, { encoding: 'utf8', stdio, timeout: 60_000 });
  if (ran.status !== 0) throw new Error(`bwrap ${args.join(' ')}: exit ${ran.status} ${ran.signal ?? ''} ${ran.error?.message ?? ''}\n${ran.stderr}\n${ran.stdout}`);
  const rows = new Map<string, number>();
  for (const line of ran.stdout.trim().split('\n')) {
    const [name, value] = line.split(' ');
    rows.set(name!, Number(value));
  }
  return rows;
}
