/**
 * Chain-linking of encoded records, apart from where it runs: on the log's thread or on
 * its chain worker (chain-worker.ts). A batch's records are encoded with room left for
 * three things only the chain knows: `prev` (the record before's hash), a checkpoint's
 * `sig` (it signs that hash) and `hash` (of the body, `prev` and `sig` included). Filling
 * them in record order makes exactly the lines format.ts describes.
 *
 * The per-record work (write prev, sha256 the body, write its hex) runs in native code
 * when native/chain-fill.c was built (native.ts loads it), one call per run of
 * records up to the next checkpoint, whose signature is made here; without the module
 * (no C compiler at build time, or it does not load) the same is done in JS. The bytes
 * are identical either way.
 */
import { writeLatin1 } from './bytes.js';
import { HASH_OPEN, sha256Hex } from './format.js';
import { nativeChainModule } from './native.js';

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

/** Fills record `index` in JS (a checkpoint's sig too); returns its hash. */
function fillRecord(buf: Buffer, layout: Int32Array, index: number, firstSeq: number, prev: string, sign: CheckpointSigner | undefined): string {
  const base = index * LAYOUT_STRIDE;
  const start = layout[base + AT_START] ?? 0;
  const sigAt = layout[base + AT_SIG] ?? -1;
  const bodyEnd = layout[base + AT_BODY_END] ?? 0;
  writeLatin1(buf, prev, layout[base + AT_PREV] ?? 0);
  if (sigAt >= 0) {
    if (sign === undefined) throw new Error('a checkpoint record has no signer');
    const sig = sign(firstSeq + index - 1, prev);
    if (sig.length !== SIG_LENGTH) throw new Error(`a checkpoint signature is ${sig.length} characters, not ${SIG_LENGTH}`);
    writeLatin1(buf, sig, sigAt);
  }
  // A view on the same memory, not a Buffer object per record.
  const hash = sha256Hex(new Uint8Array(buf.buffer, buf.byteOffset + start, bodyEnd - start));
  writeLatin1(buf, hash, bodyEnd + HASH_OPEN.length);
  return hash;
}

/**
 * Fills prev, sig and hash of records `from` to `to` (exclusive) of a batch, in order.
 *
 * @param buf the batch's bytes
 * @param layout {@link LAYOUT_STRIDE} numbers per record
 * @param firstSeq seq of record 0 of the batch
 * @param prev hash of the record before record `from`
 * @param sign signs checkpoints; required when a record has a sig field
 * @param native false: fill in JS even where the native module is loaded (tests compare the two)
 * @returns the hash of record `to - 1` (`prev` when the range is empty)
 * @throws Error when a record has a sig field and there is no signer (a bug, not input),
 *   or (native) when the layout points outside the batch
 */
export function fillChain(buf: Buffer, layout: Int32Array, from: number, to: number, firstSeq: number, prev: string, sign: CheckpointSigner | undefined, native = true): string {
  const fill = native ? (nativeChainModule()?.fill ?? null) : null;
  let last = prev;
  let index = from;
  while (index < to) {
    if (fill !== null) {
      const next = fill(buf, layout, index, to, last);
      if (next > index) {
        // The hash of record next - 1, where the module wrote it.
        const hashAt = (layout[(next - 1) * LAYOUT_STRIDE + AT_BODY_END] ?? 0) + HASH_OPEN.length;
        last = buf.toString('latin1', hashAt, hashAt + 64);
        index = next;
        if (index === to) break;
      }
    }
    // In JS: every record without the module, else the checkpoint the module stopped at.
    last = fillRecord(buf, layout, index, firstSeq, last, sign);
    index += 1;
  }
  return last;
}
