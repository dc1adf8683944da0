import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleWat } from '@forgeone/plugin-manager/test-support';

const W = 'wasi_snapshot_preview1';

/** The WASI imports a test guest may call, its memory, and `$print(ptr, len)` to stdout. */
export const WASI_IMPORTS = `
  (import "${W}" "proc_exit" (func $exit (param i32)))
  (import "${W}" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "${W}" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "${W}" "args_get" (func $args (param i32 i32) (result i32)))
  (import "${W}" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
  (import "${W}" "environ_get" (func $env (param i32 i32) (result i32)))
  (import "${W}" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "${W}" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; $print(ptr, len): writes memory[ptr, ptr+len) to stdout through an iovec at 0.
  (func $print (param i32 i32) (i32.store (i32.const 0) (local.get 0)) (i32.store (i32.const 4) (local.get 1))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))`;

/** Writes a WASI command whose _start is `body` as guest.wasm into a fresh directory; returns the directory. */
export async function wasiCommand(body: string, data = ''): Promise<string> {
  const bytes = await assembleWat(`(module ${WASI_IMPORTS} ${data} (func (export "_start") ${body}))`);
  const dir = await mkdtemp(join(tmpdir(), 'forge-wasi-run-'));
  await writeFile(join(dir, 'guest.wasm'), bytes);
  return dir;
}
