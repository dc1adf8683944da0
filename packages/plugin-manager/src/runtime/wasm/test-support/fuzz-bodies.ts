/**
 * A fast-check generator of small valid modules, written as bytes (no wat2wasm), with a
 * reference interpreter that gives each module's result and the fuel the documented
 * scheme charges (docs/runtime.md "Fuel: what is charged"): i32 arithmetic, locals,
 * blocks with results, loops with bounded trip counts, br_if out of blocks, calls to
 * functions with lower indices, and host calls anywhere (loops included) to the one
 * import, `host.id`, which returns its argument and costs HOST_CALL_FUEL besides its
 * `call` (give it {@link HOST_IMPORTS} through HostCallFuel). Every function is
 * `(param i32) (result i32)`; the last one is exported as `main`. Modules always
 * terminate and never trap.
 */
import fc from 'fast-check';
import { HOST_CALL_FUEL } from '../../../abi/index.js';
import { HEADER, body, name, section, sleb, uleb, vec } from './binary.js';

/** An expression leaving one i32. */
export type Expr =
  | { readonly k: 'const'; readonly v: number }
  | { readonly k: 'get'; readonly i: number }
  | { readonly k: 'bin'; readonly op: number; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'tee'; readonly i: number; readonly e: Expr }
  | { readonly k: 'call'; readonly f: number; readonly e: Expr }
  | { readonly k: 'host'; readonly e: Expr }
  | { readonly k: 'block'; readonly body: readonly Stmt[]; readonly e: Expr };
/** A statement leaving the stack as it found it. */
export type Stmt =
  | { readonly k: 'set'; readonly i: number; readonly e: Expr }
  | { readonly k: 'loop'; readonly n: number; readonly body: readonly Stmt[] }
  | { readonly k: 'brif'; readonly target: number; readonly value: Expr; readonly cond: Expr };
/** One function: its body is the statements then the result expression. */
export interface Func {
  readonly body: readonly Stmt[];
  readonly result: Expr;
}

/** i32 binary operators: opcode -> semantics. */
const BINOPS: Readonly<Record<number, (a: number, b: number) => number>> = {
  0x6a: (a, b) => (a + b) | 0,
  0x6b: (a, b) => (a - b) | 0,
  0x6c: (a, b) => Math.imul(a, b),
  0x71: (a, b) => a & b,
  0x72: (a, b) => a | b,
  0x73: (a, b) => a ^ b,
  0x74: (a, b) => a << (b & 31),
  0x76: (a, b) => (a >>> (b & 31)) | 0,
  0x77: (a, b) => ((a << (b & 31)) | (a >>> ((32 - (b & 31)) & 31))) | 0,
  0x46: (a, b) => (a === b ? 1 : 0),
  0x48: (a, b) => (a < b ? 1 : 0),
};

/** The locals a body may name: 0 is the parameter, 1 and 2 are scratch; loop counters follow. */
const SCRATCH = 3;
const MAX_LOOP_DEPTH = 2;

const tree = fc.letrec<{ expr: Expr; stmt: Stmt }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', maxDepth: 4, depthIdentifier: 'wasm-ast' },
    fc.record({ k: fc.constant('const' as const), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
    fc.record({ k: fc.constant('get' as const), i: fc.nat(SCRATCH - 1) }),
    fc.record({ k: fc.constant('bin' as const), op: fc.constantFrom(...Object.keys(BINOPS).map(Number)), a: tie('expr'), b: tie('expr') }),
    fc.record({ k: fc.constant('tee' as const), i: fc.integer({ min: 1, max: SCRATCH - 1 }), e: tie('expr') }),
    fc.record({ k: fc.constant('call' as const), f: fc.nat(7), e: tie('expr') }),
    fc.record({ k: fc.constant('host' as const), e: tie('expr') }),
    fc.record({ k: fc.constant('block' as const), body: fc.array(tie('stmt'), { maxLength: 3 }), e: tie('expr') }),
  ),
  stmt: fc.oneof(
    { depthSize: 'small', maxDepth: 4, depthIdentifier: 'wasm-ast' },
    fc.record({ k: fc.constant('set' as const), i: fc.integer({ min: 1, max: SCRATCH - 1 }), e: tie('expr') }),
    fc.record({ k: fc.constant('loop' as const), n: fc.integer({ min: 1, max: 4 }), body: fc.array(tie('stmt'), { maxLength: 3 }) }),
    fc.record({ k: fc.constant('brif' as const), target: fc.nat(3), value: tie('expr'), cond: tie('expr') }),
  ),
}));

/** 1 to 4 functions. */
export const funcs: fc.Arbitrary<Func[]> = fc.array(fc.record({ body: fc.array(tree.stmt, { maxLength: 4 }), result: tree.expr }), { minLength: 1, maxLength: 4 });

/** Where code is: the function's index, the labels around it, the loops around it. */
interface Where {
  readonly index: number;
  /** Enclosing labels, innermost last: 'v' a block with an i32 result, 'l' a loop. */
  readonly labels: readonly ('v' | 'l')[];
  readonly loops: number;
}

