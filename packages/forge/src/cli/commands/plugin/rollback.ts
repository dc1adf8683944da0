import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { WAIT_FLAG, pluginJson, withCliStore } from './store.js';
import { text } from '../../help-text.js';

/** `forge rollback NAME [--json]` */
export const pluginRollback = defineCommand({
  path: ['rollback'],
  summary: 'Switch an installed plugin back to the version its last upgrade replaced.',
  description: text`
    Makes the kept previous version current and keeps the current one as previous, so running it
    twice returns to where you started. The previous version is checked first: its files against
    what was installed, and its signatures against the trust store as it is now (a revoked signer is
    refused). Its permissions were approved when it was installed. The data directory is not touched.
  `,
  flags: [WAIT_FLAG, JSON_FLAG, CONFIG_FLAG],
  args: [{ name: 'NAME', description: 'The plugin to roll back.', required: true }],
  examples: ['forge rollback hello'],
  async run({ flags, args }, io) {
    const plugin = await withCliStore(io, flags, true, (store) => store.rollback(args.NAME));
    if (flags.json) {
      io.stdout.write(toSafeJson({ plugin: pluginJson(plugin) }));
      return;
    }
    io.stdout.write(`rolled back ${sanitizeForTerminal(plugin.name)} ${sanitizeForTerminal(plugin.previous?.version ?? '')} -> ${sanitizeForTerminal(plugin.version)}\n`);
  },
});
