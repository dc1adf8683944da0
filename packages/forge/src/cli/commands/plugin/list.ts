import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { text } from '../../help-text.js';
import { table } from '../../table.js';
import { pluginJson, withCliStore } from './store.js';


/** `forge list [--json]` */
export const pluginList = defineCommand({
  path: ['list'],
  summary: 'List the installed plugins with version, publisher, previous version and install time.',
  description: text`
    Reads the plugin store at plugin_directory. Takes no lock: it shows the store as of the last
    completed change. It reads the files whether or not a daemon runs (a daemon changes the store
    atomically too), so its output is the same either way; forge ps shows what the daemon runs.
  `,
  flags: [JSON_FLAG, CONFIG_FLAG],
  args: [],
  examples: ['forge list', 'forge list --json | jq -r ".plugins[].name"'],
  async run({ flags }, io) {
    const { directory, plugins } = await withCliStore(io, flags, false, async (store) => ({ directory: store.directory, plugins: await store.list() }));
    if (flags.json) {
      io.stdout.write(toSafeJson({ directory: directory, plugins: plugins.map(pluginJson) }));
      return;
    }
    if (plugins.length === 0) {
      io.stderr.write(`no plugins installed in ${sanitizeForTerminal(directory)}\n`);
      return;
    }
    const rows = [
      ['NAME', 'VERSION', 'PREVIOUS', 'PUBLISHER', 'INSTALLED', 'DIGEST'],
      ...plugins.map((plugin) => [
        sanitizeForTerminal(plugin.name),
        sanitizeForTerminal(plugin.version),
        sanitizeForTerminal(plugin.previous?.version ?? '-'),
        sanitizeForTerminal(plugin.identity.publisher) + (plugin.identity.attested ? '' : ' (not verified)'),
        plugin.installedAt,
        `${plugin.identity.digest.slice(0, 19)}...`,
      ]),
    ];
    io.stdout.write(`${table(rows).join('\n')}\n`);
  },
});
