import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { decodeModule } from './decode.js';
import { IMM_FC, IMM_FD, IMM_FE, IMM_PLAIN, Imm } from './opcodes.js';
import { body, moduleOf, section, uleb, vec } from './test-support/binary.js';
import { disassembleWasm } from '../../test-support/wat.js';

/** Canonical immediates for each immediate shape. */
const IMMEDIATES: Readonly<Record<number, readonly number[]>> = {
  [Imm.none]: [],
  [Imm.label]: [0x00],
  [Imm.brTable]: [0x01, 0x00, 0x00],
  [Imm.func]: [0x00],
  [Imm.callIndirect]: [0x00, 0x00],
  [Imm.local]: [0x00],
  [Imm.global]: [0x00],
  [Imm.table]: [0x00],
  [Imm.memarg]: [0x00, 0x00],
  [Imm.memory]: [0x00],
  [Imm.i32]: [0x00],
  [Imm.i64]: [0x00],
  [Imm.f32]: [0, 0, 0, 0],
  [Imm.f64]: [0, 0, 0, 0, 0, 0, 0, 0],
  [Imm.selectTyped]: [0x01, 0x7f],
  [Imm.heapType]: [0x70],
  [Imm.memargLane]: [0x00, 0x00, 0x00],
  [Imm.lane]: [0x00],
  [Imm.bytes16]: new Array<number>(16).fill(0),
  [Imm.dataMemory]: [0x00, 0x00],
  [Imm.data]: [0x00],
  [Imm.memoryMemory]: [0x00, 0x00],
  [Imm.elemTable]: [0x00, 0x00],
  [Imm.elem]: [0x00],
  [Imm.tableTable]: [0x00, 0x00],
  [Imm.fence]: [0x00],
};

/**
 * A module whose one function holds `instruction` then `nop`, with one of everything
 * an instruction may name (type, function, table, memory, global, local, element and
 * data segment), so that only the decoding of the instruction itself is in question.
 */
function moduleWith(instruction: readonly number[]): Uint8Array {
  return moduleOf(
    section(1, vec([[0x60, 0x00, 0x00]])),
    section(3, vec([[0x00]])),
    section(4, vec([[0x70, 0x00, 0x01]])),
    section(5, vec([[0x00, 0x01]])),
    section(6, vec([[0x7f, 0x01, 0x41, 0x00, 0x0b]])),
    section(9, vec([[0x01, 0x00, ...vec([[0x00]])]])),
    section(12, uleb(1)),
    section(10, vec([body([[1, 0x7f]], [...instruction, 0x01, 0x0b])])),
    section(11, vec([[0x01, ...vec([[0x2a]])]])),
  );
}

/** The instructions wabt reads in the module's function, one per line. */
async function wabtInstructions(bytes: Uint8Array): Promise<string[]> {
  const text = await disassembleWasm(bytes);
  const lines = text.split('\n').map((line) => line.trim());
  const start = lines.findIndex((line) => line.startsWith('(func'));
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('(local')) continue;
    if (line.startsWith('(') || line === ')') break;
    out.push(line.replace(/\)+$/, ''));
  }
  return out;
}

function cases(): { label: string; instruction: number[]; known: boolean }[] {
  const out: { label: string; instruction: number[]; known: boolean }[] = [];
  for (let op = 0; op < 256; op += 1) {
    if ([0x02, 0x03, 0x04, 0x05, 0x0b, 0xfc, 0xfd, 0xfe].includes(op)) continue; // blocks and prefixes
    const imm = IMM_PLAIN[op] as number;
    if (imm === Imm.unknown) continue; // refused; covered by the decoder's own tests
    out.push({ label: `0x${op.toString(16)}`, instruction: [op, ...(IMMEDIATES[imm] ?? [])], known: true });
  }
  const prefixed: [number, Uint8Array, number][] = [
    [0xfc, IMM_FC, 0x20],
    [0xfd, IMM_FD, 0x120],
    [0xfe, IMM_FE, 0x50],
  ];
  for (const [prefix, table, upTo] of prefixed) {
    for (let sub = 0; sub < upTo; sub += 1) {
      const imm = table[sub];
      const known = imm !== undefined && imm !== Imm.unknown;
      out.push({ label: `0x${prefix.toString(16)} ${sub}`, instruction: [prefix, ...uleb(sub), ...(known ? (IMMEDIATES[imm] ?? []) : [])], known });
    }
  }
  return out;
}

describe('the opcode tables agree with wabt', () => {
  it('decodes every known instruction to the same length as wabt, and refuses every unknown sub-opcode that wabt refuses', async () => {
    const disagreements: string[] = [];
    for (const { label, instruction, known } of cases()) {
      const bytes = moduleWith(instruction);
      const ours = (() => {
        try {
          decodeModule(bytes);
          return 'ok';
        } catch (error) {
          return ForgeError.is(error) ? error.code : String(error);
        }
      })();
      let theirs: string[];
      try {
        theirs = await wabtInstructions(bytes);
      } catch {
        theirs = [];
      }
      if (known) {
        // wabt reads exactly our instruction, then the nop: so the lengths agree.
        if (ours !== 'ok' || theirs.length !== 2 || theirs[1] !== 'nop') disagreements.push(`${label}: ours ${ours}, wabt [${theirs.join(' | ')}]`);
      } else if (ours !== 'FO_RUNTIME_MALFORMED_MODULE' || theirs.length === 2) {
        disagreements.push(`${label} (unknown to us): ours ${ours}, wabt [${theirs.join(' | ')}]`);
      }
    }
    assert.deepEqual(disagreements, []);
  });

  it('knows 180 one-byte opcodes besides blocks and prefixes, 18 under 0xfc, 256 SIMD less 20 gaps plus 20 relaxed, 67 atomics', () => {
    const count = (table: Uint8Array) => table.filter((imm) => imm !== Imm.unknown).length;
    assert.equal(count(IMM_FC), 18);
    assert.equal(count(IMM_FD), 256 - 20 + 20);
    assert.equal(count(IMM_FE), 4 + 0x3f);
    // control 2 + 8, parametric 3, variables 7, memory 29, numeric 128, reference 3
    assert.equal(count(IMM_PLAIN), 180);
  });
});
