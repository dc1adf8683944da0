/**
 * The job queue of one pool worker: urgent jobs first (policy updates, re-creating
 * instances after a restart), then one job per plugin in turn. A plugin with a hundred
 * calls queued delays a neighbour's call by at most one of its calls, not a hundred;
 * each plugin's own jobs keep their order.
 */
export class FairQueue<K, T> {
  readonly #urgent: T[] = [];
  /** Pending jobs per key; Map order is the turn order (a served key moves to the end). */
  readonly #byKey = new Map<K, T[]>();
  #size = 0;
  /** The key served last. */
  #last: K | undefined;

  /** Jobs waiting. */
  get size(): number {
    return this.#size;
  }

  /** Queues `item` behind `key`'s earlier items. */
  push(key: K, item: T): void {
    const pending = this.#byKey.get(key);
    if (pending === undefined) this.#byKey.set(key, [item]);
    else pending.push(item);
    this.#size += 1;
  }

  /** Queues `item` ahead of every keyed item, behind earlier urgent ones. */
  pushUrgent(item: T): void {
    this.#urgent.push(item);
    this.#size += 1;
  }

  /**
   * The next job: the oldest urgent one, else the oldest of the key whose turn it is.
   * The key served last waits for every other key with jobs, even when its jobs were
   * queued after it was served (a plugin calling again right after its call finished
   * does not go ahead of a neighbour that was already waiting).
   */
  shift(): T | undefined {
    const urgent = this.#urgent.shift();
    if (urgent !== undefined) {
      this.#size -= 1;
      return urgent;
    }
    let chosen: K | undefined;
    let found = false;
    for (const key of this.#byKey.keys()) {
      chosen = key;
      found = true;
      if (key !== this.#last) break;
    }
    if (!found) return undefined;
    const key = chosen as K;
    const pending = this.#byKey.get(key) ?? [];
    const item = pending.shift();
    this.#byKey.delete(key);
    if (pending.length > 0) this.#byKey.set(key, pending);
    this.#last = key;
    this.#size -= 1;
    return item;
  }

  /** Removes and returns every job `matches` selects, urgent ones first, each key's in order. */
  take(matches: (item: T) => boolean): T[] {
    const taken: T[] = [];
    const keep = (list: T[]): T[] => {
      const kept: T[] = [];
      for (const item of list) (matches(item) ? taken : kept).push(item);
      return kept;
    };
    this.#urgent.splice(0, this.#urgent.length, ...keep(this.#urgent));
    for (const [key, pending] of [...this.#byKey]) {
      const kept = keep(pending);
      if (kept.length === 0) this.#byKey.delete(key);
      else this.#byKey.set(key, kept);
    }
    this.#size -= taken.length;
    return taken;
  }
}
