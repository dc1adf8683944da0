/**
 * A plugin instance seen through forge/1: calls with one bulk copy each way, error
 * payloads surfaced as ForgeErrors, lifecycle exports, and a poisoned state after a
 * trap or a broken ABI invariant.
 */
import { ForgeError } from '@forgeone/common';
import type { EntryPointName } from '../plugin/index.js';
import { decodeErrorPayload } from './error-payload.js';
import { GuestHeap, guestFailure } from './guest-memory.js';
import type { HostBinding } from './host-functions.js';
import { resolveAbiLimits, type AbiLimits } from './limits.js';
import { unpackResult } from './packed.js';
import { isWasmMemory, type WasmInstance } from './wasm-api.js';

/** The ABI this module implements, as manifests name it. */
export const ABI_VERSION = 'forge/1';

/** Export names forge/1 reserves. */
export const ABI_EXPORTS = Object.freeze({
  /** The linear memory (memory32). Required. */
  memory: 'memory',
  /** `forge_alloc(len: i32) -> i32`. Required. */
  alloc: 'forge_alloc',
  /** `forge_free(ptr: i32, len: i32)`. Required. */
  free: 'forge_free',
  /** `_initialize()`: optional; run once before anything else (WASI reactors, static constructors). */
  initialize: '_initialize',
});

/** Options for {@link AbiInstance}. */
export interface AbiInstanceOptions {
  /** Size limits (defaults: {@link DEFAULT_ABI_LIMITS}). */
  readonly limits?: Partial<AbiLimits>;
  /** The host functions the instance was instantiated with; attached once the exports check out. */
  readonly hostBinding?: HostBinding;
}

/** Lifecycle export names by step, as in a manifest's `entry_points`. */
export type EntryPoints = Readonly<Partial<Record<EntryPointName, string>>>;

/** A callable plugin export, bound for repeated calls. */
export type AbiCallable<T = Uint8Array> = (input: Uint8Array) => T;

/**
 * Receives a call's output as a view into the plugin's memory, valid only until the
 * receiver returns (the host then frees the region). Copy what you need out of it with
 * one bulk copy (e.g. into a shared-memory slot); do not keep the view.
 */
export type OutputReceiver<T> = (output: Uint8Array) => T;

type ExportedFunction = (...args: number[]) => unknown;

const MESSAGE_PREVIEW = 512;
const EMPTY = new Uint8Array(0);

/**
 * One instantiated plugin speaking forge/1.
 *
 * Not thread-safe and not re-entrant: one call at a time (a call made while another is
 * running, e.g. from a host function, is refused with FO_ABI_REENTRANT_CALL).
 *
 * After a trap, or after the plugin breaks an invariant the host relies on (its
 * allocator returned a region outside memory, it returned an out-of-bounds output),
 * the instance is poisoned: its state may be half-updated, so every later call is
 * refused with FO_ABI_INSTANCE_POISONED and the owner should discard it (the canonical
 * ABI of the component model does the same). Errors the plugin reports itself, outputs
 * over a limit and out-of-memory leave it usable.
 */
export class AbiInstance {
  /**
   * The wrapped instance, for the runtime's own exports (its fuel global). Calling
   * its functions directly bypasses every check this class makes.
   */
  readonly instance: WasmInstance;
  readonly #exports: Readonly<Record<string, unknown>>;
  readonly #guest: GuestHeap;
  readonly #limits: AbiLimits;
  readonly #initialize: ExportedFunction | undefined;
  #initialized = false;
  #busy = false;

