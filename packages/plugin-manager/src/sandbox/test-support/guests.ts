/**
 * Guest programs for the backend conformance suite and the pool's tests and
 * benchmarks, in WebAssembly text (assembled by test-support/wat.ts).
 * Every guest speaks forge/1 with the ABI tests' bump allocator (which grows memory on
 * demand and hands back the newest region on forge_free).
 */
import { BUMP_ALLOCATOR, PACK } from '../../abi/test-support/guests.js';

/** `$u32(value) -> i64`: a fresh 4-byte region holding `value`, packed as a result. */
const U32 = `
  (func $u32 (param $v i32) (result i64) (local $p i32)
    (local.set $p (call $alloc (i32.const 4)))
    (i32.store (local.get $p) (local.get $v))
    (call $pack (local.get $p) (i32.const 4)))`;

/**
 * The core guest; imports only forge.log.
 * - `echo`: returns its input (in place).
 * - `count`: adds one to an in-memory counter and returns it (u32): state that a
 *   restart loses.
 * - `spin`: loops forever (fuel stops it).
 * - `work`: loops u32-input times and returns the count (a busy but finite call).
 * - `trap`: executes `unreachable`.
 * - `grow`: memory.grow by the u32 input; returns the result (-1 past the cap).
 * - `log`: forge.log with its input as the request, relaying the host's result.
 * - lifecycle: `init` and `start` return 0, `stop` returns 3 (a failure).
 */
export const CORE_GUEST = `(module
  (import "forge" "log" (func $log (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  ${BUMP_ALLOCATOR}
  ${PACK}
  ${U32}
  (func (export "echo") (param $p i32) (param $len i32) (result i64)
    (call $pack (local.get $p) (local.get $len)))
  (func (export "count") (param $p i32) (param $len i32) (result i64)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (call $u32 (global.get $count)))
  (func (export "spin") (param $p i32) (param $len i32) (result i64)
    (loop $forever (br $forever))
    (i64.const 0))
  (func (export "work") (param $p i32) (param $len i32) (result i64)
    (local $n i32) (local $i i32)
    (local.set $n (i32.load (local.get $p)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $u32 (local.get $i)))
  (func (export "trap") (param $p i32) (param $len i32) (result i64)
    (unreachable))
  (func (export "grow") (param $p i32) (param $len i32) (result i64)
    (call $u32 (memory.grow (i32.load (local.get $p)))))
  (func (export "log") (param $p i32) (param $len i32) (result i64)
    (call $log (local.get $p) (local.get $len)))
  (func (export "init") (result i32) (i32.const 0))
  (func (export "start") (result i32) (i32.const 0))
  (func (export "stop") (result i32) (i32.const 3))
)`;

/** The registered host call the relay guest imports. */
export const WEATHER_CALL = 'forge.weather';

/**
 * Relays its input to a host function and returns the host's packed result as its
 * own, so a host refusal surfaces as FO_ABI_GUEST_ERROR with the host's code in
 * details.guestCode: `kv_get`, `time_now`, `emit_event` and `weather` (registered).
 */
export const RELAY_GUEST = `(module
  (import "forge" "kv_get" (func $kv_get (param i32 i32) (result i64)))
  (import "forge" "time_now" (func $time_now (param i32 i32) (result i64)))
  (import "forge" "emit_event" (func $emit_event (param i32 i32) (result i64)))
  (import "forge" "weather" (func $weather (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  (func (export "kv_get") (param $p i32) (param $len i32) (result i64) (call $kv_get (local.get $p) (local.get $len)))
  (func (export "time_now") (param $p i32) (param $len i32) (result i64) (call $time_now (local.get $p) (local.get $len)))
  (func (export "emit_event") (param $p i32) (param $len i32) (result i64) (call $emit_event (local.get $p) (local.get $len)))
  (func (export "weather") (param $p i32) (param $len i32) (result i64) (call $weather (local.get $p) (local.get $len)))
)`;

/**
 * A guest that calls another plugin through the host: it imports only the registered
 * call forge.weather (the conformance suite's host answers it by calling another
 * plugin with callSync, as the registry's forge.call_plugin does).
 * - `relay`: one forge.weather call with its input; returns the host's packed result.
 * - `relay_n`: input `[u32 n][request]`: n forge.weather calls with the request, the
 *   answers ignored; returns n (u32). Each iteration costs the guest a few units of
 *   fuel of its own.
 */
export const CALLER_GUEST = `(module
  (import "forge" "weather" (func $weather (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  ${PACK}
  ${U32}
  (func (export "relay") (param $p i32) (param $len i32) (result i64) (call $weather (local.get $p) (local.get $len)))
  (func (export "relay_n") (param $p i32) (param $len i32) (result i64)
    (local $n i32) (local $i i32)
    (local.set $n (i32.load (local.get $p)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (drop (call $weather (i32.add (local.get $p) (i32.const 4)) (i32.sub (local.get $len) (i32.const 4))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $u32 (local.get $i)))
)`;

/**
 * A guest that floods its host with a cheap allowed host call, forge.time_now, ignoring
 * the answers: what only the fuel each host call pays can stop.
 * - `flood`: calls it in an endless loop.
 * - `flood_indirect`: the same through `call_indirect` on a table holding the import.
 */
export const FLOOD_GUEST = `(module
  (type $host (func (param i32 i32) (result i64)))
  (import "forge" "time_now" (func $time_now (type $host)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $time_now)
  ${BUMP_ALLOCATOR}
  (func (export "flood") (param $p i32) (param $len i32) (result i64)
    (loop $again (drop (call $time_now (i32.const 0) (i32.const 0))) (br $again))
    (i64.const 0))
  (func (export "flood_indirect") (param $p i32) (param $len i32) (result i64)
    (loop $again (drop (call_indirect (type $host) (i32.const 0) (i32.const 0) (i32.const 0))) (br $again))
    (i64.const 0))
)`;

