/**
 * Install by reference (POST /v1/plugins/pull; the dashboard's marketplace): the daemon
 * pulls a plugin and the dependencies it lacks from one registry, with its own
 * credentials, and installs them through the same store install as an uploaded package.
 *
 * In order, each step refusing before the next runs:
 * 1. the reference parses, and names a registry the daemon may pull from (pull-policy.ts);
 * 2. a revocation of the marketplace index in force that covers the version the reference
 *    or the digest names refuses it before anything is fetched;
 * 3. the plugin and its missing dependencies are pulled (planFromRegistry: digests, sizes,
 *    signatures as for `forge install REF`), nothing written yet; every connection (the
 *    registry, its token realm, each redirect) pinned to addresses the pull policy
 *    checked, each host resolved once per pull (pull-pins.ts);
 * 4. each pulled package's content digest must be the one asked for (`digest`, which the
 *    dashboard takes from the signed index) and the one the index lists for that version;
 *    a covered revocation refuses it again, now with the digest known;
 * 5. PluginService.installPlan: each verified and installed by the store (an upgrade that
 *    asks for more permissions is held as a pending upgrade, exactly as an upload is), all
 *    removed again if one fails; then loaded, the plugin asked for started on request.
 */
import { ForgeError, toForgeError, type Logger } from '@forgeone/common';
import type { AuditLog } from '@forgeone/microkernel';
import { OciClient, loadCredentials, parseReference, planFromRegistry, type PlannedPlugin, type PluginStore } from '@forgeone/plugin-manager';
import { refuseRevoked, type MarketplaceIndex, type PluginEntry, type VersionEntry } from '@forgeone/plugin-manager/marketplace';
import { readPackage, type PackageLimits } from '@forgeone/plugin-manager/signing';
import { PullPins } from './pull-pins.js';
import { checkPullAllowed, checkResolvesPublic, type ResolveAll } from './pull-policy.js';
import type { RevocationWatch } from './revocations.js';
import type { InstallOutcome, PluginService } from './service.js';
import type { Upgrades } from './upgrades.js';

/** What a client asks for. */
export interface PullRequest {
  /** `host[:port]/repository[:tag][@sha256:<hex>]`. */
  readonly reference: string;
  /** The content digest the plugin must have (`sha256:<hex>`, as the marketplace index lists it). */
  readonly digest?: string;
  readonly start: boolean;
  readonly approvePermissions: boolean;
  readonly allowDowngrade: boolean;
  readonly allowPublisherChange: boolean;
}

/** What a pull installed: the plugin asked for, and the dependencies installed before it. */
export interface PullOutcome extends InstallOutcome {
  readonly reference: string;
  readonly dependencies: readonly { readonly name: string; readonly version: string; readonly action: InstallOutcome['action'] }[];
}

/** What the daemon's pulls are made of. */
export interface PullParts {
  readonly plugins: PluginService;
  readonly store: PluginStore;
  readonly upgrades: Upgrades;
  /** The marketplace watch, whose verified index names allowed registries, digests and revocations. */
  readonly marketplace: RevocationWatch | undefined;
  /** daemon.pull_registries. */
  readonly allowed: readonly string[];
  readonly limits: PackageLimits;
  /** security.verify_signatures: a plugin without a signature referrer is refused. */
  readonly requireSignatures: boolean;
  /** The docker config.json the daemon's credentials are read from (absent: anonymous). */
  readonly credentialsFile: string;
  /** Where pulls refused before the store are recorded (`plugin.pull`, deny). */
  readonly audit: AuditLog | undefined;
  readonly logger: Logger;
  /** How host names are resolved for the address check and the pinned connections (tests give their own). Default: the system resolver. */
  readonly resolve?: ResolveAll;
}

/** See the module comment. */
export class RegistryPulls {
  readonly #parts: PullParts;

  constructor(parts: PullParts) {
    this.#parts = parts;
  }

