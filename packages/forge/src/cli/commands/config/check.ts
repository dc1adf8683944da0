import { ANY_PUBLISHER, configToDocument, type ForgeConfig } from '@forgeone/common';
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
    const warnings = unboundGrants(config);
    if (flags.json) {
      io.stdout.write(toSafeJson({ file: file ?? null, valid: true, stateDirectory: state, warnings, config: document }));
      return;
    }
    io.stderr.write(file === undefined ? 'no configuration file found; these are the built-in defaults\n' : `${sanitizeForTerminal(file)}: valid\n`);
    io.stderr.write(`state directory for paths the configuration leaves out: ${sanitizeForTerminal(describeStateDirectory(state))}\n`);
    for (const warning of warnings) io.stderr.write(`warning: ${sanitizeForTerminal(warning)}\n`);
    io.stdout.write(stringify(document));
  },
});

/**
 * Grants that name no publisher but hand out something worth stealing (config values,
 * volumes, hosts): any trusted publisher's plugin of that name receives them
 * (docs/security.md, "Identity").
 */
export function unboundGrants(config: Pick<ForgeConfig, 'policy'>): string[] {
  return Object.entries(config.policy.grants)
    .filter(([, grant]) => grant.publisher === ANY_PUBLISHER && (Object.keys(grant.config).length > 0 || Object.keys(grant.volumes).length > 0 || grant.hosts.length > 0))
    .map(([name]) => `policy.grants.${name} names no publisher, so a plugin called ${name} from any trusted publisher gets its config values, volumes and hosts; add publisher: "<the publisher>"`);
}
