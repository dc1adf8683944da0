import { resolve } from 'node:path';
import { ForgeError } from '@forgeone/common';
import { addRevocation, publishIndex, type Revocation } from '@forgeone/plugin-manager/marketplace';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { text } from '../../help-text.js';
import { toSafeJson } from '../../terminal.js';
import { requiredFlag } from '../ca/options.js';

/** `forge marketplace revoke --repo DIR (--plugin NAME | --publisher P) [--version V] [--digest D] --reason TEXT` */
export const marketplaceRevoke = defineCommand({
  path: ['marketplace', 'revoke'],
  summary: 'Add a revocation to a marketplace\'s index and sign a new version of it.',
  description: text`
    Revokes every plugin of a publisher (--publisher), every version of a plugin (--plugin), one version
    (--plugin --version) or one package (--plugin --digest). Clients read revocations from the verified index;
    a revocation cannot be hidden from them without a rollback or freeze they detect. Revocations are never
    removed by this command.
  `,
  flags: [
    { name: 'repo', type: 'string', value: 'DIR', description: 'The repository (forge marketplace init).', required: true },
    { name: 'plugin', type: 'string', value: 'NAME', description: 'The plugin revoked.' },
    { name: 'publisher', type: 'string', value: 'NAME', description: 'The publisher revoked (with --plugin: only that plugin of this publisher).' },
    { name: 'version', type: 'string', value: 'VERSION', description: 'Only this version of --plugin.' },
    { name: 'digest', type: 'string', value: 'sha256:HEX', description: 'Only the package of --plugin with this content digest.' },
    { name: 'reason', type: 'string', value: 'TEXT', description: 'Why, for operators and audit logs.', required: true },
    JSON_FLAG,
  ],
  args: [],
  examples: ['forge marketplace revoke --repo ./market --plugin hello --version 1.0.0 --reason "leaks tokens (CVE-2026-1234)"'],
  async run({ flags }, io) {
    const repo = resolve(io.cwd, requiredFlag('repo', flags.repo));
    const revocation: Revocation = {
      ...(flags.publisher === undefined ? {} : { publisher: flags.publisher }),
      ...(flags.plugin === undefined ? {} : { plugin: flags.plugin }),
      ...(flags.version === undefined ? {} : { version: flags.version }),
      ...(flags.digest === undefined ? {} : { digest: flags.digest }),
      reason: requiredFlag('reason', flags.reason),
      date: `${new Date().toISOString().slice(0, 19)}Z`,
    };
    if (flags.plugin === undefined && flags.publisher === undefined) {
      throw new ForgeError('FO_CLI_MISSING_ARGUMENT', 'name what is revoked: --plugin, --publisher or both', { details: { flag: 'plugin' } });
    }
    const result = await publishIndex(repo, (index) => addRevocation(index, revocation));
    if (flags.json) {
      io.stdout.write(toSafeJson({ repo, revocation, versions: result.versions, revocations: result.index.revocations.length }));
      return;
    }
    io.stdout.write(`published index version ${result.versions.targets} (${result.index.revocations.length} revocation${result.index.revocations.length === 1 ? '' : 's'})\n`);
  },
});
