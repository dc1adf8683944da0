import { call } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon, pluginPath } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { WAIT_FLAG, pluginJson, withCliStore } from './store.js';
import type { PluginView } from './views.js';

/** `forge rollback NAME [--json]` */
export const pluginRollback = defineCommand({
  path: ['rollback'],
  summary: 'Switch an installed plugin back to the version its last upgrade replaced.',
  description: `${text`
    Makes the kept previous version current and keeps the current one as previous, so running it
    twice returns to where you started. The previous version is checked first: its files against
    what was installed, and its signatures against the trust store as it is now (a revoked signer is
    refused). Its permissions were approved when it was installed. The data directory is not touched.

    With a daemon, the daemon loads the version it switched to, and a plugin that was running runs
    it. With --json, "plugin" is then the daemon's view of the plugin (as in forge ps --json)
    instead of the store's record.
  `}\n\n${DAEMON_HELP}`,
  flags: [WAIT_FLAG, JSON_FLAG, CONFIG_FLAG],
  args: [{ name: 'NAME', description: 'The plugin to roll back.', required: true }],
  examples: ['forge rollback hello'],
  async run({ flags, args }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const link = await findDaemon(io, config);
    let json: unknown;
    let line: { name: string; from: string; to: string };
    if (link !== undefined) {
      const view = await call<PluginView>(link.target, { method: 'POST', path: pluginPath(args.NAME, '/rollback') });
      json = view;
      line = { name: view.name, from: view.previousVersion ?? '', to: view.version };
    } else {
      const plugin = await withCliStore(io, flags, true, (store) => store.rollback(args.NAME));
      json = pluginJson(plugin);
      line = { name: plugin.name, from: plugin.previous?.version ?? '', to: plugin.version };
    }
    if (flags.json) {
      io.stdout.write(toSafeJson({ plugin: json }));
      return;
    }
    io.stdout.write(`rolled back ${sanitizeForTerminal(line.name)} ${sanitizeForTerminal(line.from)} -> ${sanitizeForTerminal(line.to)}\n`);
  },
});