/**
 * Decisions both the encoder and the interpreter take the same way: a call is made only
 * outside loops and to a lower index (else the argument stands alone); a br_if targets
 * the `target`-th enclosing result block counted outwards (none: value and condition
 * are combined with i32.and into local 1); loops past depth 2 run their body once.
 */
function callee(expr: Extract<Expr, { k: 'call' }>, at: Where): number | undefined {
  return at.index === 0 || at.loops > 0 ? undefined : expr.f % at.index;
}
function branchDepth(stmt: Extract<Stmt, { k: 'brif' }>, at: Where): number | undefined {
  const blocks = at.labels.flatMap((label, position) => (label === 'v' ? [position] : []));
  if (blocks.length === 0) return undefined;
  const position = blocks[blocks.length - 1 - (stmt.target % blocks.length)] ?? 0;
  return at.labels.length - 1 - position;
}

/** Encodes a function body (without locals); `counters` collects the loop counter locals it needs. */
function encodeExpr(expr: Expr, at: Where, out: number[], counters: { n: number }): void {
  switch (expr.k) {
    case 'const':
      out.push(0x41, ...sleb(expr.v));
      return;
    case 'get':
      out.push(0x20, expr.i);
      return;
    case 'bin':
      encodeExpr(expr.a, at, out, counters);
      encodeExpr(expr.b, at, out, counters);
      out.push(expr.op);
      return;
    case 'tee':
      encodeExpr(expr.e, at, out, counters);
      out.push(0x22, expr.i);
      return;
    case 'call': {
      encodeExpr(expr.e, at, out, counters);
      const target = callee(expr, at);
      // Defined functions follow the one import.
      if (target !== undefined) out.push(0x10, ...uleb(target + 1));
      return;
    }
    case 'host':
      encodeExpr(expr.e, at, out, counters);
      out.push(0x10, 0x00);
      return;
    case 'block': {
      out.push(0x02, 0x7f);
      const inner = { ...at, labels: [...at.labels, 'v' as const] };
      for (const stmt of expr.body) encodeStmt(stmt, inner, out, counters);
      encodeExpr(expr.e, inner, out, counters);
      out.push(0x0b);
    }
  }
}

function encodeStmt(stmt: Stmt, at: Where, out: number[], counters: { n: number }): void {
  switch (stmt.k) {
    case 'set':
      encodeExpr(stmt.e, at, out, counters);
      out.push(0x21, stmt.i);
      return;
    case 'brif': {
      encodeExpr(stmt.value, at, out, counters);
      encodeExpr(stmt.cond, at, out, counters);
      const depth = branchDepth(stmt, at);
      if (depth === undefined) out.push(0x71, 0x21, 1);
      else out.push(0x0d, ...uleb(depth), 0x1a);
      return;
    }
    case 'loop': {
      if (at.loops >= MAX_LOOP_DEPTH) {
        for (const inner of stmt.body) encodeStmt(inner, at, out, counters);
        return;
      }
      const counter = SCRATCH + counters.n;
      counters.n += 1;
      out.push(0x41, ...sleb(stmt.n), 0x21, counter, 0x03, 0x40);
      const inner = { ...at, labels: [...at.labels, 'l' as const], loops: at.loops + 1 };
      for (const s of stmt.body) encodeStmt(s, inner, out, counters);
      out.push(0x20, counter, 0x41, 1, 0x6b, 0x22, counter, 0x0d, 0, 0x0b);
    }
  }
}

/** The module's bytes. */
export function encodeFuncs(list: readonly Func[]): Uint8Array {
  const bodies = list.map((func, index) => {
    const out: number[] = [];
    const counters = { n: 0 };
    const at: Where = { index, labels: [], loops: 0 };
    for (const stmt of func.body) encodeStmt(stmt, at, out, counters);
    encodeExpr(func.result, at, out, counters);
    out.push(0x0b);
    return body([[SCRATCH - 1 + counters.n, 0x7f]], out);
  });
  return Uint8Array.from([
    ...HEADER,
    ...section(1, vec([[0x60, 0x01, 0x7f, 0x01, 0x7f]])),
    ...section(2, vec([[...name('host'), ...name('id'), 0x00, 0x00]])),
    ...section(3, vec(list.map(() => [0x00]))),
    ...section(7, vec([[...name('main'), 0x00, ...uleb(list.length)]])),
    ...section(10, vec(bodies)),
  ]);
}

/** The generated modules' one import: `host.id` returns its argument. */
export const HOST_IMPORTS = { host: { id: (value: number): number => value } } as const;

/** A br_if taken: unwinds the interpreter to the block `depth` labels out, carrying the block's value. */
class Branch extends Error {
  constructor(
    readonly depth: number,
    readonly value: number,
  ) {
    super(`branch ${depth}`);
  }
}

/** What a run does: its result, the instructions that cost fuel it executed, and what the scheme charges. */
export interface Run {
  result: number;
  executed: number;
  charged: number;
}

