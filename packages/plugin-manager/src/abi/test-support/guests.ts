/**
 * Guest programs for the ABI tests, one behaviour each, in WebAssembly text
 * (assembled by test-support/wat.ts).
 */
import { assembleWat, type WatFeatures } from '../../test-support/wat.js';
import { wasm, type WasmModule } from '../wasm-api.js';

/**
 * Assembles WAT (test-support/wat.ts) and compiles it.
 * @param features wabt feature switches (`{ exceptions: true }`)
 */
export async function assemble(name: string, text: string, features: WatFeatures = {}): Promise<WasmModule> {
  return new wasm.Module(await assembleWat(text, { name, features }));
}

/** `$pack(ptr, lengthAndFlags) -> i64`: `(ptr << 32) | lengthAndFlags`. */
export const PACK = `
  (func $pack (param $p i32) (param $l i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $l))))`;

/**
 * A bump allocator from 4096 up, growing memory on demand (0 when it cannot grow).
 * forge_free gives back the most recent region (stack discipline) and counts calls.
 * Exports the heap top as `heap_top` and the count of forge_free calls as `frees`.
 */
export const BUMP_ALLOCATOR = `
  (global $top (export "heap_top") (mut i32) (i32.const 4096))
  (global $frees (export "frees") (mut i32) (i32.const 0))
  (func $alloc (export "forge_alloc") (param $len i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $top))
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $top (local.get $end))
    (local.get $p))
  (func $free (export "forge_free") (param $p i32) (param $len i32)
    (global.set $frees (i32.add (global.get $frees) (i32.const 1)))
    (if (i32.eq (i32.add (local.get $p) (local.get $len)) (global.get $top))
      (then (global.set $top (local.get $p)))))`;

/** The error payload the echo guest's `fail` export returns, as stored at address 64. */
export const STATIC_ERROR = 'E_BAD_INPUT\nthe input is not valid';

/**
 * A well-behaved plugin.
 * - `echo`: returns its input region as the output (in place; the host frees it).
 * - `upper`: upper-cases ASCII letters in place and returns the region.
 * - `copy`: copies the input into a new region and returns that.
 * - `grow`: grows memory by 4 pages during the call, then copies the input into a new region.
 * - `empty`: frees its input and returns no output.
 * - `fail`: returns {@link STATIC_ERROR} from static data with the error and keep flags.
 * - `fail_heap`: copies {@link STATIC_ERROR} to the heap and returns it with the error flag only.
 * - `stored`: returns 5 static bytes "hello" with the keep flag.
 * - lifecycle: `init` and `start` return 0, `stop` returns 3; `state` reports the last step.
 * - `_initialize` counts its runs in the exported global `initialized`.
 */
export const ECHO_GUEST = `(module
  (memory (export "memory") 1)
  (data (i32.const 64) "${STATIC_ERROR.replace('\n', '\\0a')}")
  (data (i32.const 128) "hello")
  (global $initialized (export "initialized") (mut i32) (i32.const 0))
  (global $state (mut i32) (i32.const 0))
  ${BUMP_ALLOCATOR}
  ${PACK}
  (func (export "_initialize")
    (global.set $initialized (i32.add (global.get $initialized) (i32.const 1))))
  (func (export "echo") (param $p i32) (param $len i32) (result i64)
    (call $pack (local.get $p) (local.get $len)))
  (func (export "upper") (param $p i32) (param $len i32) (result i64)
    (local $i i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $pack (local.get $p) (local.get $len)))
  (func (export "copy") (param $p i32) (param $len i32) (result i64)
    (local $out i32)
    (local.set $out (call $alloc (local.get $len)))
    (memory.copy (local.get $out) (local.get $p) (local.get $len))
    (call $pack (local.get $out) (local.get $len)))
  (func (export "grow") (param $p i32) (param $len i32) (result i64)
    (local $out i32)
    (drop (memory.grow (i32.const 4)))
    (global.set $top (i32.shl (i32.sub (memory.size) (i32.const 2)) (i32.const 16)))
    (local.set $out (call $alloc (local.get $len)))
    (memory.copy (local.get $out) (local.get $p) (local.get $len))
    (call $pack (local.get $out) (local.get $len)))
  (func (export "empty") (param $p i32) (param $len i32) (result i64)
    (call $free (local.get $p) (local.get $len))
    (i64.const 0))
  (func (export "fail") (param $p i32) (param $len i32) (result i64)
    (call $free (local.get $p) (local.get $len))
    (call $pack (i32.const 64) (i32.or (i32.const ${STATIC_ERROR.length}) (i32.const 0xC0000000))))
  (func (export "fail_heap") (param $p i32) (param $len i32) (result i64)
    (local $out i32)
    (call $free (local.get $p) (local.get $len))
    (local.set $out (call $alloc (i32.const ${STATIC_ERROR.length})))
    (memory.copy (local.get $out) (i32.const 64) (i32.const ${STATIC_ERROR.length}))
    (call $pack (local.get $out) (i32.or (i32.const ${STATIC_ERROR.length}) (i32.const 0x80000000))))
  (func (export "stored") (param $p i32) (param $len i32) (result i64)
    (call $free (local.get $p) (local.get $len))
    (call $pack (i32.const 128) (i32.or (i32.const 5) (i32.const 0x40000000))))
  (func (export "init") (result i32) (global.set $state (i32.const 1)) (i32.const 0))
  (func (export "start") (result i32) (global.set $state (i32.const 2)) (i32.const 0))
  (func (export "stop") (result i32) (i32.const 3))
  (func (export "state") (param $p i32) (param $len i32) (result i64)
    (i32.store8 (i32.const 200) (i32.add (i32.const 48) (global.get $state)))
    (call $pack (i32.const 200) (i32.or (i32.const 1) (i32.const 0x40000000))))
  (func (export "not_abi") (param $p i32) (result i64) (i64.const 0))
  (func (export "i32_result") (param $p i32) (param $len i32) (result i32) (i32.const 0))
  (func (export "crash") (param $p i32) (param $len i32) (result i64) (unreachable))
)`;