  /**
   * Checks the instance's exports and wraps it.
   *
   * @throws ForgeError FO_ABI_MISSING_EXPORT when `memory`, `forge_alloc` or
   *   `forge_free` is absent, FO_ABI_BAD_SIGNATURE when one has the wrong kind or
   *   parameter count (details.problems lists every problem found)
   */
  constructor(instance: WasmInstance, options: AbiInstanceOptions = {}) {
    this.instance = instance;
    this.#exports = instance.exports;
    this.#limits = resolveAbiLimits(options.limits);
    const problems: string[] = [];
    let missing = false;
    const memory = this.#export(ABI_EXPORTS.memory);
    if (memory === undefined) {
      missing = true;
      problems.push('memory: not exported');
    } else if (!isWasmMemory(memory)) problems.push(`memory: expected a memory, found a ${kindOf(memory)}`);
    const required = (name: string, params: number): ExportedFunction | undefined => {
      const value = this.#export(name);
      if (value === undefined) {
        missing = true;
        problems.push(`${name}: not exported`);
      } else if (typeof value !== 'function') problems.push(`${name}: expected a function, found a ${kindOf(value)}`);
      else if (value.length !== params) problems.push(`${name}: expected ${params} parameters, found ${value.length}`);
      else return value as ExportedFunction;
      return undefined;
    };
    const alloc = required(ABI_EXPORTS.alloc, 1);
    const free = required(ABI_EXPORTS.free, 2);
    const initialize = this.#export(ABI_EXPORTS.initialize);
    if (initialize !== undefined && (typeof initialize !== 'function' || initialize.length !== 0)) {
      problems.push(`_initialize: expected a function of no parameters, found ${typeof initialize === 'function' ? `${initialize.length} parameters` : `a ${kindOf(initialize)}`}`);
    }
    if (problems.length > 0 || !isWasmMemory(memory) || alloc === undefined || free === undefined) {
      throw new ForgeError(
        missing ? 'FO_ABI_MISSING_EXPORT' : 'FO_ABI_BAD_SIGNATURE',
        `the module does not have the exports ${ABI_VERSION} requires: ${problems.join('; ')}`,
        { details: { problems } },
      );
    }
    this.#initialize = initialize as ExportedFunction | undefined;
    this.#guest = new GuestHeap(memory, alloc, free);
    options.hostBinding?.attach(this.#guest);
  }

  /** The limits this instance enforces. */
  get limits(): AbiLimits {
    return this.#limits;
  }

  /** Why the instance is poisoned, or undefined while it takes calls. */
  get fault(): ForgeError | undefined {
    return this.#guest.fault;
  }

  /** The guest's memory size now, in bytes. */
  get memoryBytes(): number {
    return this.#guest.bytes().length;
  }

  /** True when the plugin exports a function named `name`. */
  hasFunction(name: string): boolean {
    return typeof this.#export(name) === 'function';
  }

  /**
   * Calls the export `name` with `input` and returns its output.
   *
   * The host allocates the input through forge_alloc (not when it is empty: then the
   * export receives (0, 0)), copies it in with one `Uint8Array.set`, calls, copies the
   * output out with one `slice` and hands the output region back through forge_free
   * unless the plugin set the keep flag. The input region is the plugin's from the call on.
   *
   * @param input bytes for the plugin; not retained
   * @returns a fresh copy of the output
   * @throws ForgeError FO_ABI_NO_SUCH_EXPORT, FO_ABI_BAD_SIGNATURE (not `(i32, i32) -> i64`),
   *   FO_ABI_INPUT_TOO_LARGE, FO_ABI_GUEST_OUT_OF_MEMORY, FO_ABI_BAD_ALLOC,
   *   FO_ABI_BAD_POINTER, FO_ABI_OUTPUT_TOO_LARGE, FO_ABI_BAD_ERROR_PAYLOAD,
   *   FO_ABI_GUEST_ERROR (the plugin's own error), FO_ABI_GUEST_TRAP,
   *   FO_ABI_REENTRANT_CALL, FO_ABI_INSTANCE_POISONED, or a fatal error a host function
   *   raised during the call
   */
  call(name: string, input: Uint8Array): Uint8Array {
    return this.#invoke(this.#callable(name), name, input, undefined);
  }

  /**
   * Like {@link call}, but hands the output to `receive` as a view into guest memory
   * instead of copying it into a fresh array: for callers that copy it somewhere
   * anyway (a worker's shared-memory slot), which saves an allocation and a copy.
   * Error payloads still surface as ForgeErrors and never reach `receive`.
   *
   * @returns what `receive` returns
   * @throws ForgeError as {@link call}; whatever `receive` throws (the region is freed first)
   */
  callWith<T>(name: string, input: Uint8Array, receive: OutputReceiver<T>): T {
    // With a receiver, #invoke returns what the receiver returned.
    return this.#invoke(this.#callable(name), name, input, receive) as T;
  }

  /**
   * Looks `name` up and checks its shape once, for repeated calls: the fast path.
   * With `receive`, calls behave as {@link callWith}.
   * @throws ForgeError FO_ABI_NO_SUCH_EXPORT, FO_ABI_BAD_SIGNATURE
   */
  callable(name: string): AbiCallable;
  callable<T>(name: string, receive: OutputReceiver<T>): AbiCallable<T>;
  callable<T>(name: string, receive?: OutputReceiver<T>): AbiCallable<T | Uint8Array> {
    const fn = this.#callable(name);
    return (input) => this.#invoke(fn, name, input, receive);
  }

  /**
   * Runs a lifecycle step: the export the manifest's `entry_points` names for it, with
   * the signature `() -> i32` (0 = success, anything else = failure).
   *
   * @returns false when the manifest names no export for the step (nothing ran), true
   *   when the export ran and returned 0
   * @throws ForgeError FO_ABI_MISSING_EXPORT (named but not exported),
   *   FO_ABI_BAD_SIGNATURE, FO_ABI_LIFECYCLE_FAILED (non-zero status, in
   *   details.status), FO_ABI_GUEST_TRAP, FO_ABI_REENTRANT_CALL, FO_ABI_INSTANCE_POISONED
   */
  runLifecycle(step: EntryPointName, entryPoints: EntryPoints): boolean {
    const name = entryPoints[step];
    if (name === undefined) return false;
    const fn = this.#export(name);
    const where = `${step} entry point "${name}"`;
    if (fn === undefined) {
      throw new ForgeError('FO_ABI_MISSING_EXPORT', `the manifest names ${where}, but the module does not export it`, {
        details: { step, export: name, problems: [`${name}: not exported`] },
      });
    }
    if (typeof fn !== 'function' || fn.length !== 0) {
      throw new ForgeError('FO_ABI_BAD_SIGNATURE', `${where}: expected a function () -> i32, found ${describeExport(fn)}`, {
        details: { step, export: name },
      });
    }
    this.#enter(where);
    try {
      this.#ensureInitialized();
      let status: unknown;
      try {
        status = (fn as ExportedFunction)();
      } catch (error) {
        throw this.#guest.poison(guestFailure(error, where));
      }
      if (this.#guest.fault !== undefined) throw this.#guest.fault;
      if (typeof status !== 'number' || !Number.isInteger(status)) {
        throw new ForgeError('FO_ABI_BAD_SIGNATURE', `${where}: expected an i32 status, found ${typeof status}`, { details: { step, export: name } });
      }
      if (status !== 0) {
        throw new ForgeError('FO_ABI_LIFECYCLE_FAILED', `${where} returned status ${status}; expected 0`, { details: { step, export: name, status } });
      }
      return true;
    } finally {
      this.#busy = false;
    }
  }

  #export(name: string): unknown {
    return Object.hasOwn(this.#exports, name) ? this.#exports[name] : undefined;
  }

  #callable(name: string): ExportedFunction {
    const fn = this.#export(name);
    if (fn === undefined) {
      throw new ForgeError('FO_ABI_NO_SUCH_EXPORT', `the plugin exports no function named ${JSON.stringify(name)}`, { details: { export: name } });
    }
    if (typeof fn !== 'function' || fn.length !== 2) {
      throw new ForgeError('FO_ABI_BAD_SIGNATURE', `export ${JSON.stringify(name)}: expected a function (i32, i32) -> i64, found ${describeExport(fn)}`, {
        details: { export: name },
      });
    }
    return fn as ExportedFunction;
  }

  /** Refuses a call into a poisoned or busy instance; otherwise marks it busy. */
  #enter(where: string): void {
    const fault = this.#guest.fault;
    if (fault !== undefined) {
      throw new ForgeError('FO_ABI_INSTANCE_POISONED', `${where} refused: the instance is poisoned (${fault.code}: ${fault.message})`, {
        details: { fault: fault.toJSON() },
      });
    }
    if (this.#busy) {
      throw new ForgeError('FO_ABI_REENTRANT_CALL', `${where} refused: the instance is already running a call`, { details: { where } });
    }
    this.#busy = true;
  }

