/**
 * `plugin_manager.marketplace`: where `forge search` (and later the daemon) finds a
 * marketplace index, and the TUF root it trusts for it (docs/marketplace.md). Apart
 * from schema.ts, which is the rest of the file's tables, to keep each file one concept.
 */
import { duration, object, optional, refine, size, string, withDefault, type Infer } from '../schema/index.js';

const path = string({ minLength: 1, maxLength: 4096, expected: 'a file system path' });
const MiB = 1024 ** 2;

/**
 * True for an http(s) URL without credentials, query or fragment: the base the client
 * appends `metadata/` and `targets/` to. Credentials in a URL would end up in logs and
 * `forge config check`; TUF needs no secrecy from the transport.
 */
export function isMarketplaceUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
}

/** `plugin_manager.marketplace`. */
export const marketplaceSchema = object({
  url: optional(
    refine(string({ maxLength: 2048 }), 'an http(s) URL without credentials, query or fragment', isMarketplaceUrl),
    'Base URL of the marketplace (what forge marketplace serve prints): TUF metadata is read under URL/metadata/, the index under URL/targets/. Needs trusted_root. Absent: no marketplace; forge search fails with FO_MARKET_NOT_CONFIGURED.',
  ),
  trusted_root: optional(
    path,
    'The marketplace\'s root.json as its operator handed it over (forge marketplace init writes it), pinned: every later root must be signed by this one\'s root keys, in sequence. Needs url. A relative path is taken from the configuration file\'s directory.',
  ),
  cache_directory: withDefault(
    path,
    '/var/lib/forgeone/marketplace',
    'Where the client keeps the metadata it verified (for rollback protection) and the index, created with mode 0700. A relative path is taken from the configuration file\'s directory.',
  ),
  refresh_interval: withDefault(
    duration(1000, 7 * 24 * 3_600_000),
    '1h',
    'How long a verified index is used before forge search asks the marketplace again; within it, the cached metadata is verified again offline (signatures, expiry). --refresh asks at once.',
  ),
  max_index_size: withDefault(size(1024, 1024 * MiB), '16MB', 'Largest index the client downloads; a larger one is refused (FO_MARKET_INDEX_TOO_LARGE) before it is fetched.'),
  fetch_timeout: withDefault(duration(100, 600_000), '30s', 'Longest wait for one file from the marketplace.'),
});

/** `plugin_manager.marketplace`, normalised (sizes in bytes, durations in ms, paths absolute). */
export type MarketplaceConfig = Infer<typeof marketplaceSchema>;
