import { call } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { changeTokensLocally } from './local.js';
import { parseExpires, parseRole, type CreatedToken } from './options.js';

/** `forge token create --name N --role R [--expires 30d] [--json]` */
export const tokenCreate = defineCommand({
  path: ['token', 'create'],
  summary: 'Create an API bearer token with a role, and print it once.',
  description: `${text`
    Creates a token for the daemon's API, bound to a name (who or what uses it) and a role: viewer
    reads, operator also starts, stops and calls plugins, admin also installs and removes plugins
    and manages tokens. The token is printed on stdout, alone on its line (with --json, as "token"
    beside its description); only its hash is kept, so it cannot be shown again: store it now.
    Send it as "Authorization: Bearer fo_..." (FORGE_TOKEN for forge itself).

    Without a daemon, the token is written to the daemon's database (daemon.database) directly,
    which only a user who may write that file can do, and the creation is recorded in the audit log.
  `}\n\n${DAEMON_HELP}`,
  flags: [
    { name: 'name', type: 'string', value: 'N', description: 'Who or what uses the token: 1-64 printable ASCII characters; audit records name it token:N.', required: true },
    { name: 'role', type: 'string', value: 'R', description: 'viewer, operator or admin.', required: true },
    { name: 'expires', type: 'string', value: 'DURATION', description: 'Make the token expire this long from now, 1s to 3650d, e.g. 30d or 12h (default: never; revoke it with forge token revoke).' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [],
  examples: ['forge token create --name dashboard --role viewer --expires 30d', 'export FORGE_TOKEN=$(forge token create --name ci --role operator --expires 12h)'],
  async run({ flags }, io) {
    const name = flags.name ?? '';
    const role = parseRole(flags.role ?? '');
    const expiresInMs = parseExpires(flags.expires);
    const cli = await loadCliConfig(io, flags.config);
    const link = await findDaemon(io, cli.config);
    const created =
      link !== undefined
        ? await call<CreatedToken>(link.target, { method: 'POST', path: '/v1/tokens', json: { name, role, ...(flags.expires === undefined ? {} : { expires_in: flags.expires }) } })
        : await changeTokensLocally(io, cli, (tokens) => {
            const made = tokens.create(name, role, expiresInMs);
            return { result: made, action: 'create', id: made.info.id, data: { name, role } };
          });
    const { info } = created;
    io.stdout.write(flags.json ? toSafeJson(created) : `${created.token}\n`);
    io.stderr.write(
      `created token ${sanitizeForTerminal(info.id)} "${sanitizeForTerminal(info.name)}" (${sanitizeForTerminal(info.role)}, ${info.expiresAt === null ? 'never expires' : `expires ${sanitizeForTerminal(info.expiresAt)}`}); ` +
        'store it now: it is shown only this once\n',
    );
  },
});
