/**
 * The permission-free greeter the daemon's tests repack under many names and versions:
 * the sample plugin's module as it was before the sample moved to AssemblyScript (the
 * hand-written forge/1 WAT, 342 bytes). It imports nothing, so any plugin.toml, with or
 * without permissions, can carry it; the sample's own module now imports the kv and
 * network calls its manifest declares, which a manifest without them refuses
 * (FO_RUNTIME_IMPORT_DENIED). Exports: greet (input name -> "Hello, <name>!"), the
 * lifecycle steps plugin_init, plugin_start, plugin_stop, and state.
 */
import { assembleWat } from '@forgeone/plugin-manager/test-support';

export const GREETER_WAT = `(module
  (memory (export "memory") 1 16)

  ;; A bump allocator: forge_alloc hands out 8-byte-aligned regions from $heap and grows
  ;; the memory when needed; forge_free forgets nothing (this plugin's calls are short).
  (global $heap (mut i32) (i32.const 1024))
  (func $alloc (export "forge_alloc") (param $len i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    ;; Grow to fit, or report out of memory with 0.
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)) (memory.size)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "forge_free") (param $ptr i32) (param $len i32))

  ;; greet(name) -> "Hello, <name>!": copies the input after a prefix, one region out.
  (data (i32.const 16) "Hello, ")
  (func (export "greet") (param $ptr i32) (param $len i32) (result i64)
    (local $out i32) (local $outLen i32)
    (local.set $outLen (i32.add (local.get $len) (i32.const 8)))
    (local.set $out (call $alloc (local.get $outLen)))
    (memory.copy (local.get $out) (i32.const 16) (i32.const 7))
    (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 7)) (local.get $len)) (i32.const 33))
    ;; Packed result: (ptr << 32) | len; the host copies it and calls forge_free.
    (i64.or (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32)) (i64.extend_i32_u (local.get $outLen))))

  ;; Lifecycle entry points named in plugin.toml; each returns 0 for success.
  (global $state (mut i32) (i32.const 0))
  (func (export "plugin_init") (result i32)
    (global.set $state (i32.const 1))
    (i32.const 0))
  (func (export "plugin_start") (result i32)
    (global.set $state (i32.const 2))
    (i32.const 0))
  (func (export "plugin_stop") (result i32)
    (global.set $state (i32.const 3))
    (i32.const 0))
  ;; Reports the lifecycle state (0 created, 1 initialised, 2 running, 3 stopped).
  (func (export "state") (result i32)
    (global.get $state)))`;

let assembled: Promise<Uint8Array> | undefined;

/** The greeter's module bytes (assembled once per process). */
export function greeterWasm(): Promise<Uint8Array> {
  assembled ??= assembleWat(GREETER_WAT, { name: 'greeter' });
  return assembled;
}
