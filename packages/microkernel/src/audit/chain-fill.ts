/**
 * Chain-linking of encoded records, apart from where it runs: on the log's thread or on
 * its chain worker (chain-worker.ts). A batch's records are encoded with room left for
 * three things only the chain knows: `prev` (the record before's hash), a checkpoint's
 * `sig` (it signs that hash) and `hash` (of the body, `prev` and `sig` included). Filling
 * them in record order makes exactly the lines format.ts describes.
 */
import { writeLatin1 } from './bytes.js';
import { HASH_OPEN, sha256Hex } from './format.js';

/** Numbers kept per record in a batch's layout, in this order. */
export const LAYOUT_STRIDE = 4;
/** Offsets within a record's layout entry: line start, prev field, sig field (-1: none), body end. */
export const AT_START = 0;
export const AT_PREV = 1;
export const AT_SIG = 2;
export const AT_BODY_END = 3;

/** Length of a base64 Ed25519 signature (64 bytes), the `sig` of a checkpoint. */
export const SIG_LENGTH = 88;

/** Signs checkpoint statement (seq, hash): base64, {@link SIG_LENGTH} characters. */
export type CheckpointSigner = (seq: number, recordHash: string) => string;

/**
 * Fills prev, sig and hash of records `from` to `to` (exclusive) of a batch, in order.
 *
 * @param buf the batch's bytes
 * @param layout {@link LAYOUT_STRIDE} numbers per record
 * @param firstSeq seq of record 0 of the batch
 * @param prev hash of the record before record `from`
 * @param sign signs checkpoints; required when a record has a sig field
 * @returns the hash of record `to - 1` (`prev` when the range is empty)
 * @throws Error when a record has a sig field and there is no signer (a bug, not input)
 */
export function fillChain(buf: Buffer, layout: ArrayLike<number>, from: number, to: number, firstSeq: number, prev: string, sign: CheckpointSigner | undefined): string {
  let last = prev;
  // The hash is one sha256 call per record; the rest is kept to plain writes (no Buffer#write
  // encoding lookup, no Buffer object per record: a view on the same memory).
  const memory = buf.buffer;
  const offset = buf.byteOffset;
  for (let index = from; index < to; index += 1) {
    const base = index * LAYOUT_STRIDE;
    const start = layout[base + AT_START] ?? 0;
    const sigAt = layout[base + AT_SIG] ?? -1;
    const bodyEnd = layout[base + AT_BODY_END] ?? 0;
    writeLatin1(buf, last, layout[base + AT_PREV] ?? 0);
    if (sigAt >= 0) {
      if (sign === undefined) throw new Error('a checkpoint record has no signer');
      const sig = sign(firstSeq + index - 1, last);
      if (sig.length !== SIG_LENGTH) throw new Error(`a checkpoint signature is ${sig.length} characters, not ${SIG_LENGTH}`);
      writeLatin1(buf, sig, sigAt);
    }
    last = sha256Hex(new Uint8Array(memory, offset + start, bodyEnd - start));
    writeLatin1(buf, last, bodyEnd + HASH_OPEN.length);
  }
  return last;
}
