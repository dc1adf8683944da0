/**
 * What a worker holds that a host stopping it mid-call must not lose, in one block of
 * shared memory: its queued, unposted audit records (pool-audit-mirror.ts) and its
 * folding calls' counts (fold-tally.ts). A pool worker's is a SharedArrayBuffer; a
 * sandbox's is a memfd both processes map (process/sandbox.ts), written by the sandbox
 * and checked by the host like a frame (pool-stopped-audit.ts).
 */
import { AUDIT_MIRROR_TOTAL, AuditMirror, readAuditMirror, type MirroredRecord } from './pool-audit-mirror.js';
import { FOLD_TALLY_TOTAL, FoldTally, readFoldTally, type TallyRead } from './fold-tally.js';
import { HALT_WAIT_MS, LEDGER_GATE_BYTES, LedgerGate, haltLedger } from './ledger-gate.js';

/** Where the halt words are (ledger-gate.ts). */
const GATE_OFFSET = AUDIT_MIRROR_TOTAL + FOLD_TALLY_TOTAL;
/** Bytes of a ledger: whole pages (a sandbox's is a memfd). */
export const LEDGER_BYTES = Math.ceil((GATE_OFFSET + LEDGER_GATE_BYTES) / 4096) * 4096;

/** A pool worker's ledger. */
export function allocateLedger(): SharedArrayBuffer {
  return new SharedArrayBuffer(LEDGER_BYTES);
}

/** The worker's side of `buffer` ({@link LEDGER_BYTES}). */
export function openLedger(buffer: ArrayBufferLike): { readonly mirror: AuditMirror; readonly tally: FoldTally } {
  return { mirror: new AuditMirror(buffer, 0), tally: new FoldTally(buffer, AUDIT_MIRROR_TOTAL, new LedgerGate(buffer, GATE_OFFSET)) };
}

/** The host's side of a worker's ledger. */
export class LedgerReader {
  readonly #buffer: ArrayBufferLike;

  constructor(buffer: ArrayBufferLike) {
    this.#buffer = buffer;
  }

  /** Halts the worker (ledger-gate.ts) before anything is read; `ended`: its process is known to be gone, no wait. @returns false when it was still recording at the bound */
  halt(ended = false): boolean {
    return haltLedger(this.#buffer, GATE_OFFSET, ended ? 0 : HALT_WAIT_MS);
  }

  /** The audit records of the mirror's batch, unless the host received it (`received`: the last batch number it got). */
  unposted(received: number): MirroredRecord[] {
    return readAuditMirror(this.#buffer, 0, received);
  }

  /** The counts of the folding call of the plugin at `index` on the worker, if it has one. */
  tally(index: number): TallyRead | undefined {
    return readFoldTally(this.#buffer, AUDIT_MIRROR_TOTAL, index);
  }
}
