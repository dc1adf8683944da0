import { BULK_MEMORY, BULK_TABLE, BULK_WIDE, RELOAD, SYNC, type Regions } from './instructions.js';
import { ForgeError } from '@forgeone/common';
import { checkLimit } from './limits.js';
import type { DecodedModule, FunctionBody, LocalGroup } from './model.js';
import { BULK_MEMORY_SHIFT, BULK_TABLE_UNITS, Op } from './opcodes.js';
import { unsupported } from './reader.js';
import { ByteWriter, ulebLength } from './writer.js';

/**
 * V8's limit on a function's locals, parameters included. A function already at the
 * limit gets the variant of the fuel checks that needs no local of its own.
 */
const ENGINE_MAX_LOCALS = 50_000;
/** V8's limit on a function body's size; a rewritten body past it is refused. */
const ENGINE_MAX_BODY_BYTES = 7_654_321;

/**
 * Rewrites function bodies to charge fuel, one body at a time as the decoder checks
 * them, copying everything between insertion points byte for byte. Every inserted
 * sequence is stack-neutral, so it is valid wherever an instruction may start
 * (including inside a loop that takes parameters), and uses one i64 local `$f`
 * appended to the body's declarations, so no existing local is renumbered.
 *
 * A function without loops charges its whole cost on entry, against the global:
 *
 *     global.get $fuel  i64.const cost  i64.sub  local.tee $f  global.set $fuel
 *     local.get $f  i64.const 0  i64.lt_s  if  unreachable  end
 *
 * A function with loops keeps the count in `$f`, where the engine can hold it in a
 * register across iterations: it loads the global on entry and charges the entry
 * region, each loop header charges `$f` (`local.get $f  i64.const cost  i64.sub
 * local.tee $f  i64.const 0  i64.lt_s  if  local.get $f  global.set $fuel  unreachable
 * end`), and `$f` is written back to the global before every call, tail call,
 * `return`, branch out of the function and the final `end`, and reloaded after every
 * call. So the global is exact whenever another function, the host, or a trap of ours
 * can observe it.
 *
 * A bulk operation (memory.fill/copy/init, table.fill/copy/init) is charged again by
 * its length, the i32 on top of the stack, right before it runs, through a scratch i32
 * local `$n` appended after `$f`: `local.tee $n`, then the usual charge with the cost
 * computed as `local.get $n  i64.extend_i32_u` and, for memory, `i64.const 2^s-1
 * i64.add  i64.const s  i64.shr_u` (ceil(len / 2^s)) or, for tables, `i64.const u
 * i64.mul` (u units per element). The operation never starts when the charge would
 * take the counter below zero.
 */
export class FuelRewriter {
  readonly #global: number;
  readonly #out: ByteWriter;
  readonly #spans: { locals: readonly LocalGroup[]; localCount: number; size: number; start: number; end: number; offset: number }[] = [];

  /**
   * @param globalIndex index of the fuel counter global in the instrumented module
   * @param sizeHint bytes of code expected, to size the output buffer
   */
  constructor(globalIndex: number, sizeHint: number) {
    this.#global = globalIndex;
    this.#out = new ByteWriter(Math.ceil(sizeHint * 1.25) + 1024);
  }

  /**
   * Rewrites one body, given the regions and events the decoder found in it.
   * @throws ForgeError FO_RUNTIME_FUNCTION_TOO_LARGE when the rewritten body would be
   *   larger than the engine accepts
   */
  rewrite(module: DecodedModule, index: number, body: FunctionBody, regions: Regions): void {
    const type = module.types[module.functions[index] as number];
    const local = (type?.params.length ?? 0) + body.localCount;
    const { costs, events } = regions;
    const functionIndex = () => module.imports.filter((i) => i.desc.kind === 'function').length + index;
    let bulk = false;
    for (let event = 1; event < events.length; event += 2) {
      const what = events[event] as number;
      if (what === BULK_WIDE) unsupported(events[event - 1] as number, 'memory64', 'a bulk memory or table operation with a 64-bit length, which fuel cannot charge');
      if (what === BULK_MEMORY || what === BULK_TABLE) bulk = true;
    }
    // $f (i64) when it fits under the engine's locals limit; $n (i32) after it when the
    // body has bulk operations, which cannot be charged without it.
    const free = ENGINE_MAX_LOCALS - local;
    if (bulk && free < 1) {
      throw new ForgeError('FO_RUNTIME_TOO_MANY_LOCALS', `function ${functionIndex()}: fuel metering of its bulk memory or table operations needs one more local than the engine's ${ENGINE_MAX_LOCALS} allow`, {
        details: { function: functionIndex(), actual: local + 1, limit: ENGINE_MAX_LOCALS },
      });
    }
    const hasLocal = free >= (bulk ? 2 : 1);
    const scratch = bulk ? local + (hasLocal ? 1 : 0) : -1;
    const inLocal = hasLocal && costs.length > 1;
    const out = this.#out;
    const global = this.#global;
    const code = body.code;
    const base = body.offset;
    const start = out.length;
    let copied = 0;
    for (let event = 0; event < events.length; event += 2) {
      const what = events[event + 1] as number;
      const cost = what >= 0 ? (costs[what] as number) : 0;
      const isBulk = what === BULK_MEMORY || what === BULK_TABLE;
      // Nothing to insert for a free region (except loading the local on entry), nor
      // for a sync or reload while the count lives in the global.
      if (!isBulk && (what >= 0 ? cost === 0 && !(what === 0 && inLocal) : !inLocal)) continue;
      const at = (events[event] as number) - base;
      if (at > copied) out.bytes(code.subarray(copied, at));
      copied = at;
      if (isBulk) {
        out.u8(Op.localTee).uleb(scratch);
        const charge = (): void => bulkCostCode(out, what === BULK_TABLE, scratch);
        if (inLocal) this.#chargeLocal(false, charge, local);
        else this.#chargeGlobal(charge, hasLocal ? local : -1);
      } else if (what === SYNC) out.u8(Op.localGet).uleb(local).u8(Op.globalSet).uleb(global);
      else if (what === RELOAD) out.u8(Op.globalGet).uleb(global).u8(Op.localSet).uleb(local);
      else if (inLocal) this.#chargeLocal(what === 0, cost, local);
      else this.#chargeGlobal(cost, hasLocal ? local : -1);
    }
    out.bytes(code.subarray(copied));
    const added: LocalGroup[] = [...(hasLocal ? [{ count: 1, type: 0x7e } as const] : []), ...(bulk ? [{ count: 1, type: 0x7f } as const] : [])];
    const locals: readonly LocalGroup[] = [...body.locals, ...added];
    const size = out.length - start + localsSize(locals);
    if (size > ENGINE_MAX_BODY_BYTES) {
      checkLimit('FO_RUNTIME_FUNCTION_TOO_LARGE', `size in bytes of function ${functionIndex()} with fuel checks`, size, ENGINE_MAX_BODY_BYTES, { function: functionIndex() });
    }
    this.#spans.push({ locals, localCount: body.localCount + added.length, size, start, end: out.length, offset: body.offset });
  }

