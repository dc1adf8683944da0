import { configToDocument } from '@forgeone/common';
import { stringify } from 'yaml';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { toSafeJson } from '../../terminal.js';

/** `forge config check [FILE] [--json]` */
export const configCheck = defineCommand({
  path: ['config', 'check'],
  summary: 'Validate a plugin-manager.yaml and print it normalised, or list every problem.',
  description:
    'Without FILE, checks $FORGE_CONFIG, else ./plugin-manager.yaml, else prints the built-in defaults.\n' +
    'The normalised form fills every default, writes sizes and durations in canonical units\n' +
    'and makes paths absolute; it is itself a valid configuration file.',
  flags: [JSON_FLAG],
  args: [{ name: 'FILE', description: 'The configuration file to check.' }],
  examples: ['forge config check /etc/forgeone/plugin-manager.yaml', 'forge config check --json'],
  async run({ flags, args }, io) {
    const { config, file } = await loadCliConfig(io, args.FILE);
    const document = configToDocument(config);
    if (flags.json) {
      io.stdout.write(toSafeJson({ file: file ?? null, valid: true, config: document }));
      return;
    }
    io.stderr.write(file === undefined ? 'no configuration file found; these are the built-in defaults\n' : `${file}: valid\n`);
    io.stdout.write(stringify(document));
  },
});
