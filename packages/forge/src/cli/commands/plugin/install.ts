import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ForgeError, type ForgeConfig } from '@forgeone/common';
import {
  installPlan,
  installedIn,
  parseLayoutArgument,
  planFromLayout,
  planFromRegistry,
  type InstallOptions,
  type InstallResult,
  type OciClient,
  type OciReference,
  type PermissionDiff,
  type PlannedPlugin,
  type PullOptions,
  type VersionInstalled,
} from '@forgeone/plugin-manager';
import { MarketplaceClient, marketplaceCacheFor, refuseRevoked } from '@forgeone/plugin-manager/marketplace';
import { packageLimitsFromConfig } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand, type CliIo } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { DAEMON_HELP, findDaemon } from '../../daemon-link.js';
import { text } from '../../help-text.js';
import { uploadProgress } from '../../progress.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { daemonVersions, installThrough, planThrough, pullThrough, type DependencyOutcome } from './install-daemon.js';
import { installLines, readPackage, type InstallSummary } from './install-output.js';
import { WAIT_FLAG, diffLines, pluginJson, withCliStore } from './store.js';
import { PLAIN_HTTP_FLAG, REGISTRY_CONFIG_FLAG, clientFor, isReferenceArgument } from '../oci/registry.js';

type RegistryFlags = { readonly 'registry-config': string | undefined; readonly 'plain-http': boolean; readonly json: boolean };

/**
 * Runs `pull` with a client for `argument`'s registry and the pull options (progress on a
 * terminal). A pulled plugin without a signature referrer is refused when
 * security.verify_signatures is on; the store verifies the rest.
 */
async function pulling<T>(io: CliIo, argument: string, config: ForgeConfig, flags: RegistryFlags, pull: (client: OciClient, ref: OciReference, options: PullOptions) => Promise<T>): Promise<T> {
  const { ref, client } = await clientFor(io, argument, flags);
  const progress = uploadProgress(io, `pulling ${argument}`, 'received', flags.json);
  try {
    return await pull(client, ref, {
      limits: packageLimitsFromConfig(config.package_limits),
      requireSignatures: config.security.verify_signatures,
      onProgress: (received, total) => progress.update(received, total),
    });
  } finally {
    progress.done();
  }
}

/**
 * The plugin in the image layout `argument` names (`oci:DIR[:TAG]`, see forge pull --to) and
 * the dependencies `installed` lacks, read offline from the same layout with the same checks
 * as a pull, in install order; undefined when the argument is not one (or a file of that
 * name exists).
 */
async function layoutPlan(io: CliIo, argument: string, file: string, config: ForgeConfig, installed: VersionInstalled): Promise<PlannedPlugin[] | undefined> {
  const layout = parseLayoutArgument(argument);
  if (layout === undefined || existsSync(file)) return undefined;
  const options = { limits: packageLimitsFromConfig(config.package_limits), requireSignatures: config.security.verify_signatures };
  return planFromLayout(resolve(io.cwd, layout.dir), layout.tag, installed, options);
}

/**
 * Without a daemon, the revocations of the configured marketplace (marketplace.url) as an
 * install's `admit` check: the index cached within refresh_interval, verified again offline,
 * or a fresh one. Fails closed: a marketplace is configured to be heard, so an index that
 * cannot be verified refuses the install with the marketplace's own code.
 * @throws ForgeError FO_MARKET_* when no index verifies
 */
async function marketplaceAdmit(config: ForgeConfig): Promise<Pick<InstallOptions, 'admit'>> {
  const market = config.marketplace;
  const { url, trusted_root: trustedRoot } = market;
  if (url === undefined || trustedRoot === undefined) return {};
  const client = new MarketplaceClient({ url, trustedRoot, cacheDirectory: marketplaceCacheFor(market.cache_directory, url), maxIndexSize: market.max_index_size, fetchTimeout: market.fetch_timeout });
  const { revocations } = (await client.load({ maxAge: market.refresh_interval })).index;
  return { admit: (identity) => refuseRevoked(revocations, identity, url) };
}

