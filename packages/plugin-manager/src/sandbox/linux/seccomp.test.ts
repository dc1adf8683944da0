import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throwsCode } from '@forgeone/common/testing';
import { AUDIT_ARCH, CLONE_NAMESPACE_FLAGS, DEFAULT_DENIED_SYSCALLS, DENIED_IOCTLS, seccompProgram, type SeccompArch, type SeccompOptions } from './seccomp.js';
import { BPF, BPF_MAXINSNS, SECCOMP_RET, encodeProgram, retErrno } from './seccomp-bpf.js';
import { knownSyscalls, syscallNumber } from './seccomp-syscalls.js';
import { decodeProgram, runSeccomp } from './test-support/bpf-interpreter.js';

const EPERM = retErrno(1);
const ENOSYS = retErrno(38);
const ERRNO_EAFNOSUPPORT = retErrno(97);
const { ALLOW, KILL_PROCESS } = SECCOMP_RET;
const SIGCHLD = 17n;
/** Every CLONE_NEW* flag clone(2) takes, one by one. */
const NAMESPACE_FLAGS = { NEWNS: 0x20000n, NEWCGROUP: 0x2000000n, NEWUTS: 0x4000000n, NEWIPC: 0x8000000n, NEWUSER: 0x10000000n, NEWPID: 0x20000000n, NEWNET: 0x40000000n };
/** What pthread_create passes: CLONE_VM | FS | FILES | SIGHAND | THREAD | SYSVSEM | SETTLS | PARENT_SETTID | CHILD_CLEARTID. */
const THREAD_FLAGS = 0x3d0f00n;
/** Foreign calling conventions: i386 (and, for good measure, aarch64) on x86_64; AArch32 (and x86_64) on arm64. */
const FOREIGN: Record<SeccompArch, readonly number[]> = { x64: [0x4000_0003, AUDIT_ARCH.arm64], arm64: [0x4000_0028, AUDIT_ARCH.x64] };

/** The calls the filter must refuse whatever else it refuses (written out here, so that dropping one from the list fails a test). */
const REQUIRED = [
  'ptrace', 'mount', 'umount2', 'pivot_root', 'chroot', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'unshare', 'setns',
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'userfaultfd', 'io_uring_setup', 'io_uring_enter',
  'io_uring_register', 'open_by_handle_at', 'name_to_handle_at', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'reboot', 'swapon',
  'swapoff', 'acct', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'syslog', 'quotactl', 'lookup_dcookie', 'fsopen',
  'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr', 'uselib', 'vhangup',
];

/** Denied names an architecture has no such call for (so nothing to filter). */
const ABSENT: Record<SeccompArch, readonly string[]> = { x64: [], arm64: ['iopl', 'ioperm', 'uselib', '_sysctl', 'create_module', 'get_kernel_syms', 'query_module'] };

/** A verdict function for one generated program. */
function filterFor(arch: SeccompArch, options: Omit<SeccompOptions, 'arch'> = {}) {
  const program = decodeProgram(seccompProgram({ ...options, arch }));
  const nr = (name: string): number => {
    const number = syscallNumber(arch, name);
    assert.ok(number !== undefined, `${name} has no number on ${arch}`);
    return number;
  };
  return {
    program,
    verdict: (name: string, ...args: bigint[]): number => runSeccomp(program, { nr: nr(name), arch: AUDIT_ARCH[arch], args }),
    raw: (call: { nr: number; arch: number; args?: bigint[] }): number => runSeccomp(program, call),
  };
}

