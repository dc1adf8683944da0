/**
 * The daemon's side of marketplace revocations (docs/marketplace.md, "Revocation"): with
 * `plugin_manager.marketplace` configured, the daemon verifies the marketplace's index
 * before it brings plugins back (so a revoked plugin is refused at load), and again
 * every `refresh_interval`; each verified list goes to the registry, which quarantines
 * the loaded plugins it covers and refuses to load them again.
 *
 * A refresh that fails (marketplace unreachable, an attack detected: FO_MARKET_*) is
 * logged as an error and leaves the last verified list in force; at start, the cached
 * metadata is verified offline first (signatures and expiry), so a daemon restarted
 * while the marketplace is down still enforces what it knew, until that metadata expires.
 *
 * The watch owns the daemon's one MarketplaceClient: search and install by reference
 * (routes/marketplace.ts, pulls.ts) read the index it verified, so one cache directory
 * is never refreshed by two clients at once.
 */
import { ForgeError, toForgeError, type Logger, type MarketplaceConfig, type PluginIdentity } from '@forgeone/common';
import type { PluginRegistry } from '@forgeone/plugin-manager';
import { MarketplaceClient, marketplaceCacheFor, refuseRevoked, type VerifiedIndex } from '@forgeone/plugin-manager/marketplace';

/** What the watch reports (forge doctor, the API's /v1/system). */
export interface RevocationStatus {
  readonly url: string;
  /** Revocations in force, from the last verified index (0 before the first). */
  readonly revocations: number;
  /** When the index in force was last refreshed from the marketplace (ISO 8601), if ever. */
  readonly refreshedAt: string | undefined;
  /** The last failure, cleared by a successful refresh. */
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | undefined;
  /** Plugins quarantined by revocations since the daemon started. */
  readonly quarantined: readonly string[];
}

/** Watches one marketplace's revocations for a registry. */
export class RevocationWatch {
  readonly #client: MarketplaceClient;
  readonly #config: MarketplaceConfig & { readonly url: string };
  readonly #registry: Pick<PluginRegistry, 'applyRevocations'>;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #verified: VerifiedIndex | undefined;
  #lastFailure: ForgeError | undefined;
  #status: { revocations: number; refreshedAt: string | undefined; lastError: RevocationStatus['lastError']; quarantined: string[] };

  /** @throws ForgeError FO_MARKET_NOT_CONFIGURED when url or trusted_root is missing */
  constructor(config: MarketplaceConfig, registry: Pick<PluginRegistry, 'applyRevocations'>, logger: Logger) {
    const { url, trusted_root: trustedRoot } = config;
    if (url === undefined || trustedRoot === undefined) throw new ForgeError('FO_MARKET_NOT_CONFIGURED', 'revocations need marketplace.url and marketplace.trusted_root');
    this.#config = { ...config, url };
    this.#client = new MarketplaceClient({ url, trustedRoot, cacheDirectory: marketplaceCacheFor(config.cache_directory, url), maxIndexSize: config.max_index_size, fetchTimeout: config.fetch_timeout });
    this.#registry = registry;
    this.#logger = logger;
    this.#status = { revocations: 0, refreshedAt: undefined, lastError: undefined, quarantined: [] };
  }

  /** Applies the cached (or, when older than refresh_interval, a fresh) index, then refreshes every refresh_interval. Never throws. */
  async start(): Promise<void> {
    await this.#once(() => this.#client.load({ maxAge: this.#config.refresh_interval }));
    this.#timer = setInterval(() => void this.refresh(), this.#config.refresh_interval);
    this.#timer.unref();
  }

  /** Refreshes now (one verification at a time: one already running, the start's included, is awaited instead). Never throws. */
  refresh(): Promise<void> {
    return this.#once(() => this.#client.refresh());
  }

  /** Runs one verification of the index at a time (the start's load included): the client's cache directory is never used by two at once. */
  #once(fetch: () => Promise<VerifiedIndex>): Promise<void> {
    this.#running ??= this.#apply(fetch).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Refuses a plugin the revocations in force cover (the daemon's installs ask before
   * anything is written; loads are refused by the registry). No I/O.
   * @throws ForgeError FO_MARKET_PLUGIN_REVOKED naming the revocation
   */
  check(identity: PluginIdentity): void {
    refuseRevoked(this.#verified?.index.revocations ?? [], identity, this.#config.url);
  }

  /** The index verified last (whose revocations are in force), if any: no I/O. */
  current(): VerifiedIndex | undefined {
    return this.#verified;
  }

  /**
   * The verified index, refreshed first when the one in force is older than refresh_interval
   * (or there is none yet).
   * @throws ForgeError the refresh's FO_MARKET_* code when no index verified within refresh_interval is at hand
   */
  async index(now = Date.now()): Promise<VerifiedIndex> {
    const fresh = (verified: VerifiedIndex | undefined): verified is VerifiedIndex => verified !== undefined && now - verified.refreshedAt < this.#config.refresh_interval;
    if (fresh(this.#verified)) return this.#verified;
    await this.refresh();
    if (fresh(this.#verified)) return this.#verified;
    throw this.#lastFailure ?? new ForgeError('FO_MARKET_UNREACHABLE', `marketplace ${this.#config.url}: no index verified within refresh_interval`, { details: { url: this.#config.url } });
  }

  status(): RevocationStatus {
    return { url: this.#config.url, ...this.#status, quarantined: [...this.#status.quarantined] };
  }

  /** Stops refreshing and waits for a refresh in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #apply(fetch: () => Promise<VerifiedIndex>): Promise<void> {
    const url = this.#config.url;
    let verified: VerifiedIndex;
    try {
      verified = await fetch();
    } catch (error) {
      const failure = toForgeError(error);
      this.#lastFailure = failure;
      this.#status.lastError = { code: failure.code, message: failure.message, at: new Date().toISOString() };
      this.#logger.error('the marketplace index could not be verified; the revocations verified last stay in force', { url, code: failure.code, error: failure.message, revocations: this.#status.revocations });
      return;
    }
    try {
      this.#verified = verified;
      this.#lastFailure = undefined;
      const quarantined = await this.#registry.applyRevocations(verified.index.revocations, url);
      this.#status = { ...this.#status, revocations: verified.index.revocations.length, refreshedAt: new Date(verified.refreshedAt).toISOString(), lastError: undefined, quarantined: [...this.#status.quarantined, ...quarantined] };
      if (quarantined.length > 0) this.#logger.warn('plugins revoked by the marketplace were quarantined', { url, plugins: quarantined });
    } catch (error) {
      // The registry closed under us (daemon shutdown): nothing to enforce any more.
      this.#logger.warn('revocations could not be applied', { url, error: toForgeError(error).message });
    }
  }
}
