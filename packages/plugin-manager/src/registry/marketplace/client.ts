/**
 * The marketplace client: refreshes a marketplace's TUF metadata with the tuf-js
 * Updater from a pinned root, downloads the index the signed targets name, checks its
 * length and sha256, and schema-checks it.
 *
 * The cache directory (mode 0700) keeps the metadata last verified, which is what makes
 * rollbacks detectable across runs, and the index:
 *
 * ```
 * CACHE/metadata/root.json ...   what tuf-js trusts now (starts as a copy of the pinned root)
 * CACHE/targets/index.json       the last verified index
 * CACHE/state.json               sha256 of the pinned root it started from, time of the last refresh
 * ```
 *
 * SECURITY: whoever can write the cache can make this client trust another root, so it
 * is created 0700 under the user's state directory. Pinning another root (another
 * marketplace, or a re-initialised one) starts the cache afresh from it.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { Updater } from 'tuf-js';
import { parseIndex, type MarketplaceIndex, type Revocation } from './index-format.js';
import { INDEX_TARGET } from './repository.js';
import { searchIndex, type SearchResult } from './search.js';
import { tufError } from './tuf-errors.js';

/** Default largest index accepted: 16 MiB. */
export const DEFAULT_MAX_INDEX_SIZE = 16 * 1024 * 1024;
/** Default wait for one file: 30 s. */
export const DEFAULT_FETCH_TIMEOUT = 30_000;
/** Largest pinned root.json read (tuf-js's own limit for a root). */
const MAX_ROOT_BYTES = 512_000;

/**
 * The cache directory for one marketplace under a shared cache root
 * (marketplace.cache_directory): a directory per URL, so switching between marketplaces
 * does not throw away what each client saw (its rollback protection).
 */
export function marketplaceCacheFor(cacheRoot: string, url: string): string {
  return join(cacheRoot, createHash('sha256').update(url).digest('hex').slice(0, 32));
}

/** Options of {@link MarketplaceClient}. */
export interface MarketplaceClientOptions {
  /** Base URL: metadata under URL/metadata/, targets under URL/targets/. */
  readonly url: string;
  /** The pinned root.json file. */
  readonly trustedRoot: string;
  /** The client's cache directory (created 0700). */
  readonly cacheDirectory: string;
  /** Largest index accepted, bytes. Default {@link DEFAULT_MAX_INDEX_SIZE}. */
  readonly maxIndexSize?: number;
  /** Longest wait for one file, ms. Default {@link DEFAULT_FETCH_TIMEOUT}. */
  readonly fetchTimeout?: number;
}

/** An index that verified, and when. */
export interface VerifiedIndex {
  readonly index: MarketplaceIndex;
  /** sha256 of index.json as the signed targets name it, hex. */
  readonly sha256: string;
  /** When the metadata was last refreshed from the marketplace, ms since the epoch. */
  readonly refreshedAt: number;
}

interface CacheState {
  readonly root: string;
  readonly refreshedAt: number;
}

/** A client of one marketplace. Not safe for two processes sharing one cache at once. */
export class MarketplaceClient {
  readonly #options: Required<MarketplaceClientOptions>;

  constructor(options: MarketplaceClientOptions) {
    const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
    this.#options = { maxIndexSize: DEFAULT_MAX_INDEX_SIZE, fetchTimeout: DEFAULT_FETCH_TIMEOUT, ...options, url: base };
  }

  /**
   * Runs the TUF client workflow against the marketplace (root rotations, timestamp,
   * snapshot, targets), then fetches and checks the index.
   *
   * @throws ForgeError FO_MARKET_ROLLBACK, FO_MARKET_FROZEN, FO_MARKET_EXPIRED,
   *   FO_MARKET_MIX_AND_MATCH, FO_MARKET_BAD_SIGNATURE, FO_MARKET_METADATA_INVALID,
   *   FO_MARKET_METADATA_TOO_LARGE, FO_MARKET_UNREACHABLE (metadata);
   *   FO_MARKET_NO_INDEX, FO_MARKET_INDEX_TOO_LARGE, FO_MARKET_TARGET_MISMATCH,
   *   FO_MARKET_INDEX_INVALID (the index); FO_MARKET_TRUSTED_ROOT_INVALID, FO_IO_*
   */
  async refresh(): Promise<VerifiedIndex> {
    return this.#run(false);
  }

  /**
   * The index, refreshed from the marketplace when the last refresh is older than
   * `maxAge` ms; otherwise the cached metadata and index verified again offline
   * (signatures, expiry, hashes), falling back to a refresh if any of it fails.
   *
   * @throws ForgeError the codes of {@link refresh}
   */
  async load(options: { readonly maxAge: number; readonly now?: number }): Promise<VerifiedIndex> {
    const state = await this.#state();
    const fresh = state !== undefined && (options.now ?? Date.now()) - state.refreshedAt < options.maxAge;
    return this.#run(fresh);
  }

