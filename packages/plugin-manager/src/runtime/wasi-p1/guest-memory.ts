/**
 * Guest linear memory as the marshalling adapter sees it: cached views that are
 * rebuilt only when the memory grew (its buffer changed), bounds checks that turn a
 * bad pointer into EFAULT instead of touching anything, and decoding of guest strings.
 */
import { ForgeError } from '@forgeone/common';
import { ERRNO } from './abi.js';
import type { WasmMemory } from './engine.js';
import { fail } from './errno.js';

/** Longest path a guest may pass, in bytes (Linux's PATH_MAX). */
export const MAX_PATH_BYTES = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A guest's memory, bound once its instance exists. */
export class GuestMemory {
  #memory: WasmMemory | undefined;
  #buffer: ArrayBufferLike | undefined;
  /** Bytes of guest memory; valid after {@link refresh}. */
  u8: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  /** The same bytes as a DataView; valid after {@link refresh}. */
  view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  /** True once a memory is bound. */
  get bound(): boolean {
    return this.#memory !== undefined;
  }

  /** Binds the instance's memory. */
  bind(memory: WasmMemory): void {
    this.#memory = memory;
    this.#buffer = undefined;
  }

  /**
   * Makes `u8` and `view` current. Call at the start of every host call: any call
   * into the guest may have grown its memory.
   *
   * @throws ForgeError FO_WASI_NO_MEMORY when no memory is bound yet
   */
  refresh(): void {
    const memory = this.#memory;
    if (memory === undefined) {
      throw new ForgeError('FO_WASI_NO_MEMORY', 'a WASI function was called before the module\'s memory was bound (a start function calling WASI?)');
    }
    const buffer = memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.u8 = new Uint8Array(buffer);
      this.view = new DataView(buffer);
    }
  }

  /** Checks that [ptr, ptr + length) lies inside memory. @throws EFAULT */
  check(ptr: number, length: number): void {
    if (ptr + length > this.u8.length) fail(ERRNO.EFAULT);
  }

  /**
   * The guest string at [ptr, ptr + length): a path or symlink contents.
   * @throws EFAULT (outside memory), ENAMETOOLONG (over 4096 bytes), EINVAL (holds
   *   NUL), EILSEQ (not UTF-8)
   */
  string(ptr: number, length: number): string {
    this.check(ptr, length);
    if (length > MAX_PATH_BYTES) fail(ERRNO.ENAMETOOLONG);
    const bytes = this.u8.subarray(ptr, ptr + length);
    if (bytes.includes(0)) fail(ERRNO.EINVAL);
    try {
      // TextDecoder refuses views of shared memory (threads); copy those first.
      return utf8.decode(bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice());
    } catch {
      return fail(ERRNO.EILSEQ);
    }
  }

  /** Writes a u64 after checking bounds. */
  setU64(ptr: number, value: bigint): void {
    this.check(ptr, 8);
    this.view.setBigUint64(ptr, value, true);
  }

  /** Writes a u32 after checking bounds. */
  setU32(ptr: number, value: number): void {
    this.check(ptr, 4);
    this.view.setUint32(ptr, value, true);
  }
}
