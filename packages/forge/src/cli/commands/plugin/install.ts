import { resolve } from 'node:path';
import { ForgeError } from '@forgeone/common';
import type { PermissionDiff } from '@forgeone/plugin-manager';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { WAIT_FLAG, diffLines, permissionLines, pluginJson, withCliStore } from './store.js';
import { text } from '../../help-text.js';

/** `forge install PKG [--approve-permissions] [--allow-downgrade] [--allow-publisher-change] [--json]` */
export const pluginInstall = defineCommand({
  path: ['install'],
  summary: 'Verify a package and install it into the plugin store, or upgrade the installed version.',
  description: text`
    Verifies PKG with the configured trust store and signer policy (security.verify_signatures), then
    installs it under plugin_directory atomically: a process killed at any point leaves the old version
    or the new one, never a mix. Installing a newer version keeps the one it replaces for forge rollback;
    the plugin's data directory is never touched.

    An upgrade that asks for permissions beyond the installed version's is refused (exit 4) and the
    permission diff is printed until you pass --approve-permissions. An older version needs
    --allow-downgrade, and a version signed by another publisher --allow-publisher-change.
    Installing the current version again with the same content changes nothing.
  `,
  flags: [
    { name: 'approve-permissions', type: 'boolean', description: 'Accept the permissions an upgrade asks for beyond the installed version\'s.' },
    { name: 'allow-downgrade', type: 'boolean', description: 'Accept a version older than the installed one.' },
    { name: 'allow-publisher-change', type: 'boolean', description: 'Accept a version signed by another publisher than the installed one.' },
    WAIT_FLAG,
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'PKG', description: 'The .forgepkg to install.', required: true }],
  examples: ['forge install hello-1.0.0.forgepkg', 'forge install hello-1.1.0.forgepkg --approve-permissions --json'],
  async run({ flags, args }, io) {
    let result;
    try {
      result = await withCliStore(io, flags, true, (store) =>
        store.install(resolve(io.cwd, args.PKG), {
          approvePermissions: flags['approve-permissions'],
          allowDowngrade: flags['allow-downgrade'],
          allowPublisherChange: flags['allow-publisher-change'],
        }),
      );
    } catch (error) {
      if (ForgeError.is(error, 'FO_STORE_APPROVAL_REQUIRED') && !flags.json) {
        const { name, installed, version, diff } = error.details as { name: string; installed: string; version: string; diff: PermissionDiff };
        io.stderr.write(
          [
            `${sanitizeForTerminal(name)} ${sanitizeForTerminal(version)} asks for permissions beyond the installed ${sanitizeForTerminal(installed)}:`,
            ...diffLines(diff),
            'Run again with --approve-permissions to accept them.',
            '',
          ].join('\n'),
        );
      }
      throw error;
    }
    const { plugin, action, from, diff } = result;
    if (flags.json) {
      io.stdout.write(toSafeJson({ action, from: from ?? null, diff: diff ?? null, plugin: pluginJson(plugin) }));
      return;
    }
    const name = sanitizeForTerminal(plugin.name);
    const version = sanitizeForTerminal(plugin.version);
    const headline =
      action === 'installed' ? `installed ${name} ${version}` : action === 'unchanged' ? `${name} ${version} is already installed; nothing changed` : `${action} ${name} ${sanitizeForTerminal(from ?? '')} -> ${version}`;
    const lines = [
      headline,
      `  publisher: ${sanitizeForTerminal(plugin.identity.publisher)}${plugin.identity.attested ? '' : ' (not verified)'}`,
      `  digest:    ${plugin.identity.digest}`,
      `  path:      ${sanitizeForTerminal(plugin.paths.dir)}`,
    ];
    if (action === 'installed') lines.push('Permissions:', ...permissionLines(plugin.manifest.permissions));
    else if (diff !== undefined && !diff.unchanged) lines.push(`Permission changes${diff.widens ? ' (approved)' : ''}:`, ...diffLines(diff));
    if (plugin.previous !== undefined && action !== 'unchanged') lines.push(`Previous version ${sanitizeForTerminal(plugin.previous.version)} is kept; forge rollback ${name} returns to it.`);
    io.stdout.write(`${lines.join('\n')}\n`);
  },
});
