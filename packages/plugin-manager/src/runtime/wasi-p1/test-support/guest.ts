/**
 * Small WASI guest programs for tests, written in WAT and assembled at test time
 * (test-support/wat.ts). A {@link Guest} builds the `_start` of one program:
 * strings and buffers are placed in memory from offset 1024, calls are written as
 * `g.call('path_open', 3, 0, g.str('a.txt'), ...)`, `g.must(...)` stops the program
 * with exit code 1000 + errno when a setup step fails, and `g.exit(...)` ends it with
 * the errno (or value) under test as its exit code. Every module imports all 46
 * preview1 functions, so any program can call any of them.
 */
import { lstat, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { assembleWat } from '../../../test-support/wat.js';
import { WASI_MODULE, WASI_P1_FUNCTIONS, type WasiFunctionName } from '../abi.js';
import { wasm, type WasmInstance } from '../engine.js';
import type { WasiOptions } from '../options.js';
import type { WasiTrap } from '../outcome.js';
import { collectOutput } from '../stdio.js';
import { WasiPreview1 } from '../wasi.js';

/** The wasm signature of every preview1 function. */
export const SIGNATURES: Readonly<Record<WasiFunctionName, string>> = {
  args_get: '(param i32 i32) (result i32)',
  args_sizes_get: '(param i32 i32) (result i32)',
  environ_get: '(param i32 i32) (result i32)',
  environ_sizes_get: '(param i32 i32) (result i32)',
  clock_res_get: '(param i32 i32) (result i32)',
  clock_time_get: '(param i32 i64 i32) (result i32)',
  fd_advise: '(param i32 i64 i64 i32) (result i32)',
  fd_allocate: '(param i32 i64 i64) (result i32)',
  fd_close: '(param i32) (result i32)',
  fd_datasync: '(param i32) (result i32)',
  fd_fdstat_get: '(param i32 i32) (result i32)',
  fd_fdstat_set_flags: '(param i32 i32) (result i32)',
  fd_fdstat_set_rights: '(param i32 i64 i64) (result i32)',
  fd_filestat_get: '(param i32 i32) (result i32)',
  fd_filestat_set_size: '(param i32 i64) (result i32)',
  fd_filestat_set_times: '(param i32 i64 i64 i32) (result i32)',
  fd_pread: '(param i32 i32 i32 i64 i32) (result i32)',
  fd_prestat_get: '(param i32 i32) (result i32)',
  fd_prestat_dir_name: '(param i32 i32 i32) (result i32)',
  fd_pwrite: '(param i32 i32 i32 i64 i32) (result i32)',
  fd_read: '(param i32 i32 i32 i32) (result i32)',
  fd_readdir: '(param i32 i32 i32 i64 i32) (result i32)',
  fd_renumber: '(param i32 i32) (result i32)',
  fd_seek: '(param i32 i64 i32 i32) (result i32)',
  fd_sync: '(param i32) (result i32)',
  fd_tell: '(param i32 i32) (result i32)',
  fd_write: '(param i32 i32 i32 i32) (result i32)',
  path_create_directory: '(param i32 i32 i32) (result i32)',
  path_filestat_get: '(param i32 i32 i32 i32 i32) (result i32)',
  path_filestat_set_times: '(param i32 i32 i32 i32 i64 i64 i32) (result i32)',
  path_link: '(param i32 i32 i32 i32 i32 i32 i32) (result i32)',
  path_open: '(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)',
  path_readlink: '(param i32 i32 i32 i32 i32 i32) (result i32)',
  path_remove_directory: '(param i32 i32 i32) (result i32)',
  path_rename: '(param i32 i32 i32 i32 i32 i32) (result i32)',
  path_symlink: '(param i32 i32 i32 i32 i32) (result i32)',
  path_unlink_file: '(param i32 i32 i32) (result i32)',
  poll_oneoff: '(param i32 i32 i32 i32) (result i32)',
  proc_exit: '(param i32)',
  proc_raise: '(param i32) (result i32)',
  sched_yield: '(result i32)',
  random_get: '(param i32 i32) (result i32)',
  sock_accept: '(param i32 i32 i32) (result i32)',
  sock_recv: '(param i32 i32 i32 i32 i32 i32) (result i32)',
  sock_send: '(param i32 i32 i32 i32 i32) (result i32)',
  sock_shutdown: '(param i32 i32) (result i32)',
};

/** Exit code of a failed `must` step: 1000 + errno. */
export const MUST_FAILED = 1000;

/** A call argument: a number is an i32, a bigint an i64, a string raw WAT (e.g. from `str`). */
export type Arg = number | bigint | string;

function watBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('');
}

/** Builds the `_start` of one guest program. */
export class Guest {
  readonly #data: [number, Uint8Array][] = [];
  readonly #body: string[] = [];
  #next = 1024;

  /** Places `value` in memory; returns the `(ptr len)` argument pair naming it. */
  str(value: string | Uint8Array): string {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const at = this.#reserve(bytes.length);
    this.#data.push([at, bytes]);
    return `(i32.const ${at}) (i32.const ${bytes.length})`;
  }

