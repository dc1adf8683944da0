/**
 * Guest memory as the WASI marshalling adapter sees it: the host's one
 * {@link GuestMemory} view (bound once the instance exists, views rebuilt only when the
 * memory grew), with bounds checks that turn a bad pointer into EFAULT instead of
 * touching anything, and decoding of guest strings with WASI's errnos.
 */
import { ForgeError } from '@forgeone/common';
import { GuestMemory } from '../../abi/index.js';
import { ERRNO } from './abi.js';
import { fail } from './errno.js';

/** Longest path a guest may pass, in bytes (Linux's PATH_MAX). */
export const MAX_PATH_BYTES = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A WASI guest's memory. */
export class WasiMemory extends GuestMemory {
  /** True while the bound memory is not shared: growing it then detaches the buffer `u8` views (see {@link refresh}). */
  #detachesOnGrow = false;

  /** An unbound memory: {@link bind} gives it the instance's. */
  constructor() {
    super();
  }

  /**
   * Makes `u8` and `view` current. Call at the start of every host call: any call into
   * the guest may have grown its memory.
   *
   * @throws ForgeError FO_WASI_NO_MEMORY when no memory is bound yet
   */
  override refresh(): boolean {
    // The fast path, taken by nearly every call: a memory that is not shared gets a new
    // buffer whenever it grows, and its old buffer is detached, which leaves every view of
    // it 0 bytes long. So while `u8` still has bytes, it and `view` are current, with no
    // read of `memory.buffer`: that getter is a call into V8's C++, as costly as the rest
    // of an fd_read's marshalling. A shared memory grows in place (its old buffer keeps
    // its old length) and a memory of 0 pages has no bytes: both take the full refresh.
    if (this.#detachesOnGrow && this.u8.length !== 0) return true;
    if (!super.refresh()) {
      throw new ForgeError('FO_WASI_NO_MEMORY', 'a WASI function was called before the module\'s memory was bound (a start function calling WASI?)');
    }
    this.#detachesOnGrow = !(this.u8.buffer instanceof SharedArrayBuffer);
    return true;
  }

  /** Binds the instance's memory; the views of any memory bound before are dropped at once. */
  override bind(memory: Parameters<GuestMemory['bind']>[0]): void {
    this.#detachesOnGrow = false;
    super.bind(memory);
  }

  /** Checks that [ptr, ptr + length) lies inside memory (as of the last refresh). @throws EFAULT */
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
