/**
 * Classic BPF as seccomp reads it: the few instructions the filter uses, their encoding
 * as `struct sock_filter` (what bubblewrap's `--seccomp FD` and `SECCOMP_SET_MODE_FILTER`
 * take), and the layout of `struct seccomp_data` the program inspects. Kept apart from
 * the policy (seccomp.ts) so that the test interpreter decodes exactly what is emitted.
 */

/** One classic BPF instruction, `struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }`. */
export interface SockFilter {
  readonly code: number;
  /** Instructions to skip when a conditional jump holds (0 to 255). */
  readonly jt: number;
  /** Instructions to skip when it does not (0 to 255). */
  readonly jf: number;
  readonly k: number;
}

/** Size of one encoded instruction, in bytes. */
export const SOCK_FILTER_BYTES = 8;
/** The kernel refuses a filter longer than this (`BPF_MAXINSNS`), in instructions. */
export const BPF_MAXINSNS = 4096;

/** Instruction codes (`linux/bpf_common.h`): class | size | mode or class | op | source. */
export const BPF = {
  /** `A = *(u32 *)(seccomp_data + k)` (BPF_LD | BPF_W | BPF_ABS). */
  LD_W_ABS: 0x20,
  /** `pc += k` (BPF_JMP | BPF_JA). */
  JA: 0x05,
  /** `pc += (A == k) ? jt : jf` (BPF_JMP | BPF_JEQ | BPF_K). */
  JEQ_K: 0x15,
  /** `pc += (A >= k) ? jt : jf`, unsigned (BPF_JMP | BPF_JGE | BPF_K). */
  JGE_K: 0x35,
  /** `pc += (A & k) !== 0 ? jt : jf` (BPF_JMP | BPF_JSET | BPF_K). */
  JSET_K: 0x45,
  /** Return `k` as the filter's verdict (BPF_RET | BPF_K). */
  RET_K: 0x06,
} as const;

/** Offsets into `struct seccomp_data`, in bytes. */
export const SECCOMP_DATA = {
  /** `int nr`: the system call number. */
  nr: 0,
  /** `u32 arch`: the AUDIT_ARCH_* value of the calling convention. */
  arch: 4,
  /** `u64 instruction_pointer`. */
  instructionPointer: 8,
  /** `u64 args[6]` starts here; argument i is 8 bytes at 16 + 8 * i. */
  args: 16,
  /** Size of the structure; a load at or past it is refused by the kernel. */
  size: 64,
} as const;

/**
 * Offset of the low 32 bits of system call argument `index` (0 to 5). Both architectures
 * the filter supports are little-endian, so the low word comes first.
 */
export function argLow(index: number): number {
  return SECCOMP_DATA.args + 8 * index;
}

/** Verdicts (`linux/seccomp.h`); the low 16 bits (SECCOMP_RET_DATA) carry the errno. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x8000_0000,
  KILL_THREAD: 0x0000_0000,
  TRAP: 0x0003_0000,
  ERRNO: 0x0005_0000,
  TRACE: 0x7ff0_0000,
  LOG: 0x7ffc_0000,
  ALLOW: 0x7fff_0000,
  /** Mask of the action part of a verdict. */
  ACTION_FULL: 0xffff_0000,
  /** Mask of the data part (the errno for ERRNO). */
  DATA: 0x0000_ffff,
} as const;

/** `SECCOMP_RET_ERRNO | errno`: the call fails with `errno` without running. */
export function retErrno(errno: number): number {
  return (SECCOMP_RET.ERRNO | (errno & SECCOMP_RET.DATA)) >>> 0;
}

/** An instruction without a jump. */
export function stmt(code: number, k: number): SockFilter {
  return { code, jt: 0, jf: 0, k: k >>> 0 };
}

/** A conditional jump: skip `jt` instructions when the test holds, `jf` when not. */
export function jump(code: number, k: number, jt: number, jf: number): SockFilter {
  return { code, jt, jf, k: k >>> 0 };
}

/** Encodes a program as the kernel's array of `struct sock_filter`, little-endian (both supported architectures are). */
export function encodeProgram(program: readonly SockFilter[]): Buffer {
  const bytes = Buffer.alloc(program.length * SOCK_FILTER_BYTES);
  program.forEach((instruction, index) => {
    const at = index * SOCK_FILTER_BYTES;
    bytes.writeUInt16LE(instruction.code, at);
    bytes.writeUInt8(instruction.jt, at + 2);
    bytes.writeUInt8(instruction.jf, at + 3);
    bytes.writeUInt32LE(instruction.k, at + 4);
  });
  return bytes;
}
