import { existsSync } from 'node:fs';
import { call } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { toSafeJson } from '../../terminal.js';
import { withLocalTokens } from './local.js';
import { tokenTable, type TokenInfo } from './options.js';

/** `forge token list [--json]` */
export const tokenList = defineCommand({
  path: ['token', 'list'],
  summary: 'List the API tokens (never their secrets), newest first.',
  description: `${text`
    Shows each token's id, name, role, status (active, revoked or expired), when it was created, when
    it expires, and when it was last used (to the minute). Without a daemon, reads the daemon's
    database directly.
  `}\n\n${DAEMON_HELP}`,
  flags: [JSON_FLAG, CONFIG_FLAG],
  args: [],
  examples: ['forge token list', 'forge token list --json | jq -r \'.tokens[] | select(.revokedAt == null) | .id\''],
  async run({ flags }, io) {
    const cli = await loadCliConfig(io, flags.config);
    const link = await findDaemon(io, cli.config);
    let tokens: TokenInfo[];
    if (link !== undefined) tokens = (await call<{ tokens: TokenInfo[] }>(link.target, { method: 'GET', path: '/v1/tokens' })).tokens;
    else tokens = existsSync(cli.config.daemon.database) ? withLocalTokens(cli, (table) => table.list()) : [];
    if (flags.json) {
      io.stdout.write(toSafeJson({ tokens }));
      return;
    }
    if (tokens.length === 0) {
      io.stderr.write('no API tokens\n');
      return;
    }
    io.stdout.write(tokenTable(tokens, Date.now()));
  },
});
