/**
 * Host calls counted by call name and decision, for metrics: every passage of the
 * pipeline (pipeline.ts) adds one. A plugin's gate has its own counter, so the counts
 * are per plugin without a plugin key.
 *
 * The counter is cheap enough for the allowed-from-cache path: one Map lookup by the
 * call's name (a string the host interned: WASI and forge.* import names, never a
 * plugin's data) and one increment. It allocates only the first time a name is seen.
 * Call names come from the host's catalog, so the number of entries is bounded by it.
 */

/** How often one call was allowed and denied. */
export interface HostCallCount {
  /** The call's name, `wasi_snapshot_preview1.fd_write` or `forge.kv_get`. */
  readonly call: string;
  readonly allowed: number;
  readonly denied: number;
}

/** The counts of one gate. Not thread-safe: one thread (the gate's) counts. */
export class DecisionCounts {
  /** [allowed, denied] since creation, and what {@link takeDeltas} last reported of them. */
  readonly #byCall = new Map<string, { allowed: number; denied: number; reportedAllowed: number; reportedDenied: number }>();
  #changed = false;

  /** Counts one passage of `call`. */
  count(call: string, allowed: boolean): void {
    let entry = this.#byCall.get(call);
    if (entry === undefined) {
      entry = { allowed: 0, denied: 0, reportedAllowed: 0, reportedDenied: 0 };
      this.#byCall.set(call, entry);
    }
    if (allowed) entry.allowed += 1;
    else entry.denied += 1;
    this.#changed = true;
  }

  /** True when something was counted since the last {@link takeDeltas}. */
  get changed(): boolean {
    return this.#changed;
  }

  /** Every call's counts since creation, sorted by name. */
  totals(): HostCallCount[] {
    return [...this.#byCall].map(([call, entry]) => ({ call, allowed: entry.allowed, denied: entry.denied })).sort((a, b) => (a.call < b.call ? -1 : a.call > b.call ? 1 : 0));
  }

  /**
   * What was counted since the last call of this method (only calls with new counts),
   * for a thread that ships its counts to another in increments.
   */
  takeDeltas(): HostCallCount[] {
    const deltas: HostCallCount[] = [];
    if (!this.#changed) return deltas;
    this.#changed = false;
    for (const [call, entry] of this.#byCall) {
      const allowed = entry.allowed - entry.reportedAllowed;
      const denied = entry.denied - entry.reportedDenied;
      if (allowed === 0 && denied === 0) continue;
      entry.reportedAllowed = entry.allowed;
      entry.reportedDenied = entry.denied;
      deltas.push({ call, allowed, denied });
    }
    return deltas;
  }
}