  /**
   * Pulls and installs `request.reference` (see the module comment); `by` is the principal, for a held upgrade.
   * @throws ForgeError FO_OCI_BAD_REFERENCE, FO_DAEMON_REGISTRY_NOT_ALLOWED, FO_MARKET_PLUGIN_REVOKED,
   *   FO_MARKET_DIGEST_MISMATCH, the pull's FO_OCI_* and FO_DEPS_* codes, the store's install codes
   *   (FO_STORE_APPROVAL_REQUIRED with details.pendingUpgrade)
   */
  async install(request: PullRequest, by: string): Promise<PullOutcome> {
    let plan: PlannedPlugin[];
    try {
      plan = await this.#plan(request);
    } catch (error) {
      this.#refused(request, by, toForgeError(error));
      throw error;
    }
    const { plugins, upgrades } = this.#parts;
    const root = plan[plan.length - 1] as PlannedPlugin;
    const held = { allowDowngrade: request.allowDowngrade, allowPublisherChange: request.allowPublisherChange, start: request.start };
    let outcomes: InstallOutcome[];
    try {
      outcomes = await plugins.installPlan(plan, { approvePermissions: request.approvePermissions, ...held });
    } catch (error) {
      // An upgrade past its permissions waits for an admin, as an upload does (only the plugin
      // asked for can be an upgrade: dependencies are pulled only when they are not installed).
      if (!ForgeError.is(error, 'FO_STORE_APPROVAL_REQUIRED')) throw error;
      throw await upgrades.hold(root.bytes, error, by, held);
    }
    const last = outcomes[outcomes.length - 1] as InstallOutcome;
    this.#parts.logger.info('plugin pulled and installed', { reference: request.reference, plugin: last.plugin.name, version: last.plugin.version, dependencies: outcomes.length - 1 });
    return {
      ...last,
      reference: request.reference,
      dependencies: outcomes.slice(0, -1).map((outcome) => ({ name: outcome.plugin.name, version: outcome.plugin.version, action: outcome.action })),
    };
  }

  /** Steps 1 to 4 of the module comment: what to install, pulled and checked, nothing written. */
  async #plan(request: PullRequest): Promise<PlannedPlugin[]> {
    const { store, marketplace, allowed, limits, requireSignatures, credentialsFile } = this.#parts;
    const ref = parseReference(request.reference);
    const index = marketplace?.current()?.index;
    checkPullAllowed(ref, allowed, index);
    // One resolution per host for the whole pull: the check below and every connection use it (pull-pins.ts).
    const pins = new PullPins(allowed, this.#parts.resolve);
    await checkResolvesPublic(ref, allowed, pins.resolve);
    if (index !== undefined) {
      for (const [entry, version] of listed(index)) {
        if (version.oci === request.reference || version.digest === request.digest) refuseRevokedVersion(index, entry, version.version, version.digest, marketplace?.status().url);
      }
    }
    const credentials = await loadCredentials(credentialsFile, ref.registry);
    const client = new OciClient({ registry: ref.registry, guard: pins.guard, ...(credentials === undefined ? {} : { credentials }) });
    const plan = await planFromRegistry(client, ref, store, { limits, requireSignatures });
    const root = plan[plan.length - 1] as PlannedPlugin;
    for (const planned of plan) {
      const { digest } = await readPackage(planned.bytes, limits);
      if (planned === root && request.digest !== undefined && digest !== request.digest) throw mismatch(planned, request.digest, digest, 'the request');
      if (index === undefined) continue;
      const entry = index.plugins.find((candidate) => candidate.name === planned.name);
      const listedDigest = entry?.versions.find((version) => version.version === planned.version)?.digest;
      if (listedDigest !== undefined && listedDigest !== digest) throw mismatch(planned, listedDigest, digest, 'the marketplace index');
      if (entry !== undefined) refuseRevokedVersion(index, entry, planned.version, digest, marketplace?.status().url);
    }
    return plan;
  }

  /** Audits a pull refused before the store saw it (the store audits its own refusals, as for an upload). */
  #refused(request: PullRequest, by: string, refusal: ForgeError): void {
    const { audit, logger } = this.#parts;
    if (audit === undefined) return;
    try {
      audit.append({
        principal: by,
        action: 'plugin.pull',
        resource: request.reference,
        decision: 'deny',
        reason: `${refusal.code}: ${refusal.message}`,
        data: { reference: request.reference, ...(request.digest === undefined ? {} : { digest: request.digest }) },
      });
    } catch (failure) {
      logger.error('a refused pull could not be audited', { reference: request.reference, error: String(failure) });
    }
  }
}

function* listed(index: MarketplaceIndex): Generator<[PluginEntry, VersionEntry]> {
  for (const entry of index.plugins) for (const version of entry.versions) yield [entry, version];
}

/** @throws ForgeError FO_MARKET_PLUGIN_REVOKED when a revocation of `index` covers that version of `entry` */
function refuseRevokedVersion(index: MarketplaceIndex, entry: PluginEntry, version: string, digest: string, source: string | undefined): void {
  refuseRevoked(index.revocations, { publisher: entry.publisher, name: entry.name, version, digest }, source ?? 'the marketplace');
}

function mismatch(planned: PlannedPlugin, expected: string, found: string, by: string): ForgeError {
  return new ForgeError('FO_MARKET_DIGEST_MISMATCH', `${planned.reference}: ${by} names ${planned.name} ${planned.version} with content digest ${expected}; the registry served ${found}. Nothing was installed`, {
    details: { name: planned.name, version: planned.version, reference: planned.reference, expected, found },
  });
}
