/**
 * @forgeone/plugin-manager/marketplace: a TUF-protected marketplace index
 * (docs/marketplace.md): the repository `forge marketplace init|publish|revoke|serve`
 * maintains, and the client `forge search` (and later the daemon) reads it with.
 */

// The client: refresh, verify, search, revocations.
export {
  DEFAULT_FETCH_TIMEOUT,
  DEFAULT_MAX_INDEX_SIZE,
  MarketplaceClient,
  marketplaceCacheFor,
  type MarketplaceClientOptions,
  type VerifiedIndex,
} from './registry/marketplace/index.js';
export { MAX_QUERY_WORDS, searchIndex, type SearchResult } from './registry/marketplace/index.js';
export { findRevocation, refuseRevoked, revocationCovers, revokedError, type RevocationSubject } from './registry/marketplace/index.js';

// The index format.
export {
  INDEX_LIMITS,
  INDEX_SCHEMA,
  emptyIndex,
  isOciReference,
  parseIndex,
  serializeIndex,
  validateIndex,
  type MarketplaceIndex,
  type PluginEntry,
  type Revocation,
  type VersionEntry,
} from './registry/marketplace/index.js';

// The repository: init, publish, serve.
export { addRevocation, addVersion, publicationOf, type Publication } from './registry/marketplace/index.js';
export {
  DEFAULT_EXPIRY,
  INDEX_TARGET,
  REPOSITORY_LAYOUT,
  initRepository,
  publishIndex,
  type InitResult,
  type PublishResult,
  type RepositoryExpiry,
  type RepositoryOptions,
} from './registry/marketplace/index.js';
export { serveDirectory, type ServeOptions, type ServingDirectory } from './registry/marketplace/index.js';