/**
 * A plugin that calls host functions and relays the host's packed result as its own
 * (the encodings are the same, and the region the host allocated is then freed by the
 * host when it reads the output, closing the ownership loop).
 * - `log`: forge.log with its input as the request.
 * - `echo_host`: forge.echo with its input.
 * - `blob`: forge.blob with its input (the test host returns that many bytes).
 * - `log_out_of_bounds`: forge.log with a request at 0xFFFFFF00 of 16 bytes.
 * - `log_huge`: forge.log with a 20 000-byte request.
 * @param memory the memory declaration's limits, e.g. "1" or "1 1"
 */
export function clientGuest(memory = '1'): string {
  return `(module
  (import "forge" "log" (func $log (param i32 i32) (result i64)))
  (import "forge" "echo" (func $echo (param i32 i32) (result i64)))
  (import "forge" "blob" (func $blob (param i32 i32) (result i64)))
  (memory (export "memory") ${memory})
  ${BUMP_ALLOCATOR}
  (func (export "log") (param $p i32) (param $len i32) (result i64)
    (call $log (local.get $p) (local.get $len)))
  (func (export "echo_host") (param $p i32) (param $len i32) (result i64)
    (call $echo (local.get $p) (local.get $len)))
  (func (export "blob") (param $p i32) (param $len i32) (result i64)
    (call $blob (local.get $p) (local.get $len)))
  (func (export "log_out_of_bounds") (param $p i32) (param $len i32) (result i64)
    (call $log (i32.const 0xFFFFFF00) (i32.const 16)))
  (func (export "log_huge") (param $p i32) (param $len i32) (result i64)
    (call $log (i32.const 0) (i32.const 20000)))
)`;
}

/**
 * A plugin whose results break the ABI. Each export returns a packed result whose
 * region is out of bounds:
 * - `past_end`: 16 bytes starting at the end of memory;
 * - `wraps`: 32 bytes at 0xFFFFFFF0 (ptr + len overflows 32 bits);
 * - `huge`: 2^30 - 1 bytes at 0;
 * - `error_past_end`: an error payload starting at the end of memory.
 * `bad_code` and `empty_code` return malformed error payloads from static data;
 * `big` returns 1000 bytes from static memory with the keep flag, `big_error` the same
 * as an error payload; `stop` is a lifecycle export that succeeds.
 */
