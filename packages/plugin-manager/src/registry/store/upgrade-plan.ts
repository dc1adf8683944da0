/**
 * Whether a package may replace the installed version of its plugin, and how. Pure
 * logic over what is installed and what is offered; the store carries the plan out.
 * The checks run in this order, so a refusal names the first thing to fix:
 * same version (no-op or conflict), a version already kept with other content,
 * downgrade, publisher change, permission widening.
 */
import { ForgeError, type PluginIdentity } from '@forgeone/common';
import semver from 'semver';
import type { Permissions } from '../../plugin/index.js';
import { diffPermissions, type PermissionDiff } from './permission-diff.js';
import type { InstallOptions, InstalledPlugin } from './types.js';

/** What to do with an offered version of an installed plugin. */
export type UpgradePlan =
  | { readonly kind: 'unchanged' }
  | {
      readonly kind: 'switch';
      readonly downgrade: boolean;
      readonly diff: PermissionDiff;
      /** The offered version is the kept previous one, with the same content: reuse its directory. */
      readonly reusePrevious: boolean;
    };

function versionExists(name: string, version: string, installed: string, found: string, slot: 'current' | 'previous'): ForgeError {
  return new ForgeError(
    'FO_STORE_VERSION_EXISTS',
    `expected ${name} ${version} to have the content already installed as the ${slot} version (${installed}), found ${found}; a version names one package, so publish a new version`,
    { details: { name, version, installedDigest: installed, digest: found, slot } },
  );
}

/**
 * Plans installing `offered` over `installed`.
 * @throws ForgeError FO_STORE_VERSION_EXISTS, FO_STORE_DOWNGRADE,
 *   FO_STORE_PUBLISHER_CHANGED, FO_STORE_APPROVAL_REQUIRED (details: name, installed,
 *   version, publisher, digest of the offered package, escalations, diff)
 */
export function planUpgrade(installed: InstalledPlugin, offered: { readonly identity: PluginIdentity; readonly permissions: Permissions }, options: InstallOptions): UpgradePlan {
  const { name, version, publisher, digest } = offered.identity;
  if (version === installed.version) {
    if (installed.identity.digest === digest) return { kind: 'unchanged' };
    throw versionExists(name, version, installed.identity.digest, digest, 'current');
  }
  const previous = installed.previous;
  if (previous !== undefined && previous.version === version && previous.identity.digest !== digest) {
    throw versionExists(name, version, previous.identity.digest, digest, 'previous');
  }
  const downgrade = semver.lt(version, installed.version);
  if (downgrade && options.allowDowngrade !== true) {
    throw new ForgeError('FO_STORE_DOWNGRADE', `expected a version newer than the installed ${name} ${installed.version}, found ${version}; ask for a downgrade explicitly, or use rollback`, {
      details: { name, installed: installed.version, version },
    });
  }
  if (publisher !== installed.identity.publisher && options.allowPublisherChange !== true) {
    throw new ForgeError(
      'FO_STORE_PUBLISHER_CHANGED',
      `expected ${name} ${version} to be signed by ${installed.identity.publisher}, who signed the installed ${installed.version}, found ${publisher}; allow the publisher change explicitly`,
      { details: { name, installed: installed.version, version, installedPublisher: installed.identity.publisher, publisher } },
    );
  }
  const diff = diffPermissions(installed.manifest.permissions, offered.permissions);
  if (diff.widens && options.approvePermissions !== true) {
    throw new ForgeError(
      'FO_STORE_APPROVAL_REQUIRED',
      `expected ${name} ${version} to ask for no permissions beyond the installed ${installed.version}'s, found ${diff.escalations.length} more (${diff.escalations.join('; ')}); approve them to install`,
      { details: { name, installed: installed.version, version, publisher, digest, escalations: diff.escalations, diff } },
    );
  }
  return { kind: 'switch', downgrade, diff, reusePrevious: previous?.version === version };
}