/**
 * A WASI guest.
 * - `open`: path_open on fd 3 (the first preopen) of the path in its input, for
 *   reading; returns the errno (u32).
 * - `sleep`: poll_oneoff on one monotonic clock subscription of u32-input
 *   milliseconds; returns the errno (u32). It burns no fuel while it sleeps.
 * - `print`: input `[u32 n][u32 fd][bytes]`: n fd_write calls of the bytes to fd;
 *   returns the first non-zero errno, or 0 (u32).
 * - `log`: forge.log with its input as the request, relaying the host's result.
 */
export const WASI_GUEST = `(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "forge" "log" (func $log (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  ${PACK}
  ${U32}
  (func (export "open") (param $p i32) (param $len i32) (result i64)
    (call $u32 (call $path_open (i32.const 3) (i32.const 0) (local.get $p) (local.get $len) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 16))))
  (func (export "sleep") (param $p i32) (param $len i32) (result i64)
    (i64.store (i32.const 256) (i64.const 0))
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.mul (i64.extend_i32_u (i32.load (local.get $p))) (i64.const 1000000)))
    (i64.store (i32.const 288) (i64.const 0))
    (i32.store16 (i32.const 296) (i32.const 0))
    (call $u32 (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600))))
  (func (export "print") (param $p i32) (param $len i32) (result i64)
    (local $n i32) (local $i i32) (local $errno i32)
    (local.set $n (i32.load (local.get $p)))
    ;; one iovec at 320 over the bytes after the two u32 words; nwritten at 328
    (i32.store (i32.const 320) (i32.add (local.get $p) (i32.const 8)))
    (i32.store (i32.const 324) (i32.sub (local.get $len) (i32.const 8)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $errno (call $fd_write (i32.load offset=4 (local.get $p)) (i32.const 320) (i32.const 1) (i32.const 328)))
      (br_if $done (local.get $errno))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $u32 (local.get $errno)))
  (func (export "log") (param $p i32) (param $len i32) (result i64)
    (call $log (local.get $p) (local.get $len)))
)`;

/** A module that is not a forge/1 plugin: it exports no forge_alloc. */
export const NOT_A_PLUGIN = `(module
  (memory (export "memory") 1)
  (func (export "forge_free") (param i32 i32)))`;

/** Little-endian u32 bytes. */
export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

/** Reads a little-endian i32 from the start of `bytes`. */
export function readI32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0, true);
}

/**
 * A hostile guest: `big` returns its input as its output, but arms forge_free to trap,
 * so the call fails after the host has read the output (FO_ABI_GUEST_TRAP when the host
 * hands the region back).
 */
export const TRAPPING_FREE_GUEST = `(module
  (memory (export "memory") 1)
  (global $armed (mut i32) (i32.const 0))
  (global $top (mut i32) (i32.const 4096))
  ${PACK}
  (func (export "forge_alloc") (param $len i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $top))
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size))))))
    (global.set $top (local.get $end))
    (local.get $p))
  (func (export "forge_free") (param i32 i32)
    (if (global.get $armed) (then unreachable)))
  (func (export "big") (param $p i32) (param $len i32) (result i64)
    (global.set $armed (i32.const 1))
    (call $pack (local.get $p) (local.get $len)))
)`;

/**
 * A guest that floods the audit log with allowed host calls and mixes in refused ones
 * (the audit-folding cases, conformance-fold.ts).
 * - `mixed`: input `[u32 n][u32 every]`: n forge.time_now calls; after every `every`-th
 *   (0: never) one forge.kv_get of key "k" (refused when not granted); returns n (u32).
 * - `flood`: forge.time_now forever (fuel stops it), a forge.kv_get of "k" every 100th call.
 * - `probe_then_spin`: input `[u32 n]`: n forge.kv_get of "k", then loops forever (a time
 *   limit stops it).
 */
export const FOLD_GUEST = `(module
  (import "forge" "time_now" (func $time_now (param i32 i32) (result i64)))
  (import "forge" "kv_get" (func $kv_get (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 8) "k")
  ${BUMP_ALLOCATOR}
  ${PACK}
  ${U32}
  (func (export "mixed") (param $p i32) (param $len i32) (result i64)
    (local $n i32) (local $every i32) (local $i i32)
    (local.set $n (i32.load (local.get $p)))
    (local.set $every (i32.load offset=4 (local.get $p)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (drop (call $time_now (i32.const 0) (i32.const 0)))
      (if (i32.and (i32.ne (local.get $every) (i32.const 0)) (i32.eqz (i32.rem_u (local.get $i) (select (local.get $every) (i32.const 1) (local.get $every)))))
        (then (drop (call $kv_get (i32.const 8) (i32.const 1)))))
      (br $next)))
    (call $u32 (local.get $i)))
  (func (export "flood") (param $p i32) (param $len i32) (result i64)
    (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (drop (call $time_now (i32.const 0) (i32.const 0)))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 100))) (then (drop (call $kv_get (i32.const 8) (i32.const 1)))))
      (br $again))
    (i64.const 0))
  (func (export "probe_then_spin") (param $p i32) (param $len i32) (result i64)
    (local $n i32) (local $i i32)
    (local.set $n (i32.load (local.get $p)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (drop (call $kv_get (i32.const 8) (i32.const 1)))
      (br $next)))
    (loop $forever (br $forever))
    (i64.const 0))
)`;