export const HOSTILE_RESULTS_GUEST = `(module
  (memory (export "memory") 1)
  (data (i32.const 64) "bad code!\\0amessage")
  (data (i32.const 96) "\\0amessage")
  ${BUMP_ALLOCATOR}
  ${PACK}
  (func (export "past_end") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.shl (memory.size) (i32.const 16)) (i32.const 16)))
  (func (export "wraps") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.const 0xFFFFFFF0) (i32.const 32)))
  (func (export "huge") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.const 0) (i32.const 0x3FFFFFFF)))
  (func (export "error_past_end") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.shl (memory.size) (i32.const 16)) (i32.or (i32.const 16) (i32.const 0x80000000))))
  (func (export "bad_code") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.const 64) (i32.or (i32.const 17) (i32.const 0xC0000000))))
  (func (export "empty_code") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.const 96) (i32.or (i32.const 8) (i32.const 0xC0000000))))
  (func (export "big") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.const 0) (i32.or (i32.const 1000) (i32.const 0x40000000))))
  (func (export "big_error") (param $p i32) (param $len i32) (result i64)
    (call $pack (i32.const 0) (i32.or (i32.const 1000) (i32.const 0xC0000000))))
  (func (export "stop") (result i32) (i32.const 0))
)`;

/**
 * A plugin whose forge_alloc answers according to the exported mutable global `mode`:
 * 0 a fine bump allocation, 1 the address 0xFFFF0000, 2 zero (out of memory), 3 a
 * region that starts 8 bytes before the end of memory, 4 a trap, 5 a bump allocation
 * after calling forge.log from inside the allocator.
 * With `withSwallow`, the module (which then needs wabt's `exceptions` feature) also
 * exports `swallow`: it sets mode 1, calls forge.echo inside try/catch_all (so the
 * host's exception is caught by the guest), restores mode 0 and returns 5 static bytes
 * as if all was well.
 */
export function hostileAllocatorGuest(withSwallow = false): string {
  return `(module
  (import "forge" "log" (func $log (param i32 i32) (result i64)))
  (import "forge" "echo" (func $echo (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 32) "fine!")
  (global $mode (export "mode") (mut i32) (i32.const 0))
  (global $top (mut i32) (i32.const 4096))
  ${PACK}
  (func (export "forge_alloc") (param $len i32) (result i32)
    (local $p i32)
    (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (i32.const 0xFFFF0000))))
    (if (i32.eq (global.get $mode) (i32.const 2)) (then (return (i32.const 0))))
    (if (i32.eq (global.get $mode) (i32.const 3))
      (then (return (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 8)))))
    (if (i32.eq (global.get $mode) (i32.const 4)) (then (unreachable)))
    (if (i32.eq (global.get $mode) (i32.const 5))
      (then (drop (call $log (i32.const 32) (i32.const 5)))))
    (local.set $p (global.get $top))
    (global.set $top (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "forge_free") (param $p i32) (param $len i32))
  (func (export "echo") (param $p i32) (param $len i32) (result i64)
    (call $pack (local.get $p) (local.get $len)))
  ${withSwallow ? SWALLOW : ''}
)`;
}

const SWALLOW = `
  (func (export "swallow") (param $p i32) (param $len i32) (result i64)
    (global.set $mode (i32.const 1))
    (try
      (do (drop (call $echo (i32.const 32) (i32.const 5))))
      (catch_all))
    (global.set $mode (i32.const 0))
    (call $pack (i32.const 32) (i32.or (i32.const 5) (i32.const 0x40000000))))`;

/** A module whose start function calls forge.log before the host could bind it. */
export const START_CALLS_HOST_GUEST = `(module
  (import "forge" "log" (func $log (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  (func $start (drop (call $log (i32.const 0) (i32.const 0))))
  (start $start)
)`;

/** A module that imports a host function nobody defines. */
export const UNKNOWN_IMPORT_GUEST = `(module
  (import "forge" "launch_missiles" (func (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
)`;

/** A module that imports forge.log with the wrong parameter types. */
export const WRONG_IMPORT_TYPE_GUEST = `(module
  (import "forge" "log" (func $log (param i64 i64) (result i64)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  (func (export "run") (param $p i32) (param $len i32) (result i64)
    (call $log (i64.const 0) (i64.const 0)))
)`;

/** A module that imports forge.log with an i32 result instead of i64. */
export const WRONG_IMPORT_RESULT_GUEST = `(module
  (import "forge" "log" (func $log (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  (func (export "run") (param $p i32) (param $len i32) (result i64)
    (drop (call $log (local.get $p) (local.get $len)))
    (i64.const 0))
)`;

/** A module with none of the exports forge/1 requires. */
export const NO_ABI_GUEST = `(module (func (export "run") (param i32 i32) (result i64) (i64.const 0)))`;

/** A module whose forge_alloc and forge_free have the wrong parameter counts. */
export const WRONG_ALLOCATOR_SHAPE_GUEST = `(module
  (memory (export "memory") 1)
  (func (export "forge_alloc") (result i32) (i32.const 0))
  (func (export "forge_free") (param i32))
)`;
