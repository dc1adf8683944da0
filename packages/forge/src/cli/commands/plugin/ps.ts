import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { call } from '../../../daemon/client.js';
import { DAEMON_HELP, findDaemon, localNote } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { toSafeJson } from '../../terminal.js';
import { withCliStore } from './store.js';
import { localView, psTable, readDesired, type PluginView } from './views.js';

/** `forge ps [--json]` */
export const pluginPs = defineCommand({
  path: ['ps'],
  summary: 'List the plugins with their state, desired state, version, publisher and restarts.',
  description: `${text`
    Shows what the daemon hosts: each installed plugin's lifecycle state (created, ready, running,
    paused, stopped, failed, quarantined, or not-loaded with the code of why its last load failed),
    the state it is brought back to when the daemon restarts (desired), its version, publisher, and
    how many times it was restarted after a crash.

    Without a daemon it lists the installed plugins from the store, every one not-loaded, with the
    desired states recorded in the daemon's database, and says on stderr that no daemon runs. The
    output has the same columns (and with --json the same fields) either way.
  `}\n\n${DAEMON_HELP}`,
  flags: [JSON_FLAG, CONFIG_FLAG],
  args: [],
  examples: ['forge ps', 'forge ps --json | jq -r \'.plugins[] | select(.state != "running") | .name\''],
  async run({ flags }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const link = await findDaemon(io, config);
    let plugins: PluginView[];
    if (link !== undefined) plugins = (await call<{ plugins: PluginView[] }>(link.target, { method: 'GET', path: '/v1/plugins' })).plugins;
    else {
      io.stderr.write(localNote(io, config, 'showing the installed plugins, none loaded'));
      const desired = readDesired(io, config);
      plugins = (await withCliStore(io, flags, false, (store) => store.list())).map((plugin) => localView(plugin, desired.get(plugin.name)));
    }
    if (flags.json) {
      io.stdout.write(toSafeJson({ plugins }));
      return;
    }
    if (plugins.length === 0) {
      io.stderr.write('no plugins installed\n');
      return;
    }
    io.stdout.write(psTable(plugins));
  },
});