  #ensureInitialized(): void {
    if (this.#initialized) return;
    this.#initialized = true;
    if (this.#initialize === undefined) return;
    try {
      this.#initialize();
    } catch (error) {
      throw this.#guest.poison(guestFailure(error, '_initialize'));
    }
    if (this.#guest.fault !== undefined) throw this.#guest.fault;
  }

  #invoke<T>(fn: ExportedFunction, name: string, input: Uint8Array, receive: OutputReceiver<T> | undefined): T | Uint8Array {
    const where = `plugin export "${name}"`;
    this.#enter(where);
    try {
      if (!this.#initialized) this.#ensureInitialized();
      const guest = this.#guest;
      const length = input.length;
      if (length > this.#limits.maxInputBytes) {
        throw new ForgeError('FO_ABI_INPUT_TOO_LARGE', `${where}: input of ${length} bytes; the limit is ${this.#limits.maxInputBytes}`, {
          details: { export: name, limit: this.#limits.maxInputBytes, actual: length },
        });
      }
      const ptr = length === 0 ? 0 : guest.write(input);
      let packed: unknown;
      try {
        packed = fn(ptr, length);
      } catch (error) {
        throw guest.poison(guestFailure(error, where));
      }
      if (guest.fault !== undefined) throw guest.fault;
      if (typeof packed !== 'bigint') {
        throw new ForgeError('FO_ABI_BAD_SIGNATURE', `${where}: expected an i64 result, found ${typeof packed}`, { details: { export: name } });
      }
      return this.#takeResult(packed, name, where, receive);
    } finally {
      this.#busy = false;
    }
  }

  /** Checks, copies (or hands to `receive`) and releases what an export returned. */
  #takeResult<T>(packed: bigint, name: string, where: string, receive: OutputReceiver<T> | undefined): T | Uint8Array {
    const guest = this.#guest;
    const { ptr, length, error, keep } = unpackResult(packed);
    if (length === 0) {
      if (error) {
        throw new ForgeError('FO_ABI_GUEST_ERROR', `${where} failed without an error payload`, { details: { export: name } });
      }
      return receive === undefined ? new Uint8Array(0) : receive(EMPTY);
    }
    if (!guest.inBounds(ptr, length)) {
      const memoryBytes = guest.bytes().length;
      throw guest.poison(
        new ForgeError(
          'FO_ABI_BAD_POINTER',
          `${where} returned ${error ? 'an error payload' : 'an output'} at ${ptr} of ${length} bytes: expected a region inside the plugin's ${memoryBytes}-byte memory, found one ending at ${ptr + length}`,
          { details: { export: name, ptr, length, memoryBytes, error } },
        ),
      );
    }
    const limit = error ? this.#limits.maxErrorBytes : this.#limits.maxOutputBytes;
    if (length > limit) {
      if (!keep) guest.release(ptr, length);
      throw new ForgeError('FO_ABI_OUTPUT_TOO_LARGE', `${where} returned ${error ? 'an error payload' : 'an output'} of ${length} bytes; the limit is ${limit}`, {
        details: { export: name, limit, actual: length, error },
      });
    }
    if (!error && receive !== undefined) {
      let received: T;
      try {
        received = receive(guest.bytes().subarray(ptr, ptr + length));
      } finally {
        if (!keep) guest.release(ptr, length);
      }
      return received;
    }
    const bytes = guest.bytes().slice(ptr, ptr + length);
    if (!keep) guest.release(ptr, length);
    if (!error) return bytes;
    const payload = decodeErrorPayload(bytes, where);
    const preview = payload.message.length > MESSAGE_PREVIEW ? `${payload.message.slice(0, MESSAGE_PREVIEW)}…` : payload.message;
    throw new ForgeError('FO_ABI_GUEST_ERROR', `${where} failed with ${payload.code}: ${preview}`, {
      details: { export: name, guestCode: payload.code, guestMessage: payload.message },
    });
  }
}

function kindOf(value: unknown): string {
  if (typeof value === 'function') return 'function';
  if (isWasmMemory(value)) return 'memory';
  return typeof value === 'object' && value !== null ? 'table or global' : typeof value;
}

function describeExport(value: unknown): string {
  return typeof value === 'function' ? `a function of ${value.length} parameters` : `a ${kindOf(value)}`;
}
