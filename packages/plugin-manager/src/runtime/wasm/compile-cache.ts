import { createHash } from 'node:crypto';
import { ForgeError, checkLimitOption } from '@forgeone/common';
import { engine, type CompiledModule } from './engine.js';

/** Options for {@link CompileCache}. */
export interface CompileCacheOptions {
  /** Most modules kept; the least recently used goes first. Default 64. */
  readonly maxEntries?: number;
  /**
   * Most module bytes kept, counted as the length of the bytes compiled (a proxy: the
   * engine's machine code is typically a few times larger). Default 256 MiB.
   */
  readonly maxBytes?: number;
  /** The compiler; default `WebAssembly.compile`. */
  readonly compile?: (bytes: Uint8Array) => Promise<CompiledModule>;
}

/** Counters of a {@link CompileCache}. */
export interface CompileCacheStats {
  /** Calls answered from the cache, including calls that joined a compile under way. */
  readonly hits: number;
  /** Calls that started a compile. */
  readonly misses: number;
  /** Compiles that failed (never cached). */
  readonly failures: number;
  /** Entries dropped to stay within the bounds. */
  readonly evictions: number;
  readonly entries: number;
  readonly bytes: number;
}

interface Entry {
  readonly size: number;
  readonly promise: Promise<CompiledModule>;
  /** Identifies this compile, so a late failure never drops a newer entry. */
  readonly token: object;
}

const MiB = 1024 * 1024;

/**
 * Compiled modules keyed by the sha256 of the bytes they were compiled from (the
 * instrumented bytes), so a plugin compiles once however many instances it has.
 * Concurrent requests for the same bytes share one compile; a failed compile is not
 * kept, so a later request tries again. Bounded by entry count and bytes, evicting the
 * least recently used; an evicted module stays valid for whoever holds it.
 */
export class CompileCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #compile: (bytes: Uint8Array) => Promise<CompiledModule>;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #failures = 0;
  #evictions = 0;

  /** @throws ForgeError FO_LIMIT_INVALID when a bound is not a non-negative integer */
  constructor(options: CompileCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 64;
    this.#maxBytes = options.maxBytes ?? 256 * MiB;
    checkLimitOption('compile cache maxEntries', this.#maxEntries);
    checkLimitOption('compile cache maxBytes', this.#maxBytes);
    this.#compile = options.compile ?? ((bytes) => engine.compile(bytes));
  }

  /** The cache key of `bytes`: lowercase hex sha256. */
  static digest(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  /**
   * The compiled module for `bytes`, from the cache or compiled now.
   * @throws ForgeError FO_RUNTIME_COMPILE_FAILED (rejects) when the engine refuses the
   *   bytes; the message carries its reason
   */
  compile(bytes: Uint8Array): Promise<CompiledModule> {
    const digest = CompileCache.digest(bytes);
    const cached = this.#entries.get(digest);
    if (cached !== undefined) {
      this.#hits += 1;
      // Refresh its place in the LRU order.
      this.#entries.delete(digest);
      this.#entries.set(digest, cached);
      return cached.promise;
    }
    this.#misses += 1;
    // SECURITY: the compile starts now, on the very bytes just hashed (the engine copies
    // them), so a caller changing its buffer afterwards cannot poison the entry.
    let started: Promise<CompiledModule>;
    try {
      started = this.#compile(bytes);
    } catch (error) {
      started = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const token = {};
    const promise = this.#settle(started, digest, token);
    const entry: Entry = { size: bytes.length, promise, token };
    this.#entries.set(digest, entry);
    this.#bytes += entry.size;
    this.#evict();
    return promise;
  }

  /** True when a module (compiled or compiling) for this digest is cached. */
  has(digest: string): boolean {
    return this.#entries.has(digest);
  }

  /** Drops one entry; true when it was there. */
  delete(digest: string): boolean {
    const entry = this.#entries.get(digest);
    if (entry === undefined) return false;
    this.#entries.delete(digest);
    this.#bytes -= entry.size;
    return true;
  }

  /** Drops every entry (the counters stay). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  get stats(): CompileCacheStats {
    return { hits: this.#hits, misses: this.#misses, failures: this.#failures, evictions: this.#evictions, entries: this.#entries.size, bytes: this.#bytes };
  }

  async #settle(started: Promise<CompiledModule>, digest: string, token: object): Promise<CompiledModule> {
    try {
      return await started;
    } catch (error) {
      this.#failures += 1;
      if (this.#entries.get(digest)?.token === token) this.delete(digest);
      const reason = error instanceof Error ? error.message : String(error);
      throw new ForgeError('FO_RUNTIME_COMPILE_FAILED', `compiling module sha256:${digest}: expected a module the engine accepts, found: ${reason}`, {
        details: { digest: `sha256:${digest}`, reason },
        cause: error,
      });
    }
  }

  #evict(): void {
    for (const [digest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) return;
      this.#entries.delete(digest);
      this.#bytes -= entry.size;
      this.#evictions += 1;
    }
  }
}
