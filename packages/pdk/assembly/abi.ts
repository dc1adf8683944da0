// The forge/1 ABI's low level (docs/reference/abi.md §2-§5): the allocator exports, the
// packed result, and the hand-over of regions between host and guest memory.
//
// Regions the host sees (call inputs it writes, host-call results it delivers, outputs it
// frees) come from `heap.alloc`, which the garbage collector does not track, so a
// collection never frees a region the host still holds. Managed objects (strings,
// Uint8Arrays) never cross the boundary without a copy, except the one output this
// module keeps alive in a global until the next call (the keep flag, ABI §3).

/** The largest region a packed result can name: 2^30 - 1 bytes (ABI §3). */
export const MAX_REGION: u32 = 0x3fffffff;
/** The error flag (bit 31) of a packed result. */
export const ERROR_FLAG: u64 = 0x80000000;
/** The keep flag (bit 30): the producer keeps the region, the receiver frees nothing. */
export const KEEP_FLAG: u64 = 0x40000000;

// TLSF's largest block (1 << 30 less its overhead) and the ABI's cap, whichever is lower:
// a larger request would make the allocator abort, and forge_alloc must answer 0 instead.
const ALLOC_MAX: u32 = MAX_REGION - 64;

/**
 * forge_alloc (ABI §2): a region of `len` bytes for the host, never at address 0, or 0
 * when it cannot be had. It never calls the host and never collects garbage. A memory that
 * cannot grow any more makes AssemblyScript's allocator trap (the host then discards the
 * instance, FO_ABI_GUEST_TRAP); sizes past 1 GiB are answered 0 before that.
 */
export function forge_alloc(len: u32): u32 {
  if (len == 0 || len > ALLOC_MAX) return 0;
  return <u32>heap.alloc(<usize>len);
}

/** forge_free (ABI §2): releases a region this module handed to the host. */
export function forge_free(ptr: u32, len: u32): void {
  if (ptr != 0 && len != 0) heap.free(<usize>ptr);
}

/** `(ptr << 32) | flags | len`, the packed result. */
// @ts-ignore: decorator
@inline
export function pack(ptr: usize, len: u32, flags: u64): u64 {
  return (<u64>ptr << 32) | flags | <u64>(len & MAX_REGION);
}

/** The address a packed result names. */
// @ts-ignore: decorator
@inline
export function packedPtr(packed: u64): usize {
  return <usize>(packed >>> 32);
}

/** The byte count a packed result names. */
// @ts-ignore: decorator
@inline
export function packedLen(packed: u64): u32 {
  return <u32>packed & MAX_REGION;
}

/**
 * Copies `len` bytes at `ptr` (a region the host handed over) into a new Uint8Array and
 * releases the region. 0 bytes give an empty array and free nothing.
 */
export function takeRegion(ptr: usize, len: u32): Uint8Array {
  const out = new Uint8Array(<i32>len);
  if (len > 0) {
    memory.copy(out.dataStart, ptr, <usize>len);
    heap.free(ptr);
  }
  return out;
}

/** The address of an array's first byte, for a request the host copies during the call. */
// @ts-ignore: decorator
@inline
export function addressOf(bytes: Uint8Array): usize {
  return bytes.dataStart;
}