  /** Plugins matching `query`, best first (see {@link searchIndex}). @throws ForgeError the codes of {@link load} */
  async search(query: string, options: { readonly maxAge?: number } = {}): Promise<SearchResult[]> {
    return searchIndex((await this.load({ maxAge: options.maxAge ?? 0 })).index, query);
  }

  /** The revocations of a freshly verified index. @throws ForgeError the codes of {@link refresh} */
  async revocations(): Promise<readonly Revocation[]> {
    return (await this.refresh()).index.revocations;
  }

  async #run(fromCache: boolean): Promise<VerifiedIndex> {
    const { url, cacheDirectory, maxIndexSize, fetchTimeout } = this.#options;
    const metadataDir = join(cacheDirectory, 'metadata');
    const targetDir = join(cacheDirectory, 'targets');
    const pinned = await this.#prepareCache(metadataDir, targetDir);
    let updater: Updater;
    try {
      updater = new Updater({
        metadataDir,
        metadataBaseUrl: `${url}metadata/`,
        targetDir,
        targetBaseUrl: `${url}targets/`,
        forceCache: fromCache,
        config: { fetchTimeout, fetchRetry: 0, userAgent: 'forgeone' },
      });
    } catch (error) {
      throw new ForgeError('FO_MARKET_TRUSTED_ROOT_INVALID', `the trusted root in ${metadataDir} does not verify: ${(error as Error).message}`, { details: { file: join(metadataDir, 'root.json') }, cause: error });
    }
    const info = await updater.getTargetInfo(INDEX_TARGET).catch((error: unknown) => {
      throw tufError(error, 'metadata', url);
    });
    if (info === undefined) throw new ForgeError('FO_MARKET_NO_INDEX', `marketplace ${url}: the signed targets name no ${INDEX_TARGET}`, { details: { url } });
    // SECURITY: the signed length bounds the download; this bounds the signed length.
    if (info.length > maxIndexSize) {
      throw new ForgeError('FO_MARKET_INDEX_TOO_LARGE', `marketplace ${url}: the index is ${info.length} bytes; at most ${maxIndexSize} are accepted (marketplace.max_index_size)`, {
        details: { url, length: info.length, limit: maxIndexSize },
      });
    }
    const file = join(targetDir, INDEX_TARGET);
    const cached = await updater.findCachedTarget(info, file);
    if (cached === undefined) {
      await updater.downloadTarget(info, file).catch((error: unknown) => {
        throw tufError(error, 'target', url);
      });
    }
    const bytes = await readFile(file).catch((error: unknown) => {
      throw fromFsError(error, 'read the verified index', file);
    });
    const index = parseIndex(bytes, `marketplace ${url} index.json`);
    const previous = await this.#state();
    const refreshedAt = fromCache && previous !== undefined ? previous.refreshedAt : Date.now();
    await this.#writeState({ root: pinned, refreshedAt });
    return { index, sha256: info.hashes['sha256'] ?? '', refreshedAt };
  }

  /** Makes the cache start from the pinned root when it is new or the pin changed; returns the pin's sha256. */
  async #prepareCache(metadataDir: string, targetDir: string): Promise<string> {
    const { trustedRoot, cacheDirectory } = this.#options;
    const root = await readFile(trustedRoot).catch((error: unknown) => {
      throw fromFsError(error, 'read the trusted marketplace root', trustedRoot);
    });
    if (root.length > MAX_ROOT_BYTES) {
      throw new ForgeError('FO_MARKET_TRUSTED_ROOT_INVALID', `${trustedRoot} is ${root.length} bytes; a root.json is at most ${MAX_ROOT_BYTES}`, { details: { file: trustedRoot } });
    }
    const pin = createHash('sha256').update(root).digest('hex');
    const state = await this.#state();
    const fresh = state?.root !== pin;
    if (fresh) await rm(cacheDirectory, { recursive: true, force: true }).catch((error: unknown) => {
      throw fromFsError(error, 'reset the marketplace cache', cacheDirectory);
    });
    for (const dir of [cacheDirectory, metadataDir, targetDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
        throw fromFsError(error, 'create the marketplace cache', dir);
      });
    }
    if (fresh) {
      await writeFile(join(metadataDir, 'root.json'), root, { mode: 0o600 });
      await this.#writeState({ root: pin, refreshedAt: 0 });
    }
    return pin;
  }

  async #state(): Promise<CacheState | undefined> {
    try {
      const value = JSON.parse(await readFile(join(this.#options.cacheDirectory, 'state.json'), 'utf8')) as Partial<CacheState>;
      return typeof value.root === 'string' && Number.isSafeInteger(value.refreshedAt) ? (value as CacheState) : undefined;
    } catch {
      // No cache yet, or a damaged one: start afresh from the pinned root.
      return undefined;
    }
  }

  async #writeState(state: CacheState): Promise<void> {
    const file = join(this.#options.cacheDirectory, 'state.json');
    await writeFile(file, `${JSON.stringify(state)}\n`, { mode: 0o600 }).catch((error: unknown) => {
      throw fromFsError(error, 'write the marketplace cache state', file);
    });
  }
}
