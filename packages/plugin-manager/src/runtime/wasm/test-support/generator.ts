import { Random } from './random.js';

/**
 * Generates random valid modules in WebAssembly text, deterministically from a seed,
 * for property tests of the decoder, encoder and instrumentation. Every module
 * terminates and never traps: loops count down from small constants, helpers only call
 * helpers with lower indices (directly or through the table), divisions use non-zero
 * divisors that cannot overflow, memory addresses are masked into the first page, bulk
 * memory and table operations stay in bounds (lengths up to 511 bytes or 7 elements), and
 * floats reach integers only through saturating truncation (no NaN bit patterns leak).
 *
 * The module exports `main (param i32) (result i64)`, which runs every helper and folds
 * their results, the globals and a checksum of memory into one i64.
 */

type Ty = 'i32' | 'i64' | 'f32' | 'f64';

interface FnContext {
  readonly rng: Random;
  /** Index of the function being generated; it may call helpers below it. */
  readonly index: number;
  readonly locals: Map<Ty, string[]>;
  /** Labels of enclosing blocks a branch may leave. */
  readonly blocks: string[];
  fresh: number;
  budget: number;
  /** Loops around the current point; calls are only made outside loops, at most two per function. */
  loops: number;
  calls: number;
  /** Extra i32 locals (loop counters) the function must declare. */
  readonly counters: string[];
}

/** True when a call may be generated here (keeps the call tree small). */
function mayCall(c: FnContext): boolean {
  if (c.index === 0 || c.loops > 0 || c.calls >= 2) return false;
  c.calls += 1;
  return true;
}

const GLOBALS: Record<Ty, string> = { i32: '$g32', i64: '$g64', f32: '$gf32', f64: '$gf64' };

function constant(rng: Random, type: Ty): string {
  switch (type) {
    case 'i32':
      return `(i32.const ${rng.i32()})`;
    case 'i64':
      return `(i64.const ${BigInt(rng.i32()) * BigInt(rng.range(1, 100_003))})`;
    case 'f32':
      return `(f32.const ${(rng.next() * 2000 - 1000).toFixed(3)})`;
    case 'f64':
      return `(f64.const ${(rng.next() * 2e6 - 1e6).toFixed(6)})`;
  }
}

/** An in-bounds address: masked into [0, 0x7ff8], leaving room for offsets up to 256 and 16-byte accesses. */
function address(c: FnContext): string {
  return `(i32.and ${expr(c, 'i32')} (i32.const 0x7ff0))`;
}

function toI32(c: FnContext, type: Ty): string {
  const e = expr(c, type);
  switch (type) {
    case 'i32':
      return e;
    case 'i64':
      return `(i32.wrap_i64 ${e})`;
    case 'f32':
      return c.rng.pick([`(i32.trunc_sat_f32_s ${e})`, `(i32.trunc_sat_f32_u ${e})`]);
    case 'f64':
      return c.rng.pick([`(i32.trunc_sat_f64_s ${e})`, `(i32.trunc_sat_f64_u ${e})`]);
  }
}

function expr(c: FnContext, type: Ty): string {
  const { rng } = c;
  c.budget -= 1;
  if (c.budget <= 0 || rng.chance(0.25)) {
    const locals = c.locals.get(type) ?? [];
    if (locals.length > 0 && rng.chance(0.6)) return `(local.get ${rng.pick(locals)})`;
    if (rng.chance(0.3)) return `(global.get ${GLOBALS[type]})`;
    return constant(rng, type);
  }
  return type === 'i32' ? exprI32(c) : type === 'i64' ? exprI64(c) : exprFloat(c, type);
}

