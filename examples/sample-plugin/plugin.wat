;; The sample plugin's module, in WebAssembly text. `node examples/sample-plugin/build.mjs`
;; assembles it into plugin.wasm. It declares no imports, so it needs no permissions.
(module
  (memory (export "memory") 1 16)
  (global $state (mut i32) (i32.const 0))
  ;; Lifecycle entry points named in plugin.toml; each returns 0 for success.
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
    (global.get $state)))
