/**
 * The running counts of the calls that fold their allowed audit records (audit-fold.ts)
 * on one pool worker, kept in shared memory, so that the host can write the exact
 * `audit.folded` summary of a call it kills (or stops by closing the pool): the thread's
 * own summary dies with it, and its `fold` reports (pool-fold-progress.ts) are up to
 * FOLD_PROGRESS_MS old.
 *
 * A folding call claims a slot on its first folded record and frees it when it ends
 * (after its own summary left); each folded record adds one to its key's word (one plain
 * store on the hot path: one producer, the worker thread); a new key (at most
 * MAX_FOLDED_KEYS per call) appends its name to the slot's text and publishes the text's
 * length with Atomics.store. The slot's owner word is stored last when a slot is claimed.
 *
 * SECURITY: the host parses a slot as untrusted input: a count is taken as a
 * non-negative integer, a key name only when it is well-formed and within what was
 * published, and the counts of keys without a name are summed in `other`.
 */
import { MAX_FOLDED_KEYS, type FoldedCount } from './audit-fold.js';
import type { LedgerGate } from './ledger-gate.js';

/** Calls that can fold at once on one worker (an outer call and the calls nested in it); more fall back to the `fold` reports. */
export const FOLD_TALLY_SLOTS = 4;

const OWNER = 0;
const OTHER = 1;
const TEXT = 2;
const COUNTS = 4;
const SLOT_WORDS = COUNTS + MAX_FOLDED_KEYS;
/** Bytes of a slot's key names: MAX_FOLDED_KEYS names of an action and a resource cut to MAX_KEY_RESOURCE. */
const TEXT_BYTES = 16 * 1024;
const WORDS_BYTES = FOLD_TALLY_SLOTS * SLOT_WORDS * 4;

/** Bytes of a tally (pool-ledger.ts places it). */
export const FOLD_TALLY_TOTAL = WORDS_BYTES + FOLD_TALLY_SLOTS * TEXT_BYTES;

/** The worker's side. Not thread-safe (the worker thread's). */
export class FoldTally {
  readonly #words: Int32Array;
  readonly #text: Buffer;
  readonly #used = new Int32Array(FOLD_TALLY_SLOTS);

  /** Wraps every record of the worker: the host halts it through this before reading the ledger. */
  readonly gate: LedgerGate | undefined;

  /** @param buffer shared memory holding the tally at `offset` (a multiple of 4) */
  constructor(buffer: ArrayBufferLike, offset: number, gate?: LedgerGate) {
    this.gate = gate;
    this.#words = new Int32Array(buffer, offset, FOLD_TALLY_SLOTS * SLOT_WORDS);
    this.#text = Buffer.from(buffer, offset + WORDS_BYTES, FOLD_TALLY_SLOTS * TEXT_BYTES);
  }

  /** The plugin at `index` on the worker begins to fold a call: its slot, or -1 when none is free. */
  open(index: number): number {
    const words = this.#words;
    for (let slot = 0; slot < FOLD_TALLY_SLOTS; slot += 1) {
      const base = slot * SLOT_WORDS;
      if (Atomics.load(words, base + OWNER) !== 0) continue;
      words.fill(0, base + 1, base + SLOT_WORDS);
      this.#used[slot] = 0;
      Atomics.store(words, base + OWNER, index + 1);
      return slot;
    }
    return -1;
  }

  /** One more folded record of key `key` (its order of appearance in the call, below MAX_FOLDED_KEYS), or of `other` when -1. */
  count(slot: number, key: number): void {
    const at = slot * SLOT_WORDS + (key < 0 ? OTHER : COUNTS + key);
    this.#words[at] = (this.#words[at] ?? 0) + 1;
  }

  /** Names key `key` of the call in `slot` (before its first count); a name that does not fit is left out (its counts then go to `other`). */
  name(slot: number, key: number, action: string, resource: string | null): void {
    const used = this.#used[slot] ?? 0;
    const line = `${JSON.stringify([key, action, resource])}\n`;
    const room = TEXT_BYTES - used;
    const written = this.#text.write(line, slot * TEXT_BYTES + used, room);
    if (written === room) return; // possibly cut: never published
    this.#used[slot] = used + written;
    Atomics.store(this.#words, slot * SLOT_WORDS + TEXT, used + written);
  }

  /** The call in `slot` ended (its summary left): the slot is free again. */
  close(slot: number): void {
    Atomics.store(this.#words, slot * SLOT_WORDS + OWNER, 0);
  }
}

/** A folding call's counts as read by the host. */
export interface TallyRead {
  readonly folded: number;
  readonly counts: readonly FoldedCount[];
  readonly other: number;
}

const decoder = new TextDecoder('utf-8');

/** The counts of the folding call of the plugin at `index` on the worker, if it has one. */
export function readFoldTally(buffer: ArrayBufferLike, offset: number, index: number): TallyRead | undefined {
  const words = new Int32Array(buffer, offset, FOLD_TALLY_SLOTS * SLOT_WORDS);
  for (let slot = 0; slot < FOLD_TALLY_SLOTS; slot += 1) {
    const base = slot * SLOT_WORDS;
    if (Atomics.load(words, base + OWNER) !== index + 1) continue;
    const published = Atomics.load(words, base + TEXT);
    const names = keyNames(new Uint8Array(buffer, offset + WORDS_BYTES + slot * TEXT_BYTES, TEXT_BYTES), published);
    const counts: FoldedCount[] = [];
    let other = Math.max(0, Atomics.load(words, base + OTHER));
    for (let key = 0; key < MAX_FOLDED_KEYS; key += 1) {
      const count = Math.max(0, Atomics.load(words, base + COUNTS + key));
      if (count === 0) continue;
      const name = names.get(key);
      if (name === undefined) other += count;
      else counts.push([name[0], name[1], count]);
    }
    const folded = counts.reduce((sum, [, , count]) => sum + count, other);
    return folded === 0 ? undefined : { folded, counts, other };
  }
  return undefined;
}

/** The well-formed key names among the first `published` bytes of a slot's `text`. */
function keyNames(text: Uint8Array, published: number): Map<number, readonly [string, string | null]> {
  const names = new Map<number, readonly [string, string | null]>();
  if (published <= 0 || published > TEXT_BYTES) return names;
  const bytes = text.slice(0, published);
  for (const line of decoder.decode(bytes).split('\n')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (!Array.isArray(parsed) || parsed.length !== 3) continue;
    const [key, action, resource] = parsed as unknown[];
    if (!Number.isInteger(key) || (key as number) < 0 || (key as number) >= MAX_FOLDED_KEYS || typeof action !== 'string' || (resource !== null && typeof resource !== 'string')) continue;
    if (!names.has(key as number)) names.set(key as number, [action, resource]);
  }
  return names;
}