function exprI32(c: FnContext): string {
  const { rng } = c;
  switch (rng.int(16)) {
    case 0:
      return `(i32.${rng.pick(['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'])} ${expr(c, 'i32')} ${expr(c, 'i32')})`;
    case 1:
      return `(i32.${rng.pick(['div_u', 'rem_u'])} ${expr(c, 'i32')} (i32.or ${expr(c, 'i32')} (i32.const 1)))`;
    case 2:
      return `(i32.${rng.pick(['div_s', 'rem_s'])} ${expr(c, 'i32')} (i32.or (i32.and ${expr(c, 'i32')} (i32.const 0xffff)) (i32.const 1)))`;
    case 3:
      return `(i32.${rng.pick(['clz', 'ctz', 'popcnt', 'eqz', 'extend8_s', 'extend16_s'])} ${expr(c, 'i32')})`;
    case 4: {
      const type = rng.pick<Ty>(['i32', 'i64']);
      return `(${type}.${rng.pick(['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'ge_u', 'le_s'])} ${expr(c, type)} ${expr(c, type)})`;
    }
    case 5: {
      const type = rng.pick<Ty>(['f32', 'f64']);
      return `(${type}.${rng.pick(['eq', 'ne', 'lt', 'gt', 'le', 'ge'])} ${expr(c, type)} ${expr(c, type)})`;
    }
    case 6:
      return toI32(c, rng.pick<Ty>(['i64', 'f32', 'f64']));
    case 7:
      return `(i32.${rng.pick(['load', 'load8_s', 'load8_u', 'load16_s', 'load16_u'])} offset=${rng.int(256)} ${address(c)})`;
    case 8:
      return `(select ${expr(c, 'i32')} ${expr(c, 'i32')} ${expr(c, 'i32')})`;
    case 9:
      if (mayCall(c)) return `(call $f${rng.int(c.index)} ${expr(c, 'i32')} ${expr(c, 'i32')})`;
      return `(memory.size)`;
    case 10:
      if (mayCall(c)) return `(call_indirect (type $helper) ${expr(c, 'i32')} ${expr(c, 'i32')} (i32.rem_u ${expr(c, 'i32')} (i32.const ${c.index})))`;
      return constant(rng, 'i32');
    case 11: // a multi-value block, its two results folded into one
      return `(block (result i32) (block (result i32 i64) ${expr(c, 'i32')} ${expr(c, 'i64')}) (i32.wrap_i64) (i32.xor))`;
    case 12:
      return `(if (result i32) ${expr(c, 'i32')} (then ${expr(c, 'i32')}) (else ${expr(c, 'i32')}))`;
    case 13: // SIMD, reduced to a lane
      return `(i32x4.extract_lane ${rng.int(4)} (i32x4.${rng.pick(['add', 'sub', 'mul', 'min_s', 'max_u'])} (i32x4.splat ${expr(c, 'i32')}) (v128.load offset=${rng.int(64)} ${address(c)})))`;
    case 14:
      return `(i8x16.extract_lane_u ${rng.int(16)} (i8x16.shuffle ${Array.from({ length: 16 }, () => rng.int(32)).join(' ')} (i32x4.splat ${expr(c, 'i32')}) (v128.load ${address(c)})))`;
    default:
      return `(i32.extend16_s ${expr(c, 'i32')})`;
  }
}

function exprI64(c: FnContext): string {
  const { rng } = c;
  switch (rng.int(8)) {
    case 0:
      return `(i64.${rng.pick(['add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'])} ${expr(c, 'i64')} ${expr(c, 'i64')})`;
    case 1:
      return `(i64.${rng.pick(['div_u', 'rem_u'])} ${expr(c, 'i64')} (i64.or ${expr(c, 'i64')} (i64.const 1)))`;
    case 2:
      return `(i64.${rng.pick(['extend_i32_s', 'extend_i32_u'])} ${expr(c, 'i32')})`;
    case 3:
      return `(i64.${rng.pick(['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'])} ${expr(c, 'i64')})`;
    case 4: {
      const from = rng.pick<Ty>(['f32', 'f64']);
      return `(i64.trunc_sat_${from}_${rng.pick(['s', 'u'])} ${expr(c, from)})`;
    }
    case 5:
      return `(i64.load offset=${rng.int(256)} ${address(c)})`;
    case 6:
      return `(i64x2.extract_lane ${rng.int(2)} (i64x2.add (i64x2.splat ${expr(c, 'i64')}) (v128.load ${address(c)})))`;
    default:
      return `(select ${expr(c, 'i64')} ${expr(c, 'i64')} ${expr(c, 'i32')})`;
  }
}

function exprFloat(c: FnContext, type: 'f32' | 'f64'): string {
  const { rng } = c;
  const other = type === 'f32' ? 'f64' : 'f32';
  switch (rng.int(6)) {
    case 0:
      return `(${type}.${rng.pick(['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'])} ${expr(c, type)} ${expr(c, type)})`;
    case 1:
      return `(${type}.${rng.pick(['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'])} ${expr(c, type)})`;
    case 2:
      return `(${type}.${rng.pick(['convert_i32_s', 'convert_i32_u'])} ${expr(c, 'i32')})`;
    case 3:
      return `(${type}.${type === 'f32' ? 'demote_f64' : 'promote_f32'} ${expr(c, other)})`;
    case 4:
      return `(${type}.load offset=${rng.int(256)} ${address(c)})`;
    default:
      return `(${type}.convert_i64_s ${expr(c, 'i64')})`;
  }
}

