import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeModule } from './analyze.js';
import { decodeModule } from './decode.js';
import { encodeModule } from './encode.js';
import { fn, instantiate, metered } from './test-support/instances.js';
import { wat } from './test-support/wat.js';

/**
 * One module per proposal, each exporting `run (param i32 ...) (result i64)` that
 * exercises the proposal's instructions and folds what they produce into its result.
 */
const PROPOSALS: readonly { readonly feature: string; readonly source: string; readonly extraArgs?: readonly unknown[] }[] = [
  {
    feature: 'simd',
    source: `(module (memory 1)
      (data (i32.const 0) "\\00\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10\\11\\12\\13\\14\\15\\16\\17\\18\\19\\1a\\1b\\1c\\1d\\1e\\1f")
      (func (export "run") (param $x i32) (result i64) (local $v v128) (local $w v128)
        (local.set $v (v128.load (i32.const 0)))
        (local.set $v (i8x16.shuffle 15 14 13 12 11 10 9 8 23 22 21 20 19 18 17 16 (local.get $v) (v128.load offset=16 (i32.const 0))))
        (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $x))))
        (local.set $v (i16x8.replace_lane 3 (local.get $v) (i32.const 77)))
        (v128.store32_lane 2 (i32.const 64) (local.get $v))
        (local.set $v (v128.load8_lane 5 (i32.const 1) (local.get $v)))
        (local.set $w (v128.load32_zero (i32.const 4)))
        (local.set $w (i8x16.add_sat_u (local.get $w) (v128.load8_splat (i32.const 7))))
        (local.set $v (v128.bitselect (local.get $v) (local.get $w) (v128.const i32x4 0xff00ff00 0 0xffff 1)))
        (local.set $v (i32x4.dot_i16x8_s (local.get $v) (i16x8.splat (i32.const 3))))
        (local.set $v (i32x4.trunc_sat_f32x4_s (f32x4.sqrt (f32x4.abs (f32x4.convert_i32x4_s (local.get $v))))))
        (i64.add (i64x2.extract_lane 0 (local.get $v)) (i64x2.extract_lane 1 (local.get $v)))
        (i64.add (i64.extend_i32_u (i32.add (i8x16.bitmask (local.get $v)) (i32.load (i32.const 64)))))
        (i64.add (i64.extend_i32_u (v128.any_true (local.get $w))))))`,
  },
  {
    feature: 'tail-calls',
    source: `(module (type $t (func (param i64 i64) (result i64)))
      (table 2 funcref) (elem (i32.const 0) $fact $count)
      (func $fact (param $n i64) (param $acc i64) (result i64)
        (if (result i64) (i64.eqz (local.get $n)) (then (local.get $acc))
          (else (return_call $fact (i64.sub (local.get $n) (i64.const 1)) (i64.mul (local.get $acc) (local.get $n))))))
      (func $count (param $n i64) (param $x i64) (result i64)
        (if (result i64) (i64.eqz (local.get $n)) (then (local.get $x))
          (else (return_call_indirect (type $t) (i64.sub (local.get $n) (i64.const 1)) (i64.add (local.get $x) (i64.const 3)) (i32.const 1)))))
      (func (export "run") (param $x i32) (result i64)
        (i64.add (call $fact (i64.const 20) (i64.const 1))
          (call_indirect (type $t) (i64.extend_i32_u (i32.and (local.get $x) (i32.const 0xffff))) (i64.const 0) (i32.const 1)))))`,
  },
  {
    feature: 'reference-types',
    extraArgs: [{ any: 'host value' }],
    source: `(module (type $r (func (result i32)))
      (table $t0 4 funcref) (table $t1 2 10 externref) (table $t2 3 funcref)
      (elem declare func $seven)
      (func $seven (result i32) (i32.const 7))
      (func $nine (result i32) (i32.const 9))
      (elem (table $t2) (i32.const 0) func $nine $seven)
      (func (export "run") (param $x i32) (param $e externref) (result i64) (local $acc i32)
        (table.set $t0 (i32.const 1) (ref.func $seven))
        (local.set $acc (call_indirect $t0 (type $r) (i32.const 1)))
        (local.set $acc (i32.add (local.get $acc) (call_indirect $t2 (type $r) (i32.const 0))))
        (table.fill $t1 (i32.const 0) (local.get $e) (i32.const 2))
        (local.set $acc (i32.add (local.get $acc) (table.grow $t1 (ref.null extern) (i32.const 3))))
        (local.set $acc (i32.add (local.get $acc) (table.size $t1)))
        (local.set $acc (i32.add (local.get $acc) (ref.is_null (table.get $t1 (i32.const 1)))))
        (local.set $acc (i32.add (local.get $acc) (ref.is_null (table.get $t0 (i32.const 0)))))
        (local.set $acc (i32.add (local.get $acc) (select (result i32) (local.get $x) (i32.const 100) (local.get $x))))
        (drop (select (result externref) (local.get $e) (ref.null extern) (local.get $x)))
        (i64.extend_i32_u (local.get $acc))))`,
  },
  {
    feature: 'bulk-memory',
    source: `(module (memory 1) (table 4 funcref) (type $r (func (result i32)))
      (data $d "abcdefgh") (data (i32.const 100) "XYZ")
      (elem $e func $one $two)
      (func $one (result i32) (i32.const 1)) (func $two (result i32) (i32.const 2))
      (func (export "run") (param $x i32) (result i64)
        (memory.init $d (i32.const 10) (i32.const 2) (i32.const 4))
        (data.drop $d)
        (memory.copy (i32.const 20) (i32.const 10) (i32.const 4))
        (memory.fill (i32.const 30) (local.get $x) (i32.const 8))
        (table.init $e (i32.const 1) (i32.const 0) (i32.const 2))
        (elem.drop $e)
        (table.copy (i32.const 3) (i32.const 1) (i32.const 1))
        (i64.add (i64.add (i64.load (i32.const 20)) (i64.load (i32.const 30)))
          (i64.extend_i32_u (i32.add (call_indirect (type $r) (i32.const 3)) (call_indirect (type $r) (i32.const 2)))))))`,
  },
  {
    feature: 'multi-value',
    source: `(module
      (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
      (func $divmod (param i32 i32) (result i32 i32) (i32.div_u (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1)))
      (func (export "run") (param $x i32) (result i64) (local $a i32) (local $b i32)
        (call $divmod (i32.add (i32.and (local.get $x) (i32.const 0xffff)) (i32.const 100)) (i32.const 7))
        (call $swap)
        (local.set $b) (local.set $a)
        (i32.const 3) (i32.const 4)
        (block (param i32 i32) (result i32 i32) (i32.add) (i32.const 10))
        (i32.mul)
        (local.set $a (i32.add (local.get $a)))
        (local.set $b (i32.const 5))
        (i32.const 0)
        (loop $l (param i32) (result i32)
          (i32.const 2) (i32.add)
          (local.tee $b (i32.sub (local.get $b) (i32.const 1)))
          (br_if $l))
        (local.get $x)
        (if (param i32) (result i32 i32) (then (i32.const 1)) (else (i32.const 2)))
        (i32.add)
        (i64.extend_i32_u (i32.add (local.get $a)))))`,
  },
  {
    feature: 'sign-extension',
    source: `(module (func (export "run") (param $x i32) (result i64)
      (i64.add (i64.extend32_s (i64.extend_i32_u (local.get $x))) (i64.extend_i32_s (i32.extend8_s (local.get $x))))
      (i64.add (i64.extend8_s (i64.const 0x80)))
      (i64.add (i64.extend_i32_s (i32.extend16_s (i32.const 0x8001))))))`,
  },
  {
    feature: 'saturating-float-to-int',
    source: `(module (func (export "run") (param $x i32) (result i64)
      (i64.add (i64.trunc_sat_f64_s (f64.const 1e30)) (i64.trunc_sat_f32_u (f32.const -5)))
      (i64.add (i64.extend_i32_s (i32.trunc_sat_f64_s (f64.convert_i32_s (local.get $x)))))
      (i64.add (i64.extend_i32_u (i32.trunc_sat_f32_u (f32.const nan))))))`,
  },
  {
    feature: 'threads',
    source: `(module (memory 1 1 shared)
      (func (export "run") (param $x i32) (result i64)
        (i32.atomic.store (i32.const 0) (local.get $x))
        (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 5)))
        (drop (i32.atomic.rmw.cmpxchg (i32.const 0) (i32.add (local.get $x) (i32.const 5)) (i32.const 99)))
        (atomic.fence)
        (i64.atomic.store (i32.const 8) (i64.const 0x100000000))
        (drop (i64.atomic.rmw32.xchg_u (i32.const 8) (i64.const 3)))
        (i64.add (i64.atomic.load (i32.const 8))
          (i64.extend_i32_u (i32.add (i32.atomic.load (i32.const 0)) (memory.atomic.notify (i32.const 0) (i32.const 1)))))))`,
  },
];

describe('proposals: the decoder, encoder and instrumentation handle each one', () => {
  for (const { feature, source, extraArgs = [] } of PROPOSALS) {
    it(`round-trips, reports and instruments ${feature} without changing results`, async () => {
      const bytes = await wat(source);
      assert.deepEqual(encodeModule(decodeModule(bytes).module), bytes, 'decode then encode is the identity');
      assert.ok(analyzeModule(bytes).features.includes(feature), `analysis reports ${feature}`);
      const uses: bigint[] = [];
      for (const input of [0, 1, 42, -7]) {
        const expected = fn(await instantiate(bytes), 'run')(input, ...extraArgs);
        const { instance, meter } = await metered(bytes);
        const { value, used } = meter.run(1_000_000n, () => fn(instance, 'run')(input, ...extraArgs));
        assert.equal(value, expected, `input ${input}`);
        uses.push(used);
      }
      assert.ok(uses.every((used) => used > 0n));
    });
  }
});
