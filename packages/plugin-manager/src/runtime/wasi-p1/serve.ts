/**
 * The one wrapper every WASI host function is made with. Each function is its body
 * (marshalling and a call into the core) wrapped in the same three steps:
 *
 *   gate check (unless the body decides on what it reaches) -> body -> errno
 *
 * and what the body throws becomes an errno in one place ({@link answer}): a refusal
 * the host made on its own rules (a path leaving its directory, a missing right, a
 * full descriptor table) is reported to the gate first, so the audit trail holds every
 * refused operation with what the guest asked for; anything that is not an errno (a
 * proc_exit unwind, a host bug) passes through as {@link errnoFor} says.
 *
 * The wrappers are built once per guest; calling one allocates nothing of its own.
 */
import type { HostCallGate } from '@forgeone/common';
import { CALL, ERRNO, errnoName, type WasiFunctionName } from './abi.js';
import { WasiRefusal } from './errno.js';
import { errnoFor, type ImportContext } from './marshal.js';

const { EACCES } = ERRNO;

/**
 * The errno for what a call threw, after reporting a host refusal to the gate.
 * @throws what {@link errnoFor} rethrows (exits, ForgeErrors, stack overflows, bugs)
 */
export function answer(gate: HostCallGate, call: string, error: unknown): number {
  if (error instanceof WasiRefusal) {
    gate.refuse(call, error.resource, `${errnoName(error.errno)}: ${error.reason}`, error.requested);
    return error.errno;
  }
  return errnoFor(error);
}

/** A function that touches nothing nameable (args, clocks, random): the gate decides the call alone. */
export function plain<A extends unknown[]>(ctx: ImportContext, name: WasiFunctionName, body: (...args: A) => number): (...args: A) => number {
  const call = CALL[name];
  const gate = ctx.gate;
  return (...args) => {
    if (gate.check(call) !== undefined) return EACCES;
    try {
      return body(...args);
    } catch (error) {
      return answer(gate, call, error);
    }
  };
}

/** The arguments after the descriptor of an fd_* function: at most four (fd_pread, fd_pwrite, fd_readdir). */
type FdArgs = [] | [unknown] | [unknown, unknown] | [unknown, unknown, unknown] | [unknown, unknown, unknown, unknown];

/**
 * A function on a descriptor: the gate decides it on the descriptor's resource
 * (`fd:<n>`; rights fixed at open time do the rest), then the body runs with the
 * descriptor as an unsigned number.
 */
export function onFd<A extends FdArgs>(ctx: ImportContext, name: WasiFunctionName, body: (fd: number, ...args: A) => number): (fd: number, ...args: A) => number {
  const call = CALL[name];
  const gate = ctx.gate;
  const table = ctx.core.table;
  // Four fixed parameters rather than a rest parameter and a spread (FdArgs bounds the
  // count): fd_read and fd_write run this once per guest read or write.
  const run = body as unknown as (fd: number, a: unknown, b: unknown, c: unknown, d: unknown) => number;
  const served = (fd: number, a: unknown, b: unknown, c: unknown, d: unknown): number => {
    const f = fd >>> 0;
    if (gate.check(call, table.resourceOf(f)) !== undefined) return EACCES;
    try {
      return run(f, a, b, c, d);
    } catch (error) {
      return answer(gate, call, error);
    }
  };
  return served as unknown as (fd: number, ...args: A) => number;
}

/**
 * A function whose body asks policy itself, about what it really reaches: the path
 * calls (the core resolves each path first, then asks about the guest path reached)
 * and fd_filestat_set_times (a write, decided on the file's path).
 */
export function decidesItself<A extends unknown[]>(ctx: ImportContext, name: WasiFunctionName, body: (...args: A) => number): (...args: A) => number {
  const call = CALL[name];
  const gate = ctx.gate;
  return (...args) => {
    try {
      return body(...args);
    } catch (error) {
      return answer(gate, call, error);
    }
  };
}
