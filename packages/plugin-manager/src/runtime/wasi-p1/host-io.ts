/**
 * Positional reads and writes of a host file into and out of guest memory, a whole
 * preview1 iovec list at a time. With native/wasi-io.c built (scripts/build-native.mjs)
 * each list is one preadv(2) or pwritev(2) straight into the guest's memory; without it,
 * or after `useNativeWasiIo(false)`, the same through node:fs, one readSync or
 * writeSync per iovec, stopping at the first short transfer. Either way a failure throws
 * the preview1 errno named like the host's (EAGAIN, EISDIR, EBADF, ...; EIO when
 * preview1 has none), and a list whose total length is zero moves nothing and makes no
 * system call.
 *
 * The list is `count` pairs of little-endian u32 (offset, length) at `iovs` in `memory`.
 * The caller checks that the list and every range it names lie inside `memory`; the
 * native module checks again and returns EFAULT (EINVAL beyond 1024 iovecs) rather than
 * touch anything outside it.
 */
import { existsSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errnoOf, fail, failHost } from './errno.js';

/** native/wasi-io.c: bytes moved, or a negative host errno. */
interface NativeWasiIo {
  preadv(fd: number, memory: Uint8Array, iovs: number, count: number, position: number): number;
  pwritev(fd: number, memory: Uint8Array, iovs: number, count: number, position: number): number;
}

let loaded: NativeWasiIo | null | undefined;

/**
 * The module, loaded once per thread: dist/native/wasi-io.node, two levels above this
 * file's folder (dist/runtime/wasi-p1/) and above the sandbox bundle's
 * (dist/sandbox/process/), whose `import.meta.url` this is once bundled.
 */
function nativeIo(): NativeWasiIo | null {
  if (loaded === undefined) {
    loaded = null;
    const path = fileURLToPath(new URL('../../native/wasi-io.node', import.meta.url));
    if (existsSync(path)) {
      try {
        loaded = createRequire(import.meta.url)(path) as NativeWasiIo;
      } catch {
        loaded = null;
      }
    }
  }
  return loaded;
}

/** Whether this thread reads and writes guest files with the native module (false: node:fs). */
export function nativeWasiIo(): boolean {
  return nativeIo() !== null;
}

/**
 * Uses node:fs on this thread from now on (`false`), or the native module again when it
 * was built (`true`): benchmarks and tests compare the two ways.
 */
export function useNativeWasiIo(enabled: boolean): void {
  loaded = enabled ? undefined : null;
}

/** The u32 at `at` in `bytes`, little endian. */
function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0;
}

/** One transfer of `length` bytes at `offset` of `memory`, `done` bytes into the list; returns bytes moved. */
export type VectorStep = (memory: Uint8Array, offset: number, length: number, done: number) => number;

/**
 * Runs `step` on each iovec of the list in turn, stopping after the first short one, and
 * returns the total moved. Zero-length iovecs are skipped when `skipEmpty` is set (a file:
 * nothing to do), passed to `step` otherwise (a stream decides what an empty read means).
 */
export function eachVector(memory: Uint8Array, iovs: number, count: number, skipEmpty: boolean, step: VectorStep): number {
  let total = 0;
  for (let index = 0; index < count; index += 1) {
    const at = iovs + index * 8;
    const length = u32(memory, at + 4);
    if (length === 0 && skipEmpty) continue;
    const moved = step(memory, u32(memory, at), length, total);
    total += moved;
    if (moved < length) break;
  }
  return total;
}

/** Runs a node:fs transfer, throwing the preview1 errno for a host failure as the native way does. */
function viaNodeFs(transfer: () => number): number {
  try {
    return transfer();
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === undefined) throw error;
    return fail(errno);
  }
}

/** Reads the list from host file `fd` at `position`. @returns bytes read (0 at the end) @throws WasiErrno */
export function readVectors(fd: number, memory: Uint8Array, iovs: number, count: number, position: number): number {
  const io = nativeIo();
  if (io === null) return viaNodeFs(() => eachVector(memory, iovs, count, true, (into, offset, length, done) => readSync(fd, into, offset, length, position + done)));
  const moved = io.preadv(fd, memory, iovs, count, position);
  return moved < 0 ? failHost(-moved) : moved;
}

/** Writes the list to host file `fd` at `position`. @returns bytes written @throws WasiErrno */
export function writeVectors(fd: number, memory: Uint8Array, iovs: number, count: number, position: number): number {
  const io = nativeIo();
  if (io === null) return viaNodeFs(() => eachVector(memory, iovs, count, true, (from, offset, length, done) => writeSync(fd, from, offset, length, position + done)));
  const moved = io.pwritev(fd, memory, iovs, count, position);
  return moved < 0 ? failHost(-moved) : moved;
}
