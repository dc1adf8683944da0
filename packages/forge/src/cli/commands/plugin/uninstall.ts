import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { WAIT_FLAG, withCliStore } from './store.js';
import { text } from '../../help-text.js';

/** `forge uninstall NAME [--json]` */
export const pluginUninstall = defineCommand({
  path: ['uninstall'],
  summary: 'Remove an installed plugin: every kept version and its data directory.',
  description: text`
    Removes the plugin atomically (it is moved out of place in one step, then deleted), including the
    version kept for rollback and the plugin's data directory. It does not check whether other
    installed plugins depend on it.
  `,
  flags: [WAIT_FLAG, JSON_FLAG, CONFIG_FLAG],
  args: [{ name: 'NAME', description: 'The plugin to remove.', required: true }],
  examples: ['forge uninstall hello'],
  async run({ flags, args }, io) {
    const result = await withCliStore(io, flags, false, (store) => store.uninstall(args.NAME));
    if (flags.json) {
      io.stdout.write(toSafeJson({ uninstalled: result.name, version: result.version ?? null }));
      return;
    }
    io.stdout.write(`uninstalled ${sanitizeForTerminal(result.name)}${result.version === undefined ? '' : ` ${sanitizeForTerminal(result.version)}`}\n`);
  },
});
