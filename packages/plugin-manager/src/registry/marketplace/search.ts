/**
 * Search over a verified index. Pure: ranking is a function of the index and the query.
 *
 * Every word of the query must match the plugin somewhere (name, keyword, description
 * or publisher, case-insensitively); the score adds, per word, the best of: exact name
 * 100, name prefix 60, within the name 40, exact keyword 30, keyword prefix 15, within
 * the description 10, within the publisher 5. Results are ordered by score, then name.
 * An empty query lists every plugin by name.
 */
import semver from 'semver';
import type { MarketplaceIndex, PluginEntry, Revocation, VersionEntry } from './index-format.js';
import { findRevocation } from './revocation.js';

/** Most words of a query that count; the rest are ignored. */
export const MAX_QUERY_WORDS = 16;

/** One search result. */
export interface SearchResult {
  readonly name: string;
  readonly publisher: string;
  readonly description: string | undefined;
  readonly keywords: readonly string[];
  /** The highest version that is not revoked, else the highest version. */
  readonly latest: VersionEntry | undefined;
  /** Every version, highest first. */
  readonly versions: readonly string[];
  readonly score: number;
  /** The revocation covering `latest`, if any. */
  readonly revoked: Revocation | undefined;
}

function wordScore(entry: PluginEntry, word: string): number {
  const name = entry.name;
  if (name === word) return 100;
  if (name.startsWith(word)) return 60;
  if (name.includes(word)) return 40;
  if (entry.keywords.includes(word)) return 30;
  if (entry.keywords.some((keyword) => keyword.startsWith(word))) return 15;
  if (entry.description?.toLowerCase().includes(word) === true) return 10;
  if (entry.publisher.toLowerCase().includes(word)) return 5;
  return 0;
}

function result(entry: PluginEntry, score: number, revocations: readonly Revocation[]): SearchResult {
  const sorted = [...entry.versions].sort((a, b) => semver.rcompare(a.version, b.version));
  const revokedBy = (item: VersionEntry) => findRevocation(revocations, { publisher: entry.publisher, name: entry.name, version: item.version, digest: item.digest });
  const latest = sorted.find((item) => revokedBy(item) === undefined) ?? sorted[0];
  return {
    name: entry.name,
    publisher: entry.publisher,
    description: entry.description,
    keywords: entry.keywords,
    latest,
    versions: sorted.map((item) => item.version),
    score,
    revoked: latest === undefined ? undefined : revokedBy(latest),
  };
}

/** Plugins of `index` matching `query`, best first. */
export function searchIndex(index: MarketplaceIndex, query: string): SearchResult[] {
  const words = query.toLowerCase().split(/\s+/u).filter((word) => word !== '').slice(0, MAX_QUERY_WORDS);
  const found: SearchResult[] = [];
  for (const entry of index.plugins) {
    let score = 0;
    let all = true;
    for (const word of words) {
      const points = wordScore(entry, word);
      if (points === 0) {
        all = false;
        break;
      }
      score += points;
    }
    if (all) found.push(result(entry, score, index.revocations));
  }
  return found.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
