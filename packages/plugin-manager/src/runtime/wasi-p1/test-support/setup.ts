/**
 * Shorthands the WASI guest tests share: a scratch tree preopened as `/` (fd 3), and
 * opening a file inside a guest program.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { OFLAGS, RIGHTS } from '../abi.js';
import type { WasiOptions } from '../options.js';
import { type Guest, type Scratch, scratch } from './guest.js';

export { OFLAGS, RIGHTS };

/** Rights as the i64 a guest passes. */
export function rights(...values: number[]): bigint {
  return BigInt(values.reduce((all, value) => all | value, 0));
}

/** A scratch tree holding `files` (path -> contents) under its root, and options preopening the root as `/`. */
export async function preopened(files: Readonly<Record<string, string>> = {}, readOnly = false): Promise<{ s: Scratch; options: WasiOptions }> {
  const s = await scratch();
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(s.root, path)), { recursive: true });
    await writeFile(join(s.root, path), contents);
  }
  return { s, options: { preopens: [{ host: s.root, guest: '/', readOnly }] } };
}

/** Options of one path_open. */
export interface OpenSpec {
  readonly base?: bigint;
  readonly inheriting?: bigint;
  readonly oflags?: number;
  readonly fdflags?: number;
  readonly lookup?: number;
  /** The directory descriptor; default 3 (the first preopen). */
  readonly dir?: number | string;
}

/**
 * Adds a path_open of `path` to `g` that must succeed, and returns the address holding
 * the new descriptor (pass `g.load(address)` to later calls).
 */
export function open(g: Guest, path: string, spec: OpenSpec = {}): number {
  const out = g.buf(4);
  g.must(g.call('path_open', spec.dir ?? 3, spec.lookup ?? 0, g.str(path), spec.oflags ?? 0, spec.base ?? 0n, spec.inheriting ?? 0n, spec.fdflags ?? 0, out));
  return out;
}

/** The path_open call expression itself, for tests that check its errno. */
export function openCall(g: Guest, path: string, spec: OpenSpec = {}): string {
  return g.call('path_open', spec.dir ?? 3, spec.lookup ?? 0, g.str(path), spec.oflags ?? 0, spec.base ?? 0n, spec.inheriting ?? 0n, spec.fdflags ?? 0, g.buf(4));
}
