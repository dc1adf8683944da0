import { ForgeError } from '@forgeone/common';
import type { WasmMemory } from './wasm-api.js';
import { copyBytes } from './bytes-copy.js';

/**
 * Wraps whatever a guest threw (a trap, a stack overflow, a conversion failure at the
 * boundary) as FO_ABI_GUEST_TRAP. A ForgeError passes through unchanged: it was thrown
 * by the host (a host function refusing to go on) and already says what happened.
 *
 * @param where what was running, for the message (`plugin export "run"`)
 */
export function guestFailure(error: unknown, where: string): ForgeError {
  if (error instanceof ForgeError) return error;
  const trap = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new ForgeError('FO_ABI_GUEST_TRAP', `${where} trapped: ${trap}`, { details: { where, trap }, cause: error });
}

/**
 * A guest's linear memory seen from the host: the one view class every host-side
 * binding uses (the forge/1 ABI through {@link GuestHeap}, WASI through its own
 * subclass). The memory may be bound after construction (WASI imports exist before
 * their instance does).
 *
 * `memory.grow` (by the guest, or by its allocator when the host asks for space)
 * replaces the buffer and detaches the old one, so a view kept across any guest call
 * could read nothing or a stale copy: {@link refresh} (or {@link bytes}) re-reads
 * `memory.buffer` and rebuilds the views only when it changed.
 */
export class GuestMemory {
  #memory: Pick<WasmMemory, 'buffer'> | undefined;
  #buffer: ArrayBufferLike | undefined;
  /** Bytes of guest memory; valid after {@link refresh}. */
  u8: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  /** The same bytes as a DataView; valid after {@link refresh}. */
  view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  /** @param memory the guest's exported `memory`, or none yet (see {@link bind}) */
  constructor(memory?: Pick<WasmMemory, 'buffer'>) {
    if (memory !== undefined) this.bind(memory);
  }

  /** True once a memory is bound. */
  get bound(): boolean {
    return this.#memory !== undefined;
  }

  /** Binds the instance's memory. */
  bind(memory: Pick<WasmMemory, 'buffer'>): void {
    this.#memory = memory;
    this.#buffer = undefined;
    this.refresh();
  }

  /** The current buffer behind the memory (for identity checks; may change after any guest call). */
  get buffer(): ArrayBufferLike | undefined {
    return this.#memory?.buffer;
  }

  /**
   * Makes {@link u8} and {@link view} current. Call at the start of every host call:
   * any call into the guest may have grown its memory.
   * @returns false when no memory is bound yet (the views are then empty)
   */
  refresh(): boolean {
    const memory = this.#memory;
    if (memory === undefined) return false;
    const buffer = memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.u8 = new Uint8Array(buffer);
      this.view = new DataView(buffer);
    }
    return true;
  }

  /** A view of the whole memory as it is now. Do not keep it across a guest call. */
  bytes(): Uint8Array {
    this.refresh();
    return this.u8;
  }

  /** True when `[ptr, ptr + length)` lies inside the memory as it is now. */
  inBounds(ptr: number, length: number): boolean {
    // ptr < 2^32 and length < 2^32, so the sum is exact in a double.
    return ptr + length <= this.bytes().length;
  }

  /**
   * Copies `[ptr, ptr + length)` out with one bulk copy.
   * @returns the copy, or undefined when the range is outside the memory
   */
  read(ptr: number, length: number): Uint8Array | undefined {
    const bytes = this.bytes();
    return ptr + length <= bytes.length ? bytes.slice(ptr, ptr + length) : undefined;
  }
}

/**
 * A guest's linear memory with its forge/1 allocator, seen from the host, and whether
 * they can still be trusted.
 *
 * Once a fault is recorded ({@link poison}) the guest is done: its memory or allocator
 * broke an invariant, or it trapped mid-update. SECURITY: a fault is recorded *before*
 * the error is thrown through guest code, so a guest that catches the exception (wasm
 * exception handling can catch JavaScript exceptions) and returns normally is still
 * refused: callers check {@link fault} after every guest call.
 */
