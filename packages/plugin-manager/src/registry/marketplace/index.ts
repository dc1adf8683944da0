/**
 * The marketplace: a TUF-protected index of plugins (docs/marketplace.md). The
 * repository side (init, publish, serve) and the client (refresh, search, revocations).
 */
export { MarketplaceClient, marketplaceCacheFor, DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_INDEX_SIZE, type MarketplaceClientOptions, type VerifiedIndex } from './client.js';
export { INDEX_LIMITS, INDEX_SCHEMA, emptyIndex, isOciReference, parseIndex, serializeIndex, validateIndex, type MarketplaceIndex, type PluginEntry, type Revocation, type VersionEntry } from './index-format.js';
export { addRevocation, addVersion, publicationOf, type Publication } from './index-edit.js';
export { DEFAULT_EXPIRY, INDEX_TARGET, REPOSITORY_LAYOUT, initRepository, publishIndex, type InitResult, type PublishResult, type RepositoryExpiry, type RepositoryOptions } from './repository.js';
export { findRevocation, refuseRevoked, revocationCovers, revokedError, type RevocationSubject } from './revocation.js';
export { MAX_QUERY_WORDS, searchIndex, type SearchResult } from './search.js';
export { serveDirectory, type ServeOptions, type ServingDirectory } from './serve.js';
