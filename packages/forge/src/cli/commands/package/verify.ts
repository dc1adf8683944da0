import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fromFsError } from '@forgeone/common';
import { DEFAULT_SIGNER_POLICY, TrustStore, loadSignerPolicy, packageLimitsFromConfig, readPackage, verifyPackage } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { text } from '../../help-text.js';

/** `forge verify PKG --trust PATH [--policy FILE] [--json]` */
export const verify = defineCommand({
  path: ['verify'],
  summary: 'Verify a package\'s signatures against a trust store and signer policy, and print who signed it.',
  description: text`
    Checks every attestation: the Sigstore bundle, the signer's certificate chain to a trust-store root
    (validity now, CA flags, pathLen, key usage, codeSigning) or trusted key, revocation, the DSSE signature,
    and that the signed statement names exactly the package's files and manifest; then the signer policy
    (allowed publishers, threshold). Keyless Sigstore bundles are verified offline against the trust store's
    sigstore/trusted_root.json. Exit status 5 means the package or a signature is broken (integrity);
    4 means it is intact but not trusted (untrusted or revoked signer, policy).
  `,
  flags: [
    { name: 'trust', type: 'string', value: 'PATH', description: 'Trust store directory or PEM file of roots (default: security.trust_store).' },
    { name: 'policy', type: 'string', value: 'FILE', description: 'Signer policy JSON (default: security.signer_policy, else any trusted publisher).' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'PKG', description: 'The .forgepkg to verify.', required: true }],
  examples: ['forge verify hello-1.0.0.forgepkg --trust /etc/forgeone/trust', 'forge verify hello-1.0.0.forgepkg --trust trust --policy policy.json --json'],
  async run({ flags, args }, io) {
    const { config, file: configFile } = await loadCliConfig(io, flags.config);
    // Paths from the configuration are relative to its file; paths from flags to the working directory.
    const configDir = configFile === undefined ? io.cwd : dirname(configFile);
    const trustPath = flags.trust === undefined ? resolve(configDir, config.security.trust_store) : resolve(io.cwd, flags.trust);
    const policyPath =
      flags.policy !== undefined ? resolve(io.cwd, flags.policy) : config.security.signer_policy === undefined ? undefined : resolve(configDir, config.security.signer_policy);
    const trustStore = await TrustStore.load(trustPath);
    const policy = policyPath === undefined ? DEFAULT_SIGNER_POLICY : await loadSignerPolicy(policyPath);
    const file = resolve(io.cwd, args.PKG);
    const bytes = await readFile(file).catch((error: unknown) => {
      throw fromFsError(error, 'read the package', file);
    });
    const contents = await readPackage(bytes, packageLimitsFromConfig(config.package_limits));
    const result = verifyPackage(contents, { trustStore, policy });
    if (flags.json) {
      io.stdout.write(
        toSafeJson({
          file,
          verified: true,
          identity: result.identity,
          threshold: result.threshold,
          accepted: result.accepted,
          rejected: result.rejected,
          verifiedAt: new Date(result.verifiedAt).toISOString(),
          trustStore: trustStore.summary(),
        }),
      );
      return;
    }
    const { identity } = result;
    const lines = [
      `verified ${sanitizeForTerminal(identity.name)} ${sanitizeForTerminal(identity.version)}`,
      `  publisher: ${sanitizeForTerminal(identity.publisher)}`,
      `  digest:    ${identity.digest}`,
      `  signatures accepted: ${result.accepted.length} (threshold ${result.threshold})`,
      ...result.accepted.map(
        (signature) =>
          `    ${sanitizeForTerminal(signature.publisher)} [${signature.method}] key ${signature.keyid}${
            signature.chain.length > 0 ? `\n      chain: ${signature.chain.map(sanitizeForTerminal).join(' <- ')}` : ''
          }`,
      ),
      ...(result.rejected.length === 0 ? [] : [`  signatures not counted: ${result.rejected.length}`]),
      ...result.rejected.map((entry) => `    ${sanitizeForTerminal(entry.attestation)}: ${entry.error.code}: ${sanitizeForTerminal(entry.error.message)}`),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  },
});
