import { access } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EXIT_CODES } from '@forgeone/common';
import { lintPlugin, type LintProblem } from '@forgeone/plugin-manager';
import { TrustStore, loadSignerPolicy, packageLimitsFromConfig } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { text } from '../../help-text.js';

function line(problem: LintProblem): string {
  return `${problem.severity === 'error' ? 'error  ' : 'warning'} ${problem.code}  ${sanitizeForTerminal(problem.where)}\n        ${sanitizeForTerminal(problem.message)}`;
}

/** `forge lint PKG|DIR [--trust PATH] [--require-signature] [--json]` */
export const lint = defineCommand({
  path: ['lint'],
  summary: 'Check a plugin directory or .forgepkg for every problem the loader would refuse it for, before it ships (for CI).',
  description: text`
    Lists every problem at once, never only the first: the manifest (plugin.toml in a directory,
    manifest.json in a package, and that both agree), the forge/1 exports and their shapes, the
    lifecycle entry points the manifest names, each import against the permissions it needs,
    unknown imports, the package and module size limits the loader enforces
    (plugin_manager.package_limits), the module's memory against the manifest's limits.memory
    (capped by sandbox.memory_limit), and the signatures, verified against the trust store.
    A missing signature is a warning unless --require-signature is given. Exits 0 when there are
    only warnings, 3 (invalid) when there is any error. --json prints {ok, problems}.
  `,
  flags: [
    { name: 'trust', type: 'string', value: 'PATH', description: 'Trust store directory or PEM file to verify signatures against (default: security.trust_store, when it exists).' },
    { name: 'policy', type: 'string', value: 'FILE', description: 'Signer policy JSON (default: security.signer_policy, else any trusted publisher).' },
    { name: 'require-signature', type: 'boolean', description: 'Make an unsigned plugin (or a directory) an error rather than a warning.' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'PATH', description: 'A plugin directory (plugin.toml and its module) or a .forgepkg.', required: true }],
  examples: ['forge lint examples/c-plugin', 'forge lint hello-1.0.0.forgepkg --trust trust --require-signature --json'],
  async run({ flags, args }, io) {
    const { config, file: configFile } = await loadCliConfig(io, flags.config);
    const configDir = configFile === undefined ? io.cwd : dirname(configFile);
    let trustPath = flags.trust === undefined ? undefined : resolve(io.cwd, flags.trust);
    if (trustPath === undefined) {
      // The configured store is used when it exists; without one a signed package is reported (FO_LINT_NO_TRUST_STORE).
      const configured = resolve(configDir, config.security.trust_store);
      trustPath = await access(configured).then(
        () => configured,
        () => undefined,
      );
    }
    const policyPath =
      flags.policy !== undefined ? resolve(io.cwd, flags.policy) : config.security.signer_policy === undefined ? undefined : resolve(configDir, config.security.signer_policy);
    const path = resolve(io.cwd, args.PATH);
    const result = await lintPlugin(path, {
      packageLimits: packageLimitsFromConfig(config.package_limits),
      sandboxMemoryLimit: config.sandbox.memory_limit,
      requireSignature: flags['require-signature'],
      ...(trustPath === undefined ? {} : { trustStore: await TrustStore.load(trustPath) }),
      ...(policyPath === undefined ? {} : { signerPolicy: await loadSignerPolicy(policyPath) }),
    });
    if (flags.json) {
      io.stdout.write(toSafeJson({ path, kind: result.kind, ok: result.ok, problems: result.problems }));
    } else {
      const errors = result.problems.filter((problem) => problem.severity === 'error').length;
      const warnings = result.problems.length - errors;
      const lines = [
        ...result.problems.map(line),
        `${sanitizeForTerminal(path)}: ${result.ok ? 'ok' : 'failed'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})`,
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return result.ok ? 0 : EXIT_CODES.invalid;
  },
});