  /** Places `bytes` in memory; returns their address. */
  bytes(bytes: Uint8Array): number {
    const at = this.#reserve(bytes.length);
    this.#data.push([at, bytes]);
    return at;
  }

  /** Reserves `size` zeroed bytes (8-aligned); returns their address. */
  buf(size: number): number {
    return this.#reserve(size);
  }

  /** An iovec list of one buffer at `ptr` of `length`; returns the list's address. */
  iovec(ptr: number, length: number): number {
    const list = Buffer.alloc(8);
    list.writeUInt32LE(ptr, 0);
    list.writeUInt32LE(length, 4);
    return this.bytes(list);
  }

  /** A call expression. */
  call(name: WasiFunctionName, ...args: Arg[]): string {
    const rendered = args.map((arg) => (typeof arg === 'number' ? `(i32.const ${arg})` : typeof arg === 'bigint' ? `(i64.const ${arg})` : arg));
    return `(call $${name} ${rendered.join(' ')})`;
  }

  /** A statement that stops the guest with 1000 + errno when `expression` is not 0. */
  must(expression: string): this {
    this.#body.push(`(call $must ${expression})`);
    return this;
  }

  /** A raw statement. */
  do(statement: string): this {
    this.#body.push(statement);
    return this;
  }

  /** Ends the guest with `expression` (an i32) as its exit code. */
  exit(expression: string | number): this {
    this.#body.push(`(call $proc_exit ${typeof expression === 'number' ? `(i32.const ${expression})` : expression})`);
    return this;
  }

  /** The i32 stored at `ptr`, as a WAT expression. */
  load(ptr: number): string {
    return `(i32.load (i32.const ${ptr}))`;
  }

  /** The module's WAT text. */
  wat(): string {
    const imports = WASI_P1_FUNCTIONS.map((name) => `  (import "${WASI_MODULE}" "${name}" (func $${name} ${SIGNATURES[name]}))`);
    const pages = Math.max(1, Math.ceil(this.#next / 65_536));
    const data = this.#data.map(([at, bytes]) => `  (data (i32.const ${at}) "${watBytes(bytes)}")`);
    return [
      '(module',
      ...imports,
      `  (memory (export "memory") ${pages})`,
      ...data,
      '  (func $must (param i32) (if (local.get 0) (then (call $proc_exit (i32.add (i32.const 1000) (local.get 0))))))',
      '  (func (export "_start")',
      ...this.#body.map((line) => `    ${line}`),
      '  )',
      ')',
    ].join('\n');
  }

  #reserve(size: number): number {
    const at = this.#next;
    this.#next += Math.ceil(Math.max(size, 1) / 8) * 8;
    return at;
  }
}

/** What one guest run left behind. */
export interface GuestRun {
  readonly exitCode: number;
  readonly trap: WasiTrap | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** A copy of guest memory after the run. */
  readonly memory: Buffer;
  u32(ptr: number): number;
  u64(ptr: number): bigint;
}

/**
 * Runs a guest (a {@link Guest} or WAT text) on a fresh context with `options`
 * (stdout and stderr are collected unless given).
 */
export async function runGuest(guest: Guest | string, options: WasiOptions = {}): Promise<GuestRun> {
  const bytes = await assembleWat(typeof guest === 'string' ? guest : guest.wat());
  const stdout = collectOutput();
  const stderr = collectOutput();
  const wasi = new WasiPreview1({ stdout, stderr, ...options });
  try {
    const instance: WasmInstance = await wasm.instantiate(await wasm.compile(bytes), wasi.importObject);
    const result = wasi.start(instance);
    const memory = Buffer.from((instance.exports['memory'] as { buffer: ArrayBuffer }).buffer.slice(0));
    return {
      exitCode: result.exitCode,
      trap: result.trap,
      stdout: stdout.text(),
      stderr: stderr.text(),
      memory,
      u32: (ptr) => memory.readUInt32LE(ptr),
      u64: (ptr) => memory.readBigUInt64LE(ptr),
    };
  } finally {
    wasi.close();
  }
}

/** A scratch tree: `root` is what tests preopen, `outside` holds `secret` and must never be reached. */
export interface Scratch {
  readonly base: string;
  readonly root: string;
  readonly outside: string;
  /** Every path under `base`, tagged `d`/`f`/`l`, sorted: compare before and after a hostile run. */
  snapshot(): Promise<string[]>;
  read(path: string): Promise<string>;
}

/** Makes a fresh scratch tree. */
export async function scratch(): Promise<Scratch> {
  const base = await mkdtemp(join(tmpdir(), 'forge-wasi-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, 'secret'), 'top secret');
  const walk = async (dir: string): Promise<string[]> => {
    const found: string[] = [];
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await lstat(path);
      found.push(`${info.isSymbolicLink() ? 'l' : info.isDirectory() ? 'd' : 'f'} ${relative(base, path)}`);
      if (info.isDirectory()) found.push(...(await walk(path)));
    }
    return found;
  };
  return { base, root, outside, snapshot: async () => (await walk(base)).sort(), read: (path) => readFile(join(base, path), 'utf8') };
}