/** `forge install PKG [--approve-permissions] [--allow-downgrade] [--allow-publisher-change] [--json]` */
export const pluginInstall = defineCommand({
  path: ['install'],
  summary: 'Verify a package and install it into the plugin store, or upgrade the installed version.',
  description: `${text`
    Verifies PKG with the configured trust store and signer policy (security.verify_signatures), then
    installs it under plugin_directory atomically: a process killed at any point leaves the old version
    or the new one, never a mix. Installing a newer version keeps the one it replaces for forge rollback;
    the plugin's data directory is never touched.

    An upgrade that asks for permissions beyond the installed version's is refused (exit 4) and the
    permission diff is printed until you pass --approve-permissions. An older version needs
    --allow-downgrade, and a version signed by another publisher --allow-publisher-change.
    Installing the current version again with the same content changes nothing.

    With a daemon, the package is uploaded to it (with progress on stderr when that is a terminal and
    --json is not given); the daemon verifies it against its own trust store, installs it and loads
    it, and a plugin that was running runs the new version. The text output is the same but for the
    path line; with --json, "plugin" is the daemon's view of the plugin (as in forge ps --json)
    instead of the store's record.

    PKG is a registry reference when no file exists at that path, it does not end in .forgepkg, and it
    reads as host[:port]/repository[:tag][@sha256:<digest>] (the host has a dot, a port or is localhost).
    The plugin is then pulled as forge pull does (digests checked, sizes capped, signatures from its
    referrers) and verified and installed exactly as a local file. Its dependencies that are not installed
    come from the same registry: the newest semver tag in range of the sibling repository named after
    each (ghcr.io/acme/hello needs greeter: ghcr.io/acme/greeter), installed first. An installed
    dependency out of range is a conflict (upgrade it first). If any step fails, the dependencies this
    install added are removed again. With a daemon, the daemon pulls (POST /v1/plugins/pull): with its
    own credentials, from the registries its daemon.pull_registries allow, refusing a version its
    marketplace revoked, and installing the dependencies it lacks the same way.

    Without a daemon, when marketplace.url is configured, its revocations apply too: the index (cached
    within refresh_interval, or fetched) is verified first, a revoked version is refused with
    FO_MARKET_PLUGIN_REVOKED, and an index that does not verify refuses the install with its own code.

    PKG oci:DIR[:TAG] (no such file existing; DIR ends at the first colon, as for skopeo) installs offline
    from an OCI image layout written by forge pull --to DIR, under the same checks: the plugin listed
    under TAG (default latest), and the dependencies that are not installed from the same layout (the
    newest version in range among the plugins it lists by name), installed first and removed again if
    any step fails. With a daemon, each package is read here and uploaded to it in that order.
  `}\n\n${DAEMON_HELP}`,
  flags: [
    { name: 'approve-permissions', type: 'boolean', description: 'Accept the permissions an upgrade asks for beyond the installed version\'s.' },
    { name: 'allow-downgrade', type: 'boolean', description: 'Accept a version older than the installed one.' },
    { name: 'allow-publisher-change', type: 'boolean', description: 'Accept a version signed by another publisher than the installed one.' },
    WAIT_FLAG,
    REGISTRY_CONFIG_FLAG,
    PLAIN_HTTP_FLAG,
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'PKG', description: 'The .forgepkg to install, or a registry reference host[:port]/repository[:tag][@sha256:<digest>].', required: true }],
  examples: ['forge install hello-1.0.0.forgepkg', 'forge install hello-1.1.0.forgepkg --approve-permissions --json', 'forge install ghcr.io/acme/hello:1.0.0', 'forge install oci:mirror:1.0.0'],
  async run({ flags, args }, io) {
    const file = resolve(io.cwd, args.PKG);
    let result: { json: unknown; summary: InstallSummary };
    let dependencies: DependencyOutcome[] = [];
    try {
      const { config } = await loadCliConfig(io, flags.config);
      const layout = parseLayoutArgument(args.PKG) !== undefined && !existsSync(file);
      const reference = !layout && isReferenceArgument(io, args.PKG);
      const link = await findDaemon(io, config);
      if (link !== undefined && (reference || layout)) {
        const done = reference ? await pullThrough(link, io, args.PKG, flags) : await planThrough(link, io, (await layoutPlan(io, args.PKG, file, config, await daemonVersions(link))) ?? [], flags);
        dependencies = [...done.dependencies];
        result = done;
      } else if (link !== undefined) {
        result = await installThrough(link, io, file, await readPackage(file, config.package_limits.max_package_size), flags);
      } else {
        result = await withCliStore(io, flags, true, async (store) => {
          const options = {
            approvePermissions: flags['approve-permissions'],
            allowDowngrade: flags['allow-downgrade'],
            allowPublisherChange: flags['allow-publisher-change'],
            ...(await marketplaceAdmit(config)),
          };
          let done: InstallResult;
          if (reference || layout) {
            const plan = reference
              ? await pulling(io, args.PKG, config, flags, (client, ref, pullOptions) => planFromRegistry(client, ref, store, pullOptions))
              : ((await layoutPlan(io, args.PKG, file, config, installedIn(store))) ?? []);
            const results = await installPlan(store, plan, options);
            dependencies = results.slice(0, -1).map((entry) => ({ name: entry.plugin.name, version: entry.plugin.version, action: entry.action }));
            done = results[results.length - 1] as InstallResult;
          } else {
            done = await store.install(file, options);
          }
          const { plugin } = done;
          return {
            json: { action: done.action, from: done.from ?? null, diff: done.diff ?? null, plugin: pluginJson(plugin), ...(reference || layout ? { dependencies } : {}) },
            summary: {
              action: done.action,
              from: done.from ?? null,
              diff: done.diff ?? null,
              name: plugin.name,
              version: plugin.version,
              publisher: plugin.identity.publisher,
              attested: plugin.identity.attested,
              digest: plugin.identity.digest,
              path: plugin.paths.dir,
              permissions: plugin.manifest.permissions,
              previous: plugin.previous?.version ?? null,
            },
          };
        });
      }
    } catch (error) {
      if (ForgeError.is(error, 'FO_STORE_APPROVAL_REQUIRED') && !flags.json) {
        const { name, installed, version, diff } = error.details as { name: string; installed: string; version: string; diff: PermissionDiff };
        io.stderr.write(
          [
            `${sanitizeForTerminal(String(name))} ${sanitizeForTerminal(String(version))} asks for permissions beyond the installed ${sanitizeForTerminal(String(installed))}:`,
            ...diffLines(diff),
            'Run again with --approve-permissions to accept them.',
            '',
          ].join('\n'),
        );
      }
      throw error;
    }
    if (flags.json) {
      io.stdout.write(toSafeJson(result.json));
      return;
    }
    const pulledFirst = dependencies.map((entry) => `dependency ${sanitizeForTerminal(entry.name)} ${sanitizeForTerminal(entry.version)} ${entry.action}`);
    io.stdout.write(`${[...pulledFirst, ...installLines(result.summary)].join('\n')}\n`);
  },
});