export class GuestHeap extends GuestMemory {
  readonly #alloc: (length: number) => unknown;
  readonly #free: (ptr: number, length: number) => unknown;
  #allocating = false;
  #fault: ForgeError | undefined;

  /**
   * @param memory the guest's exported `memory`
   * @param alloc its `forge_alloc(len: i32) -> i32`
   * @param free its `forge_free(ptr: i32, len: i32)`
   */
  constructor(memory: WasmMemory, alloc: (length: number) => unknown, free: (ptr: number, length: number) => unknown) {
    super(memory);
    this.#alloc = alloc;
    this.#free = free;
  }

  /** True while the host is running the guest's forge_alloc or forge_free. */
  get allocating(): boolean {
    return this.#allocating;
  }

  /** The fault that poisoned this guest, or undefined while it is healthy. */
  get fault(): ForgeError | undefined {
    return this.#fault;
  }

  /** Records `error` as the guest's fault (the first one wins) and returns it, to throw. */
  poison(error: ForgeError): ForgeError {
    this.#fault ??= error;
    return error;
  }


  /**
   * Asks the guest's forge_alloc for `length` bytes (length > 0) and checks the answer.
   *
   * @returns the address of the region, inside the memory as it is after the call
   * @throws ForgeError FO_ABI_GUEST_OUT_OF_MEMORY when forge_alloc returns 0 (the guest
   *   stays usable); FO_ABI_BAD_ALLOC when the region does not fit in memory,
   *   FO_ABI_BAD_SIGNATURE when forge_alloc returns no i32, FO_ABI_GUEST_TRAP when it
   *   traps (these three poison the guest)
   */
  allocate(length: number): number {
    let raw: unknown;
    this.#allocating = true;
    try {
      raw = this.#alloc(length);
    } catch (error) {
      throw this.poison(guestFailure(error, 'forge_alloc'));
    } finally {
      this.#allocating = false;
    }
    if (this.#fault !== undefined) throw this.#fault;
    if (typeof raw !== 'number') {
      throw this.poison(
        new ForgeError('FO_ABI_BAD_SIGNATURE', `forge_alloc must return an i32 address, found ${typeof raw}`, {
          details: { export: 'forge_alloc', found: typeof raw },
        }),
      );
    }
    const ptr = raw >>> 0;
    if (ptr === 0) {
      throw new ForgeError('FO_ABI_GUEST_OUT_OF_MEMORY', `forge_alloc(${length}) returned 0: the plugin is out of memory`, {
        details: { length },
      });
    }
    const size = this.bytes().length;
    if (ptr + length > size) {
      throw this.poison(
        new ForgeError(
          'FO_ABI_BAD_ALLOC',
          `forge_alloc(${length}) returned ${ptr}: expected a region inside the plugin's ${size}-byte memory, found one ending at ${ptr + length}`,
          { details: { length, ptr, memoryBytes: size } },
        ),
      );
    }
    return ptr;
  }

  /**
   * Allocates room for `data` (non-empty) through forge_alloc and copies it in with
   * one copy (bytes-copy.ts).
   *
   * @returns the address of the copy
   * @throws ForgeError as {@link allocate}
   */
  write(data: Uint8Array): number {
    // A view over this very memory would be detached if forge_alloc grows it.
    const source = data.buffer === this.buffer ? data.slice() : data;
    const ptr = this.allocate(source.length);
    copyBytes(this.bytes(), source, ptr);
    return ptr;
  }

  /**
   * Hands a region back to the guest through forge_free.
   * @throws ForgeError FO_ABI_GUEST_TRAP when forge_free traps (poisons the guest)
   */
  release(ptr: number, length: number): void {
    this.#allocating = true;
    try {
      this.#free(ptr, length);
    } catch (error) {
      throw this.poison(guestFailure(error, 'forge_free'));
    } finally {
      this.#allocating = false;
    }
    if (this.#fault !== undefined) throw this.#fault;
  }
}
