import { resolve } from 'node:path';
import { DEFAULT_EXPIRY, REPOSITORY_LAYOUT, initRepository } from '@forgeone/plugin-manager/marketplace';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { wholeNumber } from '../ca/options.js';

const DAY = 24 * 3_600_000;
const days = (ms: number): number => Math.round(ms / DAY);

/** `forge marketplace init DIR` */
export const marketplaceInit = defineCommand({
  path: ['marketplace', 'init'],
  summary: 'Create a marketplace: a TUF repository with its four role keys and an empty index.',
  description: text`
    Creates DIR/keys/{root,targets,snapshot,timestamp}.pem (Ed25519, mode 0600), DIR/repository.json (expiry
    per role) and the published metadata under DIR/public/. Prints the path of public/metadata/1.root.json: give
    that file to clients (marketplace.trusted_root), who pin it. After init, move keys/root.pem offline: publishing
    needs only the targets, snapshot and timestamp keys. Publish at least once per timestamp expiry, or clients
    refuse the marketplace as frozen (FO_MARKET_FROZEN).
  `,
  flags: [
    { name: 'root-days', type: 'string', value: 'N', description: `Days root metadata stays valid (default: ${days(DEFAULT_EXPIRY.root)}).` },
    { name: 'targets-days', type: 'string', value: 'N', description: `Days each published index stays valid (default: ${days(DEFAULT_EXPIRY.targets)}).` },
    { name: 'snapshot-days', type: 'string', value: 'N', description: `Days snapshot metadata stays valid (default: ${days(DEFAULT_EXPIRY.snapshot)}).` },
    { name: 'timestamp-days', type: 'string', value: 'N', description: `Days timestamp metadata stays valid (default: ${days(DEFAULT_EXPIRY.timestamp)}).` },
    JSON_FLAG,
  ],
  args: [{ name: 'DIR', description: 'The repository directory to create (it must not hold one).', required: true }],
  examples: ['forge marketplace init ./market', 'forge marketplace init ./market --timestamp-days 1'],
  async run({ flags, args }, io) {
    const expiry: Record<string, number> = {};
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
      const value = wholeNumber(`${role}-days`, flags[`${role}-days`], 1, 3650);
      if (value !== undefined) expiry[role] = value * DAY;
    }
    const dir = resolve(io.cwd, args.DIR);
    const result = await initRepository(dir, { expiry });
    if (flags.json) {
      io.stdout.write(toSafeJson({ dir, rootFile: result.rootFile, published: result.published, keyids: result.keyids }));
      return;
    }
    io.stderr.write(
      `created marketplace ${sanitizeForTerminal(dir)}; serve it with: forge marketplace serve ${sanitizeForTerminal(dir)} (it publishes ${sanitizeForTerminal(result.published)}); ` +
        `pin the root below on clients, and keep ${sanitizeForTerminal(REPOSITORY_LAYOUT.keys)}/root.pem offline\n`,
    );
    io.stdout.write(`${sanitizeForTerminal(result.rootFile)}\n`);
  },
});
