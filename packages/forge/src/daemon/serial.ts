/**
 * Runs operations on the same key one after another (a plugin's lifecycle changes, its
 * install and its removal), while operations on different keys run at once. A failing
 * operation does not stop the ones queued after it.
 */
export class Serial {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier operation on `key` has settled. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const next = before.then(work, work);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  /** Resolves once every operation queued so far has settled. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }
}
