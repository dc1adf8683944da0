import { call } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { changeTokensLocally } from './local.js';
import type { TokenInfo } from './options.js';

/** `forge token revoke ID [--json]` */
export const tokenRevoke = defineCommand({
  path: ['token', 'revoke'],
  summary: 'Revoke an API token: its next request is refused.',
  description: `${text`
    Marks the token revoked; it stays listed as revoked. Revoking a token twice is not an error.
    Without a daemon, writes the daemon's database directly and records the revocation in the
    audit log.
  `}\n\n${DAEMON_HELP}`,
  flags: [JSON_FLAG, CONFIG_FLAG],
  args: [{ name: 'ID', description: 'The token\'s id (forge token list), the 16 hex digits after fo_.', required: true }],
  examples: ['forge token revoke 3f2a9c0d1e4b5a68'],
  async run({ flags, args }, io) {
    const cli = await loadCliConfig(io, flags.config);
    const link = await findDaemon(io, cli.config);
    const info =
      link !== undefined
        ? await call<TokenInfo>(link.target, { method: 'DELETE', path: `/v1/tokens/${encodeURIComponent(args.ID)}` })
        : await changeTokensLocally(io, cli, (tokens) => {
            const revoked = tokens.revoke(args.ID);
            return { result: revoked, action: 'revoke', id: revoked.id, data: { name: revoked.name } };
          });
    io.stdout.write(flags.json ? toSafeJson(info) : `revoked token ${sanitizeForTerminal(info.id)} "${sanitizeForTerminal(info.name)}"\n`);
  },
});
