/**
 * The packed i64 every forge/1 call returns: `(ptr << 32) | flags | length`.
 *
 * ```
 *  63            32 31   30   29                 0
 * +----------------+----+----+--------------------+
 * |      ptr       | E  | K  |       length       |
 * +----------------+----+----+--------------------+
 * ```
 *
 * - `ptr` (u32): address of the first byte in the producer's linear memory.
 * - `E` (bit 31, {@link ERROR_FLAG}): the bytes are an error payload, not an output.
 * - `K` (bit 30, {@link KEEP_FLAG}): the producer keeps the region (static data or a
 *   buffer it reuses); the receiver copies it and must not free it.
 * - `length` (bits 0-29): byte count, at most {@link MAX_REGION_BYTES}.
 *
 * A length of 0 carries no region: `ptr` is ignored and nothing is freed.
 *
 * Decoding goes through one 8-byte scratch buffer viewed as both an i64 and two u32
 * words, which avoids BigInt shifts and masks (each allocates) on the hot path.
 */

/** Bit 31 of the low word: the region is an error payload. */
export const ERROR_FLAG = 0x8000_0000;

/** Bit 30 of the low word: the producer keeps the region; the receiver must not free it. */
export const KEEP_FLAG = 0x4000_0000;

/** Largest length a packed result can carry: 2^30 - 1 bytes (1 GiB - 1). */
export const MAX_REGION_BYTES = 0x3fff_ffff;

const scratch64 = new BigInt64Array(1);
const scratch32 = new Uint32Array(scratch64.buffer);
// SECURITY: word order follows the platform's byte order, so the halves are right on
// big-endian hosts too (the typed arrays share the platform order).
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LOW = LITTLE_ENDIAN ? 0 : 1;
const HIGH = LITTLE_ENDIAN ? 1 : 0;

/** A decoded packed result. */
export interface PackedResult {
  /** Address of the region (u32). Meaningless when `length` is 0. */
  readonly ptr: number;
  /** Byte count, 0 to {@link MAX_REGION_BYTES}. */
  readonly length: number;
  /** True when the region is an error payload. */
  readonly error: boolean;
  /** True when the producer keeps the region (the receiver must not free it). */
  readonly keep: boolean;
}

/**
 * Splits a packed i64 (as the engine hands it over: a signed BigInt) into its fields.
 * Any 64-bit value decodes; whether the region is inside memory is the caller's check.
 */
export function unpackResult(packed: bigint): PackedResult {
  scratch64[0] = packed;
  const low = scratch32[LOW]!;
  return {
    ptr: scratch32[HIGH]!,
    length: low & MAX_REGION_BYTES,
    error: (low & ERROR_FLAG) !== 0,
    keep: (low & KEEP_FLAG) !== 0,
  };
}

/**
 * Packs a region for the guest.
 *
 * @param ptr address, 0 to 2^32 - 1
 * @param length byte count, 0 to {@link MAX_REGION_BYTES}
 * @param flags {@link ERROR_FLAG} and/or {@link KEEP_FLAG}, or 0
 * @returns the i64 as a BigInt (the engine converts it to the guest's i64)
 */
export function packResult(ptr: number, length: number, flags = 0): bigint {
  scratch32[HIGH] = ptr;
  scratch32[LOW] = (length & MAX_REGION_BYTES) | flags;
  return scratch64[0]!;
}
