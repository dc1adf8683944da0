import { configToDocument } from '@forgeone/common';
import { stringify } from 'yaml';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { describeStateDirectory, loadCliConfig } from '../../config.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { text } from '../../help-text.js';

/** `forge config check [FILE] [--json]` */
export const configCheck = defineCommand({
  path: ['config', 'check'],
  summary: 'Validate a plugin-manager.yaml and print it normalised, or list every problem.',
  description: text`
    Without FILE, checks $FORGE_CONFIG, else ./plugin-manager.yaml, else prints the built-in defaults.
    The normalised form fills every default, writes sizes and durations in canonical units
    and makes paths absolute; it is itself a valid configuration file.

    It also names the state directory: where plugin_directory, temp_directory and the audit
    paths go when the file leaves them out. That is /var/lib/forgeone for root, and for other
    users $XDG_STATE_HOME/forgeone, else ~/.local/state/forgeone.
  `,
  flags: [JSON_FLAG],
  args: [{ name: 'FILE', description: 'The configuration file to check.' }],
  examples: ['forge config check /etc/forgeone/plugin-manager.yaml', 'forge config check --json'],
  async run({ flags, args }, io) {
    const { config, file, state } = await loadCliConfig(io, args.FILE);
    const document = configToDocument(config);
    if (flags.json) {
      io.stdout.write(toSafeJson({ file: file ?? null, valid: true, stateDirectory: state, config: document }));
      return;
    }
    io.stderr.write(file === undefined ? 'no configuration file found; these are the built-in defaults\n' : `${sanitizeForTerminal(file)}: valid\n`);
    io.stderr.write(`state directory for paths the configuration leaves out: ${sanitizeForTerminal(describeStateDirectory(state))}\n`);
    io.stdout.write(stringify(document));
  },
});
