/**
 * A classic BPF interpreter for seccomp programs, for tests: it decodes the bytes the
 * filter generator emits, checks them the way the kernel's loader does (length, known
 * instructions, loads inside `struct seccomp_data`, every jump and every step past an
 * instruction that is not a return landing inside the program), and runs them on a
 * synthetic `seccomp_data`. It knows only the instructions the generator uses (absolute loads, jumps on constants, returns of a
 * constant) and refuses any other, so a program that starts using more fails its tests
 * until the interpreter learns it.
 */
import { BPF, BPF_MAXINSNS, SECCOMP_DATA, SOCK_FILTER_BYTES, type SockFilter } from '../seccomp-bpf.js';

/** The inputs of one call as the filter sees them. */
export interface SeccompCall {
  readonly nr: number;
  readonly arch: number;
  /** Up to six arguments, as unsigned 64-bit values; missing ones are 0. */
  readonly args?: readonly bigint[];
  readonly instructionPointer?: bigint;
}

/** Decodes a program and checks it as the kernel's loader would; throws on the first fault. */
export function decodeProgram(bytes: Uint8Array): SockFilter[] {
  if (bytes.length === 0 || bytes.length % SOCK_FILTER_BYTES !== 0) throw new Error(`program of ${bytes.length} bytes: expected a non-zero multiple of ${SOCK_FILTER_BYTES}`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: SockFilter[] = [];
  for (let at = 0; at < view.length; at += SOCK_FILTER_BYTES) {
    program.push({ code: view.readUInt16LE(at), jt: view.readUInt8(at + 2), jf: view.readUInt8(at + 3), k: view.readUInt32LE(at + 4) });
  }
  if (program.length > BPF_MAXINSNS) throw new Error(`program of ${program.length} instructions: the kernel takes at most ${BPF_MAXINSNS}`);
  program.forEach((instruction, pc) => {
    for (const target of jumpTargets(instruction, pc)) {
      if (target >= program.length) throw new Error(`instruction ${pc} jumps to ${target}, outside the ${program.length} instructions`);
    }
    if (instruction.code === BPF.LD_W_ABS && (instruction.k % 4 !== 0 || instruction.k >= SECCOMP_DATA.size)) throw new Error(`instruction ${pc} loads offset ${instruction.k}, outside seccomp_data`);
  });
  return program;
}

/** The instructions `instruction` at `pc` may continue at; throws on an instruction the interpreter does not know. */
export function jumpTargets(instruction: SockFilter, pc: number): number[] {
  const { code, jt, jf, k } = instruction;
  if (code === BPF.RET_K) return [];
  if (code === BPF.LD_W_ABS) return [pc + 1];
  if (code === BPF.JA) return [pc + 1 + k];
  if (code === BPF.JEQ_K || code === BPF.JGE_K || code === BPF.JSET_K) return [pc + 1 + jt, pc + 1 + jf];
  throw new Error(`instruction ${pc}: code 0x${code.toString(16)} is not one the interpreter knows`);
}

/** Runs `program` (checked by `decodeProgram`) on one call and returns the filter's 32-bit verdict. */
export function runSeccomp(program: readonly SockFilter[], call: SeccompCall): number {
  const data = Buffer.alloc(SECCOMP_DATA.size);
  data.writeInt32LE(call.nr, SECCOMP_DATA.nr);
  data.writeUInt32LE(call.arch >>> 0, SECCOMP_DATA.arch);
  data.writeBigUInt64LE(call.instructionPointer ?? 0n, SECCOMP_DATA.instructionPointer);
  (call.args ?? []).forEach((arg, index) => data.writeBigUInt64LE(BigInt.asUintN(64, arg), SECCOMP_DATA.args + 8 * index));
  let a = 0;
  for (let pc = 0; pc < program.length; ) {
    const instruction = program[pc]!;
    const { code, jt, jf, k } = instruction;
    if (code === BPF.RET_K) return k >>> 0;
    if (code === BPF.LD_W_ABS) a = data.readUInt32LE(k);
    const [taken, notTaken] = jumpTargets(instruction, pc);
    pc = notTaken === undefined ? taken! : holds(code, a, k) ? pc + 1 + jt : pc + 1 + jf;
  }
  throw new Error('the program ran off its end without returning');
}

/** Whether conditional jump `code` holds for accumulator `a` and constant `k` (unsigned 32-bit). */
function holds(code: number, a: number, k: number): boolean {
  if (code === BPF.JEQ_K) return a >>> 0 === k >>> 0;
  if (code === BPF.JGE_K) return a >>> 0 >= k >>> 0;
  return ((a & k) >>> 0) !== 0;
}