/** The cost of the region a statement list opens: costly instructions outside nested loops. */
function regionCost(stmts: readonly Stmt[], result: Expr | undefined, at: Where): number {
  const bytes: number[] = [];
  const counters = { n: 0 };
  // Encode, then count: a nested loop's body is not part of this region, its setup is.
  for (const stmt of stmts) encodeStmt(stmt, at, bytes, counters);
  if (result !== undefined) encodeExpr(result, at, bytes, counters);
  return costOutsideLoops(bytes);
}

/** Costly instructions of an encoded sequence, skipping loop bodies (each its own region). */
function costOutsideLoops(bytes: readonly number[]): number {
  let cost = 0;
  let loopDepth = 0;
  const blocks: ('b' | 'l')[] = [];
  for (let at = 0; at < bytes.length; ) {
    const op = bytes[at] ?? 0;
    at += 1;
    const free = op === 0x02 || op === 0x03 || op === 0x0b || op === 0x1a;
    if (!free && loopDepth === 0) cost += 1;
    if (op === 0x02 || op === 0x03) {
      at += 1; // block type
      blocks.push(op === 0x03 ? 'l' : 'b');
      if (op === 0x03) loopDepth += 1;
    } else if (op === 0x0b) {
      if (blocks.pop() === 'l') loopDepth -= 1;
    } else if (op === 0x41) {
      while (((bytes[at] ?? 0) & 0x80) !== 0) at += 1;
      at += 1;
    } else if (op === 0x20 || op === 0x21 || op === 0x22 || op === 0x0d || op === 0x10) {
      while (((bytes[at] ?? 0) & 0x80) !== 0) at += 1;
      at += 1;
    }
  }
  return cost;
}

/** Interprets `main(arg)` the way the spec does, counting fuel both ways. */
export function interpret(list: readonly Func[], arg: number): Run {
  const run: Run = { result: 0, executed: 0, charged: 0 };
  const call = (index: number, param: number): number => {
    const func = list[index];
    if (func === undefined) throw new Error(`no function ${index}`);
    const locals = new Int32Array(SCRATCH + 8);
    locals[0] = param;
    const top: Where = { index, labels: [], loops: 0 };
    run.charged += regionCost(func.body, func.result, top);
    const expr = (e: Expr, at: Where): number => {
      switch (e.k) {
        case 'const':
          run.executed += 1;
          return e.v;
        case 'get':
          run.executed += 1;
          return locals[e.i] ?? 0;
        case 'bin': {
          const a = expr(e.a, at);
          const b = expr(e.b, at);
          run.executed += 1;
          return (BINOPS[e.op] ?? (() => 0))(a, b);
        }
        case 'tee': {
          const value = expr(e.e, at);
          run.executed += 1;
          locals[e.i] = value;
          return value;
        }
        case 'call': {
          const value = expr(e.e, at);
          const target = callee(e, at);
          if (target === undefined) return value;
          run.executed += 1;
          return call(target, value);
        }
        case 'host': {
          const value = expr(e.e, at);
          run.executed += 1;
          // The call instruction is in its region's cost; the host call's price is charged when it is made.
          run.charged += Number(HOST_CALL_FUEL);
          return value;
        }
        case 'block': {
          const inner = { ...at, labels: [...at.labels, 'v' as const] };
          try {
            for (const s of e.body) stmt(s, inner);
            return expr(e.e, inner);
          } catch (branch) {
            if (branch instanceof Branch && branch.depth === 0) return branch.value;
            if (branch instanceof Branch) throw new Branch(branch.depth - 1, branch.value);
            throw branch;
          }
        }
      }
    };
    const stmt = (s: Stmt, at: Where): void => {
      switch (s.k) {
        case 'set':
          locals[s.i] = expr(s.e, at);
          run.executed += 1;
          return;
        case 'brif': {
          const value = expr(s.value, at);
          const cond = expr(s.cond, at);
          const depth = branchDepth(s, at);
          run.executed += 1; // i32.and or br_if
          if (depth === undefined) {
            run.executed += 1; // local.set 1
            locals[1] = value & cond;
          } else if (cond !== 0) throw new Branch(depth, value);
          return;
        }
        case 'loop': {
          if (at.loops >= MAX_LOOP_DEPTH) {
            for (const inner of s.body) stmt(inner, at);
            return;
          }
          // The counter is a local of its own that nothing else reads: a JS variable will do.
          let counter = s.n;
          run.executed += 2;
          const inner: Where = { ...at, labels: [...at.labels, 'l' as const], loops: at.loops + 1 };
          const cost = 5 + regionCost(s.body, undefined, inner);
          do {
            run.charged += cost;
            try {
              for (const bodyStmt of s.body) stmt(bodyStmt, inner);
            } catch (branch) {
              if (branch instanceof Branch) throw new Branch(branch.depth - 1, branch.value);
              throw branch;
            }
            run.executed += 5;
            counter -= 1;
          } while (counter !== 0);
        }
      }
    };
    for (const s of func.body) stmt(s, top);
    return expr(func.result, top);
  };
  run.result = call(list.length - 1, arg);
  return run;
}
