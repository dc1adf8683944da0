;; A small WASI preview1 command for `forge wasi run` (README, `npm start`): it prints
;; /data/notes.txt, then tries /data/secret.txt and exits with that open's errno: 0 if it
;; was allowed, 2 (EACCES) if policy refused it. Run it with the directory as /data:
;;   npx wat2wasm examples/wasi/reader.wat -o reader.wasm
;;   npx forge wasi run --dir data::/data:ro --policy ops.cedar reader.wasm
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  ;; 0..16: iovec and counters; 32: the opened fd; 64, 80: the names; 1024..: the buffer.
  (data (i32.const 64) "notes.txt")
  (data (i32.const 80) "secret.txt")

  ;; Opens the NAME at ptr/len in preopen fd 3 for reading (rights: fd_read); the errno.
  (func $open_read (param $ptr i32) (param $len i32) (result i32)
    (call $open (i32.const 3) (i32.const 0) (local.get $ptr) (local.get $len)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))

  (func (export "_start")
    ;; Copy notes.txt to stdout, 1 KiB at a time.
    (if (i32.eqz (call $open_read (i32.const 64) (i32.const 9)))
      (then
        (i32.store (i32.const 0) (i32.const 1024))
        (i32.store (i32.const 4) (i32.const 1024))
        (block $done
          (loop $copy
            (br_if $done (call $read (i32.load (i32.const 32)) (i32.const 0) (i32.const 1) (i32.const 8)))
            (br_if $done (i32.eqz (i32.load (i32.const 8))))
            (i32.store (i32.const 4) (i32.load (i32.const 8)))
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
            (i32.store (i32.const 4) (i32.const 1024))
            (br $copy)))))
    (call $exit (call $open_read (i32.const 80) (i32.const 10)))))