  /** The rewritten bodies, in order. */
  finish(): FunctionBody[] {
    const bytes = this.#out.finish();
    return this.#spans.map((span) => ({ locals: span.locals, localCount: span.localCount, size: span.size, code: bytes.subarray(span.start, span.end), offset: span.offset }));
  }

  /**
   * Charges the global directly; `local` is a scratch i64 local, or -1 when there is
   * none. `cost` is a constant, or writes code that pushes the cost as an i64.
   */
  #chargeGlobal(cost: number | (() => void), local: number): void {
    const out = this.#out;
    const global = this.#global;
    out.u8(Op.globalGet).uleb(global);
    if (typeof cost === 'number') out.u8(Op.i64Const).sleb(cost);
    else cost();
    out.u8(Op.i64Sub);
    if (local >= 0) out.u8(Op.localTee).uleb(local).u8(Op.globalSet).uleb(global).u8(Op.localGet).uleb(local);
    else out.u8(Op.globalSet).uleb(global).u8(Op.globalGet).uleb(global);
    out.u8(Op.i64Const).u8(0).u8(Op.i64LtS).u8(Op.if).u8(0x40).u8(Op.unreachable).u8(Op.end);
  }

  /**
   * Charges the count held in `local`; on entry, loads it from the global first. `cost`
   * is a constant, or writes code that pushes the cost as an i64.
   */
  #chargeLocal(entry: boolean, cost: number | (() => void), local: number): void {
    const out = this.#out;
    const global = this.#global;
    if (entry) out.u8(Op.globalGet).uleb(global);
    else out.u8(Op.localGet).uleb(local);
    if (cost === 0) {
      out.u8(Op.localSet).uleb(local);
      return;
    }
    if (typeof cost === 'number') out.u8(Op.i64Const).sleb(cost);
    else cost();
    out.u8(Op.i64Sub).u8(Op.localTee).uleb(local);
    out.u8(Op.i64Const).u8(0).u8(Op.i64LtS).u8(Op.if).u8(0x40);
    out.u8(Op.localGet).uleb(local).u8(Op.globalSet).uleb(global).u8(Op.unreachable).u8(Op.end);
  }
}

/**
 * Writes code pushing the charge of a bulk operation whose length is in the i32 local
 * `scratch`, as an i64: ceil(len / 2^BULK_MEMORY_SHIFT) for memory, len *
 * BULK_TABLE_UNITS for tables. Neither can overflow: len < 2^32.
 */
function bulkCostCode(out: ByteWriter, table: boolean, scratch: number): void {
  out.u8(Op.localGet).uleb(scratch).u8(Op.i64ExtendI32U);
  if (table) out.u8(Op.i64Const).sleb(BULK_TABLE_UNITS).u8(Op.i64Mul);
  // ceil(len / 2^s); with s = 0, len itself.
  else if (BULK_MEMORY_SHIFT > 0) out.u8(Op.i64Const).sleb(2 ** BULK_MEMORY_SHIFT - 1).u8(Op.i64Add).u8(Op.i64Const).sleb(BULK_MEMORY_SHIFT).u8(Op.i64ShrU);
}

function localsSize(locals: readonly LocalGroup[]): number {
  let size = ulebLength(locals.length);
  for (const group of locals) size += ulebLength(group.count) + 1;
  return size;
}
