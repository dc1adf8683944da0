import { dirname, resolve } from 'node:path';
import { ForgeError } from '@forgeone/common';
import { addVersion, isOciReference, publicationOf, publishIndex, type MarketplaceIndex } from '@forgeone/plugin-manager/marketplace';
import { DEFAULT_SIGNER_POLICY, TrustStore, loadSignerPolicy, openVerifiedPackage, packageLimitsFromConfig } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { badFlagValue } from '../../flag-value.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { requiredFlag } from '../ca/options.js';

/** `forge marketplace publish --repo DIR [PKG --ref OCI_REF]` */
export const marketplacePublish = defineCommand({
  path: ['marketplace', 'publish'],
  summary: 'Add a verified package to a marketplace\'s index and sign a new version of it; without PKG, re-sign the index.',
  description: text`
    Verifies PKG as forge verify does (trust store, signer policy) and adds its version to the index: name, version,
    publisher and content digest from the verified identity, description and permissions from the signed manifest,
    the OCI reference given with --ref. A name keeps the publisher it was first published by; a published version
    is never replaced by another package. Then signs new targets, snapshot and timestamp metadata (the root key is
    not needed). Without PKG, signs the same index again with fresh expiries: run it before the timestamp expires.
  `,
  flags: [
    { name: 'repo', type: 'string', value: 'DIR', description: 'The repository (forge marketplace init).', required: true },
    { name: 'ref', type: 'string', value: 'OCI_REF', description: 'Where clients pull the package: registry/repository:tag or @sha256:digest (required with PKG).' },
    { name: 'keyword', type: 'strings', value: 'WORD', description: 'A search keyword (repeat; replaces the plugin\'s keywords; default: keep them).' },
    { name: 'trust', type: 'string', value: 'PATH', description: 'Trust store directory or PEM file of roots (default: security.trust_store).' },
    { name: 'policy', type: 'string', value: 'FILE', description: 'Signer policy JSON (default: security.signer_policy, else any trusted publisher).' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'PKG', description: 'The signed .forgepkg to add.' }],
  examples: [
    'forge marketplace publish --repo ./market hello-1.0.0.forgepkg --ref registry.example.org/plugins/hello:1.0.0 --keyword greeting',
    'forge marketplace publish --repo ./market',
  ],
  async run({ flags, args }, io) {
    const repo = resolve(io.cwd, requiredFlag('repo', flags.repo));
    let update = (index: MarketplaceIndex): MarketplaceIndex => index;
    let published: { name: string; version: string; publisher: string; digest: string } | undefined;
    if (args.PKG !== undefined) {
      const ref = flags.ref;
      if (ref === undefined) throw new ForgeError('FO_CLI_MISSING_ARGUMENT', '--ref is required with PKG: where clients pull the package from', { details: { flag: 'ref' } });
      if (!isOciReference(ref)) throw badFlagValue('ref', 'an OCI reference like registry.example.org/plugins/hello:1.0.0 or ...@sha256:<hex>', ref);
      const { config, file: configFile } = await loadCliConfig(io, flags.config);
      const configDir = configFile === undefined ? io.cwd : dirname(configFile);
      const trustStore = await TrustStore.load(flags.trust === undefined ? resolve(configDir, config.security.trust_store) : resolve(io.cwd, flags.trust));
      const policyPath = flags.policy !== undefined ? resolve(io.cwd, flags.policy) : config.security.signer_policy;
      const policy = policyPath === undefined ? DEFAULT_SIGNER_POLICY : await loadSignerPolicy(policyPath);
      const opened = await openVerifiedPackage(resolve(io.cwd, args.PKG), { verifySignatures: true, trustStore, policy, limits: packageLimitsFromConfig(config.package_limits) });
      const publication = publicationOf(opened, { oci: ref, ...(flags.keyword.length === 0 ? {} : { keywords: flags.keyword }) });
      update = (index) => addVersion(index, publication);
      published = { name: opened.identity.name, version: opened.identity.version, publisher: opened.identity.publisher, digest: opened.identity.digest };
    } else if (flags.ref !== undefined || flags.keyword.length > 0) {
      throw new ForgeError('FO_CLI_FLAG_VALUE', '--ref and --keyword describe a package: give PKG too', { details: { flag: flags.ref !== undefined ? 'ref' : 'keyword' } });
    }
    const result = await publishIndex(repo, update);
    if (flags.json) {
      io.stdout.write(toSafeJson({ repo, published: published ?? null, versions: result.versions, indexSha256: result.indexSha256, plugins: result.index.plugins.length }));
      return;
    }
    if (published !== undefined) io.stderr.write(`added ${sanitizeForTerminal(published.name)} ${sanitizeForTerminal(published.version)} from ${sanitizeForTerminal(published.publisher)}\n`);
    io.stdout.write(`published index version ${result.versions.targets} (${result.index.plugins.length} plugin${result.index.plugins.length === 1 ? '' : 's'}, timestamp ${result.versions.timestamp})\n`);
  },
});
