/**
 * How a guest run ends. `proc_exit` is a result, not an error: it unwinds the guest
 * with a {@link WasiExit} that the runner turns into an exit code. A trap (the guest
 * executed `unreachable`, divided by zero, overflowed its stack, ran out of fuel) is
 * a different result. A host refusal that cannot be an errno (a denied proc_exit) or
 * a host failure is a ForgeError and is thrown, never reported as either.
 */
import { ForgeError } from '@forgeone/common';
import { wasm } from './engine.js';

/** The exit status reported for a trap, as wasmtime does on Unix (128 + SIGABRT). */
export const TRAP_EXIT_CODE = 134;

/** Thrown by proc_exit to unwind the guest; carries its exit code. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`the guest called proc_exit(${code})`);
    this.name = 'WasiExit';
  }
}

/** What a trap says. Both fields come from the module (function names) and are untrusted text. */
export interface WasiTrap {
  /** `RuntimeError: unreachable`. */
  readonly message: string;
  /** The WebAssembly frames of the stack, innermost first (`wasm://wasm/...`), at most 16. */
  readonly frames: readonly string[];
}

/** How a run ended. */
export interface WasiRunResult {
  /** The guest's proc_exit code, 0 when `_start` returned, {@link TRAP_EXIT_CODE} on a trap. */
  readonly exitCode: number;
  /** Set when the guest trapped. */
  readonly trap?: WasiTrap;
}

/**
 * Classifies what a call into the guest threw: proc_exit becomes an exit code, a
 * WebAssembly trap (or the stack overflow V8 reports as a RangeError) a trap result.
 *
 * @throws the error itself when it is a ForgeError or anything else not from the guest
 */
export function outcomeOf(error: unknown): WasiRunResult {
  if (error instanceof WasiExit) return { exitCode: error.code };
  if (error instanceof ForgeError) throw error;
  if (error instanceof wasm.RuntimeError || error instanceof RangeError) {
    const frames = (error.stack ?? '')
      .split('\n')
      .filter((line) => line.includes('wasm://'))
      .slice(0, 16)
      .map((line) => line.trim());
    return { exitCode: TRAP_EXIT_CODE, trap: { message: `${error.name}: ${error.message}`, frames } };
  }
  throw error;
}