function statement(c: FnContext, depth: number): string {
  const { rng } = c;
  const all = [...c.locals.entries()].flatMap(([type, names]) => names.map((n) => [type, n] as const));
  switch (rng.int(depth > 2 ? 5 : 10)) {
    case 0:
    case 1: {
      const [type, local] = rng.pick(all);
      return `(local.set ${local} ${expr(c, type)})`;
    }
    case 2: {
      const type = rng.pick<Ty>(['i32', 'i64', 'f32', 'f64']);
      return `(global.set ${GLOBALS[type]} ${expr(c, type)})`;
    }
    case 3: {
      const type = rng.pick<Ty>(['i32', 'i64', 'f32', 'f64']);
      const op = type === 'i32' ? rng.pick(['store', 'store8', 'store16']) : type === 'i64' ? rng.pick(['store', 'store32']) : 'store';
      return `(${type}.${op} offset=${rng.int(256)} ${address(c)} ${expr(c, type)})`;
    }
    case 4:
      return bulk(c);
    case 5: {
      // A loop counting down from a small constant, with an optional early exit.
      const counter = `$n${c.fresh++}`;
      const label = `$L${c.fresh++}`;
      const exit = `$X${c.fresh++}`;
      // The counter is declared but never offered to other statements, so nothing else
      // writes it and the loop runs at most its initial count of times.
      c.counters.push(counter);
      c.blocks.push(exit);
      c.loops += 1;
      const inner = statements(c, depth + 1, rng.range(1, 3));
      c.loops -= 1;
      const escape = rng.chance(0.3) ? `(br_if ${exit} (i32.eq (local.get ${counter}) (i32.const ${rng.range(1, 3)})))` : '';
      c.blocks.pop();
      return `(local.set ${counter} (i32.const ${rng.range(1, 12)})) (block ${exit} (loop ${label} ${inner} ${escape} (br_if ${label} (local.tee ${counter} (i32.sub (local.get ${counter}) (i32.const 1))))))`;
    }
    case 6: {
      const outer = `$B${c.fresh++}`;
      const middle = `$B${c.fresh++}`;
      c.blocks.push(outer, middle);
      const body = statements(c, depth + 1, rng.range(1, 2));
      c.blocks.pop();
      const after = statements(c, depth + 1, 1);
      c.blocks.pop();
      return `(block ${outer} (block ${middle} (br_table ${middle} ${outer} ${middle} (i32.and ${expr(c, 'i32')} (i32.const 3))) ${body}) ${after})`;
    }
    case 7:
      return `(if ${expr(c, 'i32')} (then ${statements(c, depth + 1, rng.range(1, 2))}) (else ${statements(c, depth + 1, 1)}))`;
    case 8:
      if (c.blocks.length > 0) return `(br_if ${rng.pick(c.blocks)} ${expr(c, 'i32')})`;
      return `(drop ${expr(c, 'i64')})`;
    default: {
      const local = rng.pick(c.locals.get('i32') ?? ['$p0']);
      return `(local.set ${local} (i32.add (local.get ${local}) (memory.grow (i32.const ${rng.int(2)}))))`;
    }
  }
}

/**
 * A bulk memory or table operation, in bounds: lengths are constants or masked
 * expressions, so fuel is charged for lengths only known at run time too. Table
 * operations work on `$bulk`, which no call_indirect uses.
 */
function bulk(c: FnContext): string {
  const { rng } = c;
  const small = (mask: number) => (rng.chance(0.5) ? `(i32.const ${rng.int(mask + 1)})` : `(i32.and ${expr(c, 'i32')} (i32.const ${mask}))`);
  switch (rng.int(6)) {
    case 0:
      return `(memory.fill (i32.and ${expr(c, 'i32')} (i32.const 0x3ff0)) ${expr(c, 'i32')} ${rng.chance(0.5) ? `(i32.const ${rng.int(512)})` : `(i32.and ${expr(c, 'i32')} (i32.const 511))`})`;
    case 1:
      return `(memory.copy (i32.and ${expr(c, 'i32')} (i32.const 0x3ff0)) (i32.and ${expr(c, 'i32')} (i32.const 0x3ff0)) ${rng.chance(0.5) ? `(i32.const ${rng.int(512)})` : `(i32.and ${expr(c, 'i32')} (i32.const 511))`})`;
    case 2: // the passive segment holds 32 bytes
      return `(memory.init $bytes (i32.and ${expr(c, 'i32')} (i32.const 0x3ff0)) ${small(15)} ${small(15)})`;
    case 3: // $bulk holds 16 elements
      return `(table.fill $bulk ${small(7)} (ref.func $f0) ${small(7)})`;
    case 4:
      return `(table.copy $bulk $bulk ${small(7)} ${small(7)} ${small(7)})`;
    default: // the passive segment holds 3 functions
      return `(table.init $bulk $funcs ${small(7)} ${small(1)} ${small(1)})`;
  }
}

