import { call } from '../../../daemon/client.js';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon, pluginPath } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { WAIT_FLAG, withCliStore } from './store.js';

/** `forge uninstall NAME [--json]` */
export const pluginUninstall = defineCommand({
  path: ['uninstall'],
  summary: 'Remove an installed plugin: every kept version and its data directory.',
  description: `${text`
    Removes the plugin atomically (it is moved out of place in one step, then deleted), including the
    version kept for rollback and the plugin's data directory. It does not check whether other
    installed plugins depend on it. With a daemon, the daemon stops and unloads it first and forgets
    its desired state. forge rm is the same command.
  `}\n\n${DAEMON_HELP}`,
  flags: [WAIT_FLAG, JSON_FLAG, CONFIG_FLAG],
  args: [{ name: 'NAME', description: 'The plugin to remove.', required: true }],
  examples: ['forge uninstall hello'],
  async run({ flags, args }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const link = await findDaemon(io, config);
    const result =
      link !== undefined
        ? await call<{ name: string; version: string | null }>(link.target, { method: 'DELETE', path: pluginPath(args.NAME) })
        : await withCliStore(io, flags, false, async (store) => {
            const removed = await store.uninstall(args.NAME);
            return { name: removed.name, version: removed.version ?? null };
          });
    if (flags.json) {
      io.stdout.write(toSafeJson({ uninstalled: result.name, version: result.version }));
      return;
    }
    io.stdout.write(`uninstalled ${sanitizeForTerminal(result.name)}${result.version === null ? '' : ` ${sanitizeForTerminal(result.version)}`}\n`);
  },
});

/** `forge rm NAME`: the same command as `forge uninstall`, by the name container tools use. */
export const pluginRm = defineCommand({
  ...pluginUninstall,
  path: ['rm'],
  summary: 'Remove an installed plugin (the same as forge uninstall).',
  examples: ['forge rm hello'],
});
