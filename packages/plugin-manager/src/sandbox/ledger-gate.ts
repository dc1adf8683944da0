/**
 * The halt of a worker the host is about to stop (pool-stopped-audit.ts), so that what it
 * reads of the worker's ledger and its port is one consistent picture. The worker may
 * still be running when the host decides to stop it (a pool worker's thread until it is
 * terminated, a sandbox until it is killed), making host calls, counting folded records
 * and posting refusals; reading its counts and its port one after the other would miss
 * what happened in between (a refusal posted after the port was drained, or calls counted
 * after it: measured under load, two refusals missing against the counts).
 *
 * Two words at the end of the ledger: HALT, set by the host and never cleared (a ledger
 * belongs to one worker), and BUSY, how many of the worker's threads are recording. A
 * thread entering a record (the outermost {@link LedgerGate.enter}) adds itself to BUSY
 * and then looks at HALT; the host sets HALT and then waits for BUSY to fall to 0 (sequentially
 * consistent atomics: either the host sees the thread busy and waits, or the thread sees
 * the halt and never records). A halted thread blocks in Atomics.wait until it is stopped.
 * The host spins a little (a record takes well under a microsecond), then sleeps in short
 * slices: on a loaded machine the recording thread may have been descheduled mid-record,
 * and a host spinning on the only free core would keep it from finishing (measured in CI:
 * a 2 ms spin-only bound ran out on a two-core machine under load).
 * SECURITY: a sandbox may ignore the halt; the host waits at most {@link HALT_WAIT_MS} and
 * reads the ledger as untrusted input anyway.
 */

/** Bytes of the two words. */
export const LEDGER_GATE_BYTES = 8;
/** Longest the host waits for the worker to finish the record it is making, in ms (a scheduler time slice or two on a loaded machine). */
export const HALT_WAIT_MS = 50;
/** How long the host spins before it sleeps between looks, in ms. */
const SPIN_MS = 0.05;
/** One sleep between looks, in ms. */
const SLEEP_MS = 0.2;

const HALT = 0;
const BUSY = 1;

/** The worker's side: wraps everything that records (an audit decision, a posted item). */
export class LedgerGate {
  readonly #words: Int32Array;
  #depth = 0;

  /** @param buffer the ledger; `offset`: where the two words are (a multiple of 4) */
  constructor(buffer: ArrayBufferLike, offset: number) {
    this.#words = new Int32Array(buffer, offset, 2);
  }

  /** Before recording: blocks for good when the host halted the worker. */
  enter(): void {
    this.#depth += 1;
    if (this.#depth > 1) return;
    const words = this.#words;
    Atomics.add(words, BUSY, 1);
    if (Atomics.load(words, HALT) === 0) return;
    Atomics.sub(words, BUSY, 1);
    for (;;) Atomics.wait(words, HALT, 1);
  }

  /** After recording. */
  leave(): void {
    this.#depth -= 1;
    if (this.#depth === 0) Atomics.sub(this.#words, BUSY, 1);
  }
}

/** Runs `record(value)` inside `gate` (everything a worker records passes it), or plainly when the worker has no ledger. */
export function gated<T>(gate: LedgerGate | undefined, record: (value: T) => void, value: T): void {
  if (gate === undefined) return record(value);
  gate.enter();
  try {
    record(value);
  } finally {
    gate.leave();
  }
}

/**
 * The host's side: halts the worker and waits (bounded) until it records nothing more.
 * @param waitMs the bound: {@link HALT_WAIT_MS}, or 0 for a worker known to have ended (a sandbox whose process is gone records nothing more, whatever its busy word says)
 * @returns false when it was still busy at the bound
 */
export function haltLedger(buffer: ArrayBufferLike, offset: number, waitMs = HALT_WAIT_MS): boolean {
  const words = new Int32Array(buffer, offset, 2);
  Atomics.store(words, HALT, 1);
  const start = performance.now();
  while (Atomics.load(words, BUSY) > 0) {
    const waited = performance.now() - start;
    if (waited >= waitMs) return false;
    if (waited >= SPIN_MS) sleep(SLEEP_MS);
  }
  return true;
}

let sleeper: Int32Array | undefined;

/** Sleeps `ms` on this thread, leaving the core to the thread being waited for. */
function sleep(ms: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}