for (const arch of ['x64', 'arm64'] as const) {
  describe(`seccomp filter for ${arch}`, () => {
    const { program, verdict, raw } = filterFor(arch);

    it('fits the kernel: at most 4096 instructions, every jump inside, a return at the end', () => {
      assert.ok(program.length <= BPF_MAXINSNS, `${program.length} instructions`);
      // decodeProgram has checked every jump and that no path runs off the end; and denying every call there is stays within the limit
      const all = decodeProgram(seccompProgram({ arch, extraDenied: knownSyscalls(arch) }));
      assert.ok(all.length <= BPF_MAXINSNS, `${all.length} instructions denying all ${knownSyscalls(arch).length} calls`);
    });

    it('refuses every call of the default deny list that exists on the architecture with EPERM', () => {
      const absent = DEFAULT_DENIED_SYSCALLS.filter((name) => syscallNumber(arch, name) === undefined);
      assert.deepEqual(absent, ABSENT[arch], 'legacy calls aarch64 never had are the only ones left unfiltered');
      for (const name of DEFAULT_DENIED_SYSCALLS.filter((name) => !absent.includes(name))) assert.equal(verdict(name), EPERM, name);
      for (const name of REQUIRED) {
        assert.ok(DEFAULT_DENIED_SYSCALLS.includes(name), `${name} is in the default list`);
        if (!absent.includes(name)) assert.equal(verdict(name), EPERM, name);
      }
    });

    it('allows ordinary calls', () => {
      for (const name of ['getpid', 'read', 'write', 'openat', 'mmap', 'execve', 'exit_group', 'futex', 'seccomp', 'wait4']) assert.equal(verdict(name), ALLOW, name);
    });

    it('allows clone for a process or a thread, refuses it with any CLONE_NEW* flag', () => {
      assert.equal(verdict('clone', SIGCHLD), ALLOW);
      assert.equal(verdict('clone', THREAD_FLAGS), ALLOW);
      for (const [flag, bit] of Object.entries(NAMESPACE_FLAGS)) {
        assert.equal(verdict('clone', SIGCHLD | bit), EPERM, `CLONE_${flag}`);
        assert.equal(verdict('clone', THREAD_FLAGS | bit), EPERM, `threads + CLONE_${flag}`);
      }
      assert.equal(Object.values(NAMESPACE_FLAGS).reduce((a, b) => a | b), BigInt(CLONE_NAMESPACE_FLAGS));
      // The kernel reads only the low 32 bits of clone's flags: a namespace flag moved into
      // the high word is ignored by the kernel, and by the filter.
      assert.equal(verdict('clone', (NAMESPACE_FLAGS.NEWUSER << 32n) | SIGCHLD), ALLOW);
      assert.equal(verdict('clone', (0xffffffffn << 32n) | NAMESPACE_FLAGS.NEWUSER | SIGCHLD), EPERM);
    });

    it('answers clone3 with ENOSYS, so that libc falls back to clone', () => {
      assert.equal(verdict('clone3'), ENOSYS);
    });

    it('kills the process on a foreign calling convention, whatever the call', () => {
      for (const foreign of FOREIGN[arch]) {
        for (const name of ['getpid', 'read', 'ptrace']) assert.equal(raw({ nr: syscallNumber(arch, name)!, arch: foreign }), KILL_PROCESS, `${name} on 0x${foreign.toString(16)}`);
      }
    });

    it('refuses TIOCSTI and TIOCLINUX, even with high bits the kernel drops, and allows other ioctls', () => {
      assert.equal(verdict('ioctl', 0n, BigInt(DENIED_IOCTLS.TIOCSTI)), EPERM);
      assert.equal(verdict('ioctl', 0n, BigInt(DENIED_IOCTLS.TIOCLINUX)), EPERM);
      assert.equal(verdict('ioctl', 0n, (1n << 32n) | BigInt(DENIED_IOCTLS.TIOCSTI)), EPERM);
      assert.equal(verdict('ioctl', 0n, 0x5401n), ALLOW, 'TCGETS');
      assert.equal(verdict('ioctl', 0n, 0x541bn), ALLOW, 'FIONREAD');
      assert.equal(verdict('ioctl', BigInt(DENIED_IOCTLS.TIOCSTI), 0x5401n), ALLOW, 'the request is argument 1, not 0');
    });

    it('allows sockets of the families a network namespace confines (and netlink), refuses AF_VSOCK and the rest with EAFNOSUPPORT', () => {
      for (const name of ['socket', 'socketpair']) {
        for (const family of [1n, 2n, 10n, 16n]) assert.equal(verdict(name, family, 1n, 0n), ALLOW, `${name} family ${family}`);
        for (const family of [40n /* VSOCK */, 17n /* PACKET */, 38n /* ALG */, 31n /* BLUETOOTH */, 44n /* XDP */, 0n, 0xffffn]) {
          assert.equal(verdict(name, family, 1n, 0n), ERRNO_EAFNOSUPPORT, `${name} family ${family}`);
        }
        assert.equal(verdict(name, (1n << 32n) | 40n, 1n, 0n), ERRNO_EAFNOSUPPORT, 'high bits do not hide the family');
      }
    });

    it('allows personality(0) and the 0xffffffff query, refuses every other persona', () => {
      assert.equal(verdict('personality', 0n), ALLOW);
      assert.equal(verdict('personality', 0xffffffffn), ALLOW);
      assert.equal(verdict('personality', 0x0040000n), EPERM, 'ADDR_NO_RANDOMIZE');
      assert.equal(verdict('personality', 0x0008n), EPERM, 'PER_LINUX32');
      assert.equal(verdict('personality', (1n << 32n) | 0x0040000n), EPERM, 'high bits do not hide a persona');
    });

    it('refuses more calls named in extraDenied, and all uses of an argument-checked call', () => {
      assert.equal(verdict('socket', 2n), ALLOW);
      const stricter = filterFor(arch, { extraDenied: ['socket', 'clone', 'clone3'] });
      assert.equal(stricter.verdict('socket', 2n), EPERM);
      assert.equal(stricter.verdict('clone', SIGCHLD), EPERM);
      assert.equal(stricter.verdict('clone3'), EPERM);
      assert.equal(stricter.verdict('getpid'), ALLOW);
    });
  });
}

