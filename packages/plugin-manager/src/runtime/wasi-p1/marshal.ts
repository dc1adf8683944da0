/**
 * What the three import files share: the context every host function closes over,
 * the precomputed call names the gate sees, the conversion of whatever a call threw
 * into an errno, and the writers for preview1's structs.
 */
import { ForgeError, type HostCallGate } from '@forgeone/common';
import { LAYOUT } from './abi.js';
import type { Fdstat, WasiCore } from './core.js';
import { errnoOf } from './errno.js';
import type { Filestat } from './filestat.js';
import type { WasiMemory } from './guest-memory.js';
import { WasiExit } from './outcome.js';

/** What every host function of one guest uses. */
export interface ImportContext {
  readonly core: WasiCore;
  readonly memory: WasiMemory;
  readonly gate: HostCallGate;
}

/** A host function as wasm calls it: i32 as number, i64 as bigint. */
export type HostFunction = (...args: never[]) => number | undefined;


/**
 * The errno for what a call threw. Anything that is not an errno or a Node system
 * error is not the guest's business: a proc_exit unwind, a ForgeError or a stack
 * overflow passes through, and anything else (a bug here) becomes
 * FO_INTERNAL_UNEXPECTED rather than a misleading errno.
 */
export function errnoFor(error: unknown): number {
  const errno = errnoOf(error);
  if (errno !== undefined) return errno;
  if (error instanceof WasiExit || error instanceof ForgeError) throw error;
  // The guest recursed until the stack ran out while inside a host call: still its trap.
  if (error instanceof RangeError && /call stack/i.test(error.message)) throw error;
  const message = error instanceof Error ? error.message : String(error);
  throw new ForgeError('FO_INTERNAL_UNEXPECTED', `a WASI host function failed unexpectedly: ${message}`, { cause: error });
}

/** Converts a guest u64 (wasm passes i64 as a signed bigint). */
export function u64(value: bigint): bigint {
  return BigInt.asUintN(64, value);
}

const RIGHTS_MASK = (1n << 30n) - 1n;

/** The rights in a guest `rights` value; bits preview1 does not define are dropped. */
export function rightsOf(value: bigint): number {
  return Number(BigInt.asUintN(64, value) & RIGHTS_MASK);
}

/** True when a guest `rights` value has bits preview1 does not define. */
export function hasUnknownRights(value: bigint): boolean {
  return BigInt.asUintN(64, value) >> 30n !== 0n;
}

/** Writes an `fdstat` at `ptr` (bounds checked by the caller). */
export function writeFdstat(memory: WasiMemory, ptr: number, stat: Fdstat): void {
  const view = memory.view;
  memory.u8.fill(0, ptr, ptr + LAYOUT.FDSTAT_SIZE);
  view.setUint8(ptr, stat.filetype);
  view.setUint16(ptr + 2, stat.flags, true);
  view.setBigUint64(ptr + 8, BigInt(stat.rightsBase), true);
  view.setBigUint64(ptr + 16, BigInt(stat.rightsInheriting), true);
}

/** Writes a `filestat` at `ptr` (bounds checked by the caller). */
export function writeFilestat(memory: WasiMemory, ptr: number, stat: Filestat): void {
  const view = memory.view;
  memory.u8.fill(0, ptr, ptr + LAYOUT.FILESTAT_SIZE);
  view.setBigUint64(ptr, stat.dev, true);
  view.setBigUint64(ptr + 8, stat.ino, true);
  view.setUint8(ptr + 16, stat.filetype);
  view.setBigUint64(ptr + 24, stat.nlink, true);
  view.setBigUint64(ptr + 32, stat.size, true);
  view.setBigUint64(ptr + 40, stat.atim, true);
  view.setBigUint64(ptr + 48, stat.mtim, true);
  view.setBigUint64(ptr + 56, stat.ctim, true);
}