function statements(c: FnContext, depth: number, count: number): string {
  return Array.from({ length: count }, () => statement(c, depth)).join(' ');
}

function helper(rng: Random, index: number): string {
  const locals = new Map<Ty, string[]>([
    ['i32', ['$p0', '$p1', '$a']],
    ['i64', ['$b']],
    ['f32', ['$c']],
    ['f64', ['$d']],
  ]);
  const c: FnContext = { rng, index, locals, blocks: [], fresh: 0, budget: 60, loops: 0, calls: 0, counters: [] };
  const body = statements(c, 0, rng.range(2, 6));
  c.budget = 8;
  const result = `(i32.xor (i32.add (local.get $a) ${toI32(c, 'i64')}) (i32.add ${toI32(c, 'f32')} ${toI32(c, 'f64')}))`;
  const extra = c.counters.map((n) => `(local ${n} i32)`).join(' ');
  return `(func $f${index} (type $helper) (param $p0 i32) (param $p1 i32) (result i32) (local $a i32) (local $b i64) (local $c f32) (local $d f64) ${extra} ${body} ${result})`;
}

/**
 * A random valid module in WebAssembly text, the same for the same seed.
 * @param helpers how many helper functions (default 3 to 6, from the seed)
 */
export function generateModule(seed: number, helpers?: number): string {
  const rng = new Random(seed);
  const count = helpers ?? rng.range(3, 6);
  const functions = Array.from({ length: count }, (_, index) => helper(rng, index));
  const calls = Array.from({ length: count }, (_, index) => `(local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) (i64.extend_i32_u (call $f${index} (local.get $x) (i32.const ${rng.i32()})))))`).join('\n    ');
  return `(module
  (type $helper (func (param i32 i32) (result i32)))
  (memory 1 3)
  (table ${count} funcref)
  (table $bulk 16 funcref)
  (elem (i32.const 0) ${Array.from({ length: count }, (_, index) => `$f${index}`).join(' ')})
  (elem $funcs funcref (ref.func $f0) (ref.func $f1) (ref.func $f2))
  (data $bytes "${Array.from({ length: 32 }, () => `\\${rng.int(256).toString(16).padStart(2, '0')}`).join('')}")
  (global $g32 (mut i32) (i32.const ${rng.i32()}))
  (global $g64 (mut i64) (i64.const ${rng.i32()}))
  (global $gf32 (mut f32) (f32.const ${rng.next().toFixed(4)}))
  (global $gf64 (mut f64) (f64.const ${rng.next().toFixed(8)}))
  ${functions.join('\n  ')}
  (func (export "main") (param $x i32) (result i64) (local $acc i64) (local $i i32)
    ${calls}
    ;; Fold the globals and the first 32 KiB of memory in.
    (local.set $acc (i64.xor (local.get $acc) (i64.extend_i32_u (global.get $g32))))
    (local.set $acc (i64.add (local.get $acc) (global.get $g64)))
    (local.set $acc (i64.add (local.get $acc) (i64.trunc_sat_f64_s (global.get $gf64))))
    (local.set $acc (i64.add (local.get $acc) (i64.trunc_sat_f32_s (global.get $gf32))))
    (local.set $i (i32.const 0))
    (loop $sum
      (local.set $acc (i64.add (i64.rotl (local.get $acc) (i64.const 7)) (i64.load (local.get $i))))
      (br_if $sum (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 8))) (i32.const 32768))))
    ;; And which elements of $bulk the bulk table operations set.
    (local.set $i (i32.const 0))
    (loop $elements
      (local.set $acc (i64.add (i64.shl (local.get $acc) (i64.const 1)) (i64.extend_i32_u (ref.is_null (table.get $bulk (local.get $i))))))
      (br_if $elements (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 16))))
    (i64.add (local.get $acc) (i64.extend_i32_u (memory.size))))
)`;
}
