/**
 * Changes to an index, as `forge marketplace publish` and `revoke` make them. Pure:
 * each takes an index and returns the next, or throws and leaves it alone.
 */
import { ForgeError, formatIssue, validate } from '@forgeone/common';
import type { OpenedPackage } from '../../attestation/index.js';
import { pluginEntrySchema, revocationSchema, type MarketplaceIndex, type PluginEntry, type Revocation } from './index-format.js';
import { tufTime } from './tuf-metadata.js';

/** One version of a plugin to add, with what the index says about the plugin. */
export interface Publication {
  readonly name: string;
  readonly publisher: string;
  readonly description: string | undefined;
  /** Replaces the plugin's keywords when given; absent keeps them. */
  readonly keywords: readonly string[] | undefined;
  readonly version: PluginEntry['versions'][number];
}

/**
 * The publication of a verified package: name, version, publisher and content digest
 * from its verified identity, description and permissions from its signed manifest.
 */
export function publicationOf(opened: OpenedPackage, options: { readonly oci: string; readonly keywords?: readonly string[]; readonly now?: number }): Publication {
  const { identity, contents } = opened;
  return {
    name: identity.name,
    publisher: identity.publisher,
    description: contents.manifest.description,
    keywords: options.keywords,
    version: { version: identity.version, digest: identity.digest, oci: options.oci, permissions: contents.manifest.permissions, published: tufTime(options.now ?? Date.now()) },
  };
}

function entryInvalid(what: string, issues: readonly { path: string; expected: string; found: string }[]): ForgeError {
  return new ForgeError('FO_MARKET_ENTRY_INVALID', `${what}: ${issues.map(formatIssue).join('; ')}`, { details: { issues } });
}

/**
 * Adds a version. The name's publisher must be the one it was first published by; a
 * version already listed is refused unless it is the same package (same digest), whose
 * entry is then left as it was.
 *
 * @throws ForgeError FO_MARKET_ENTRY_INVALID, FO_MARKET_PUBLISHER_MISMATCH, FO_MARKET_VERSION_EXISTS
 */
export function addVersion(index: MarketplaceIndex, publication: Publication): MarketplaceIndex {
  const existing = index.plugins.find((entry) => entry.name === publication.name);
  if (existing !== undefined && existing.publisher !== publication.publisher) {
    throw new ForgeError(
      'FO_MARKET_PUBLISHER_MISMATCH',
      `the index lists ${publication.name} under publisher ${JSON.stringify(existing.publisher)}; this package is from ${JSON.stringify(publication.publisher)}`,
      { details: { name: publication.name, listed: existing.publisher, found: publication.publisher } },
    );
  }
  const same = existing?.versions.find((item) => item.version === publication.version.version);
  if (same !== undefined && same.digest !== publication.version.digest) {
    throw new ForgeError('FO_MARKET_VERSION_EXISTS', `${publication.name} ${same.version} is already published with digest ${same.digest}; this package is ${publication.version.digest}`, {
      details: { name: publication.name, version: same.version, listed: same.digest, found: publication.version.digest },
    });
  }
  const entry = {
    name: publication.name,
    publisher: publication.publisher,
    ...(publication.description === undefined ? {} : { description: publication.description }),
    keywords: [...(publication.keywords ?? existing?.keywords ?? [])],
    versions: same === undefined ? [...(existing?.versions ?? []), publication.version] : (existing?.versions ?? []),
  };
  const checked = validate(pluginEntrySchema, entry, `plugins.${publication.name}`);
  if (!checked.ok) throw entryInvalid(`cannot publish ${publication.name} ${publication.version.version}`, checked.issues);
  return { ...index, plugins: [...index.plugins.filter((item) => item.name !== publication.name), checked.value] };
}

/**
 * Adds a revocation (an identical one already listed is not repeated).
 *
 * @throws ForgeError FO_MARKET_ENTRY_INVALID
 */
export function addRevocation(index: MarketplaceIndex, revocation: Revocation): MarketplaceIndex {
  const checked = validate(revocationSchema, revocation, 'revocation');
  if (!checked.ok) throw entryInvalid('cannot publish the revocation', checked.issues);
  const key = (item: Revocation) => JSON.stringify([item.publisher, item.plugin, item.version, item.digest]);
  if (index.revocations.some((item) => key(item) === key(checked.value))) return index;
  return { ...index, revocations: [...index.revocations, checked.value] };
}
