import { resolve } from 'node:path';
import { ForgeError } from '@forgeone/common';
import { MarketplaceClient, marketplaceCacheFor, searchIndex, type SearchResult } from '@forgeone/plugin-manager/marketplace';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { text } from '../../help-text.js';
import { table } from '../../table.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';

/** Longest description shown in the table; --json has all of it. */
const DESCRIPTION_COLUMN = 60;

function row(result: SearchResult): string[] {
  const description = result.description ?? '';
  const shown = description.length > DESCRIPTION_COLUMN ? `${description.slice(0, DESCRIPTION_COLUMN - 1)}…` : description;
  return [result.name, result.latest?.version ?? '-', result.publisher, result.revoked === undefined ? '' : 'REVOKED', shown].map(sanitizeForTerminal);
}

/** `forge search [QUERY...] [--json]` */
export const search = defineCommand({
  path: ['search'],
  summary: 'Search the configured marketplace for plugins.',
  description: text`
    Refreshes the marketplace's TUF metadata from the pinned root (marketplace.url, marketplace.trusted_root)
    when the last refresh is older than marketplace.refresh_interval, verifies the index, and lists the plugins
    every word of QUERY matches (name, keywords, description, publisher), best first. Within the interval the
    cached metadata is verified again offline. A plugin whose newest versions are revoked shows its newest
    version that is not; REVOKED marks one whose every version is. Exit status 5 means the marketplace's
    metadata failed verification (rollback, freeze, tampering: the message names which).
  `,
  flags: [
    { name: 'refresh', type: 'boolean', description: 'Ask the marketplace now, whatever refresh_interval says.' },
    { name: 'url', type: 'string', value: 'URL', description: 'Marketplace URL (default: marketplace.url); needs --root.' },
    { name: 'root', type: 'string', value: 'FILE', description: 'Pinned root.json for --url (default: marketplace.trusted_root).' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'QUERY', description: 'Words to search for; none lists every plugin.', variadic: true }],
  examples: ['forge search key value', 'forge search --json logging', 'forge search --url http://127.0.0.1:8080/ --root market-root.json'],
  async run({ flags, args }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const market = config.marketplace;
    if ((flags.url === undefined) !== (flags.root === undefined)) {
      throw new ForgeError('FO_CLI_MISSING_ARGUMENT', '--url and --root go together: a marketplace is trusted through its pinned root', { details: { flag: flags.url === undefined ? 'url' : 'root' } });
    }
    const url = flags.url ?? market.url;
    const trustedRoot = flags.root === undefined ? market.trusted_root : resolve(io.cwd, flags.root);
    if (url === undefined || trustedRoot === undefined) {
      throw new ForgeError('FO_MARKET_NOT_CONFIGURED', 'no marketplace is configured: set marketplace.url and marketplace.trusted_root in the configuration, or pass --url and --root');
    }
    const client = new MarketplaceClient({
      url,
      trustedRoot,
      cacheDirectory: marketplaceCacheFor(market.cache_directory, url),
      maxIndexSize: market.max_index_size,
      fetchTimeout: market.fetch_timeout,
    });
    const verified = await client.load({ maxAge: flags.refresh ? 0 : market.refresh_interval });
    const results = searchIndex(verified.index, args.QUERY.join(' '));
    if (flags.json) {
      io.stdout.write(toSafeJson({ url, refreshedAt: new Date(verified.refreshedAt).toISOString(), indexSha256: verified.sha256, results }));
      return;
    }
    if (results.length === 0) {
      io.stderr.write(`no plugin in ${sanitizeForTerminal(url)} matches\n`);
      return;
    }
    io.stdout.write(`${table([['NAME', 'VERSION', 'PUBLISHER', 'STATUS', 'DESCRIPTION'], ...results.map(row)]).map((line) => line.trimEnd()).join('\n')}\n`);
  },
});
