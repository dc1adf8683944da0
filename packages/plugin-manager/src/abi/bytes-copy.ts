/**
 * Copies between byte arrays where one may be a SharedArrayBuffer: a pool slot
 * (sandbox/pool-protocol.ts) and the payloads crossing it. V8 copies into or out of shared
 * memory with relaxed atomics, word by word when both sides share an alignment and byte by
 * byte otherwise, so a 1 MiB payload cost 50-470 us per copy and a pool call copies it four
 * times (bench/pool.mjs, "1 MiB"). native/shared-memory.c's `copy` is a memmove (about 25
 * us per MiB, any alignment); without the native module (no C compiler at build time)
 * TypedArray#set does it as before.
 */
import { sharedMemory } from './shared-memory.js';

/** Below this many bytes TypedArray#set is as fast as a call into the native module. */
const NATIVE_FROM_BYTES = 2048;

function nativeCopy(): ((target: Uint8Array, source: Uint8Array) => number) | null {
  return sharedMemory()?.copy ?? null;
}

/** Copies all of `source` into `target` at `offset` (which must have room: as TypedArray#set, it throws RangeError otherwise). */
export function copyBytes(target: Uint8Array, source: Uint8Array, offset = 0): void {
  const copy = source.length >= NATIVE_FROM_BYTES ? nativeCopy() : null;
  if (copy === null) {
    target.set(source, offset);
    return;
  }
  if (offset < 0 || offset + source.length > target.length) throw new RangeError(`offset ${offset} + ${source.length} bytes is out of bounds of ${target.length}`);
  copy(target.subarray(offset, offset + source.length), source);
}

/**
 * A new Uint8Array (on an ArrayBuffer of its own) holding the first `length` bytes of
 * `source`, copied as {@link copyBytes} does. Its memory is allocated uninitialized, as
 * TypedArray#slice's is: a zeroed one comes from fresh pages, and their faults cost more
 * than the copy (1 MiB: ~380 us against ~30).
 */
export function copyOut(source: Uint8Array, length: number): Uint8Array {
  if (length < NATIVE_FROM_BYTES || nativeCopy() === null) return source.slice(0, length);
  const memory = Buffer.allocUnsafeSlow(length);
  copyBytes(memory, source.subarray(0, length));
  return new Uint8Array(memory.buffer, memory.byteOffset, length);
}
