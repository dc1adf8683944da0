import type { ErrorSpec } from '../spec.js';

/**
 * Codes for the marketplace: its TUF repository (`forge marketplace`), the client that
 * refreshes and verifies it, and the index it carries (`FO_MARKET_*`).
 *
 * Each TUF attack the client detects has its own code, of kind `integrity` (the
 * metadata is broken or replayed), so a caller can tell a rollback from a freeze from
 * a tampered index; limits are `limit`, an index that is signed but malformed is
 * `invalid`.
 */
export const MARKETPLACE_CODES = {
  FO_MARKET_PLUGIN_REVOKED: {
    kind: 'denied',
    summary:
      'A revocation in the configured marketplace\'s verified index covers the plugin (its publisher, name, version or content digest): it is refused at load and install, and quarantined if it was running.',
  },
  FO_MARKET_ROLLBACK: {
    kind: 'integrity',
    summary:
      'The repository served metadata older than metadata this client already trusted (a lower timestamp, snapshot or targets version, or a root out of sequence): a rollback attack or a repository restored from a backup.',
  },
  FO_MARKET_FROZEN: {
    kind: 'integrity',
    summary:
      'The newest timestamp metadata the repository serves has expired: a freeze attack (old, validly signed metadata replayed to hide updates and revocations) or a repository whose timestamp is no longer re-signed.',
  },
  FO_MARKET_EXPIRED: {
    kind: 'integrity',
    summary: 'The root, snapshot or targets metadata (the index itself) has expired; its publisher must publish again.',
  },
  FO_MARKET_MIX_AND_MATCH: {
    kind: 'integrity',
    summary:
      'Snapshot or targets metadata is not the one its parent names (version, length or sha256 differ): files of different publishes were mixed, or the metadata was altered.',
  },
  FO_MARKET_BAD_SIGNATURE: {
    kind: 'integrity',
    summary: 'Metadata is not signed by the threshold of keys the trusted root names for its role.',
  },
  FO_MARKET_TARGET_MISMATCH: {
    kind: 'integrity',
    summary: "The downloaded index's length or sha256 differs from what the signed targets metadata says: the index was tampered with.",
  },
  FO_MARKET_METADATA_INVALID: {
    kind: 'integrity',
    summary: 'A metadata file is not well-formed TUF metadata (bad JSON, wrong type, missing or mistyped fields).',
  },
  FO_MARKET_METADATA_TOO_LARGE: {
    kind: 'limit',
    summary: 'A metadata file is larger than its limit (timestamp 16KiB, root 512KiB, or the length its parent metadata signs).',
  },
  FO_MARKET_INDEX_TOO_LARGE: {
    kind: 'limit',
    summary: 'The signed targets metadata announces an index larger than the client accepts (marketplace.max_index_size).',
  },
  FO_MARKET_INDEX_INVALID: {
    kind: 'invalid',
    summary: 'The index is correctly signed but breaks the index format (a field missing, mistyped, too long or too many); details.issues lists every one.',
  },
  FO_MARKET_NO_INDEX: {
    kind: 'not_found',
    summary: 'The signed targets metadata names no index.json.',
  },
  FO_MARKET_UNREACHABLE: {
    kind: 'unavailable',
    summary: 'The marketplace could not be reached (connection refused, timeout, an HTTP status other than 200).',
  },
  FO_MARKET_NOT_CONFIGURED: {
    kind: 'usage',
    summary: 'No marketplace is configured: set marketplace.url and marketplace.trusted_root, or pass --url and --root.',
  },
  FO_MARKET_TRUSTED_ROOT_INVALID: {
    kind: 'invalid',
    summary: 'The pinned trusted root.json is not TUF root metadata signed by the threshold of its own root keys.',
  },
  FO_MARKET_REPOSITORY_EXISTS: {
    kind: 'conflict',
    summary: 'forge marketplace init was pointed at a directory that already holds a repository.',
  },
  FO_MARKET_REPOSITORY_INVALID: {
    kind: 'invalid',
    summary: 'A marketplace repository directory lacks a key, its settings or its published metadata, or they disagree.',
  },
  FO_MARKET_ENTRY_INVALID: {
    kind: 'invalid',
    summary: 'A plugin version or revocation to publish is malformed (an OCI reference that is not registry/repository[:tag][@sha256:digest], keywords, reason); details.issues lists every problem.',
  },
  FO_MARKET_PUBLISHER_MISMATCH: {
    kind: 'conflict',
    summary: 'The index already lists the plugin name under another publisher; one name has one publisher.',
  },
  FO_MARKET_VERSION_EXISTS: {
    kind: 'conflict',
    summary: 'The index already lists that plugin version with another content digest; a published version is never replaced.',
  },
  FO_MARKET_DIGEST_MISMATCH: {
    kind: 'integrity',
    summary:
      'The package pulled from the registry has another content digest than the one asked for (the marketplace index\'s): the registry serves other bytes than the signed index names, and nothing is installed; details give both digests.',
  },
} as const satisfies Record<string, ErrorSpec>;