describe('seccomp filter options and checks', () => {
  it('refuses on x86_64 the x32 ABI, on the same AUDIT_ARCH, with EPERM', () => {
    const program = decodeProgram(seccompProgram({ arch: 'x64' }));
    for (const name of ['getpid', 'read']) {
      assert.equal(runSeccomp(program, { nr: 0x4000_0000 | syscallNumber('x64', name)!, arch: AUDIT_ARCH.x64 }), EPERM, `x32 ${name}`);
    }
    assert.equal(runSeccomp(program, { nr: 512, arch: AUDIT_ARCH.x64 }), ALLOW, 'a number without the x32 bit is not x32');
  });

  it('defaults to the host architecture', (t) => {
    if (process.arch !== 'x64' && process.arch !== 'arm64') {
      throwsCode(() => seccompProgram(), 'FO_SANDBOX_SECCOMP_INVALID');
      return t.skip(`no table for ${process.arch}`);
    }
    assert.deepEqual(seccompProgram(), seccompProgram({ arch: process.arch }));
    assert.notDeepEqual(seccompProgram({ arch: 'x64' }), seccompProgram({ arch: 'arm64' }));
  });

  it('accepts a name that exists only on the other architecture and filters nothing for it', () => {
    assert.equal(syscallNumber('arm64', 'fork'), undefined);
    assert.deepEqual(seccompProgram({ arch: 'arm64', extraDenied: ['fork'] }), seccompProgram({ arch: 'arm64' }));
    assert.notDeepEqual(seccompProgram({ arch: 'x64', extraDenied: ['fork'] }), seccompProgram({ arch: 'x64' }));
  });

  it('refuses unknown call names and architectures with FO_SANDBOX_SECCOMP_INVALID, listing each', () => {
    const error = throwsCode(() => seccompProgram({ arch: 'x64', extraDenied: ['ptrace', 'no_such_call', '__proto__', 'constructor'] }), 'FO_SANDBOX_SECCOMP_INVALID');
    assert.deepEqual(error.details['problems'], [
      'extraDenied: expected a system call name, found "no_such_call"',
      'extraDenied: expected a system call name, found "__proto__"',
      'extraDenied: expected a system call name, found "constructor"',
    ]);
    const arch = throwsCode(() => seccompProgram({ arch: 'ia32' as SeccompArch, extraDenied: [42 as unknown as string] }), 'FO_SANDBOX_SECCOMP_INVALID');
    assert.deepEqual(arch.details['problems'], ['arch: expected x64 or arm64, found "ia32"', 'extraDenied: expected a system call name, found 42']);
  });

  it('the test interpreter refuses a jump outside the program, a load outside seccomp_data and running off the end', () => {
    const ret = { code: BPF.RET_K, jt: 0, jf: 0, k: ALLOW };
    assert.throws(() => decodeProgram(encodeProgram([{ code: BPF.JEQ_K, jt: 0, jf: 1, k: 0 }, ret])), /jumps to 2, outside/);
    assert.throws(() => decodeProgram(encodeProgram([{ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: 64 }, ret])), /outside seccomp_data/);
    assert.throws(() => decodeProgram(encodeProgram([{ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: 0 }])), /instruction 0 jumps to 1, outside the 1 instructions/);
    assert.throws(() => decodeProgram(Buffer.alloc(12)), /multiple of 8/);
  });
});
