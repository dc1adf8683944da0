/**
 * The marketplace index: the one TUF target (`index.json`) a marketplace publishes.
 * It lists plugins (name, description, keywords, publisher, and each version's content
 * digest, OCI reference and permissions) and revocations.
 *
 * SECURITY: the index is input even when its signature verifies (a publisher key can
 * leak; a repository can be buggy), so every field is schema-checked and bounded when
 * it is read, unknown fields are refused, and text meant for terminals has no control
 * characters. The digest is what an installer must compare a downloaded package with;
 * the permissions are the manifest's, copied at publish time, for display and review.
 */
import { ForgeError, INVALID, array, constrain, formatIssue, object, optional, required, string, transform, validate, type Infer } from '@forgeone/common';
import semver from 'semver';
import { PLUGIN_NAME, permissionsSchema } from '../../plugin/index.js';

/** The value of the index's `schema` field; a client refuses any other. */
export const INDEX_SCHEMA = 'forgeone.marketplace.index/v1';

/** Most plugins, versions per plugin and revocations an index may list. */
export const INDEX_LIMITS = { plugins: 100_000, versions: 1000, revocations: 100_000, keywords: 32 } as const;

/** Most issues an FO_MARKET_INDEX_INVALID error carries in its details (a hostile index could have millions). */
const MAX_REPORTED_ISSUES = 100;

const printable = (maxLength: number, expected: string) =>
  string({ maxLength, pattern: /^[^\p{Cc}\p{Cf}]*$/u, expected: `${expected} (at most ${maxLength} characters, no control characters)` });

const pluginName = string({ pattern: PLUGIN_NAME, expected: 'a plugin name: 1-64 of a-z 0-9 . _ -, starting and ending with a letter or digit' });
const version = transform(string({ maxLength: 256 }), 'a semantic version like "1.2.3"', (value) => (semver.valid(value) === value ? value : INVALID));
const digest = string({ pattern: /^sha256:[0-9a-f]{64}$/, expected: 'a content digest "sha256:" + 64 lower-case hex digits' });
const keyword = string({ pattern: /^[a-z0-9][a-z0-9-]{0,63}$/, expected: 'a keyword: 1-64 of a-z 0-9 -, starting with a letter or digit' });
const publisher = string({ minLength: 1, maxLength: 1024, pattern: /^[^\p{Cc}\p{Cf}]+$/u, expected: 'a publisher as verification reports it (1-1024 characters, no control characters)' });
const date = transform(string({ maxLength: 32 }), 'a UTC time like "2026-01-31T12:00:00Z"', (value) =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value) && !Number.isNaN(Date.parse(value)) ? value : INVALID,
);

const REGISTRY = String.raw`(?:localhost|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+|\[[0-9a-f:]+\])(?::\d{1,5})?`;
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*`;
const OCI_REFERENCE = new RegExp(String.raw`^${REGISTRY}/${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`);

/**
 * True for an OCI reference with an explicit registry, `registry[:port]/repo/path`
 * followed by a `:tag`, an `@sha256:` digest or both (the distribution spec's grammar,
 * lower-case repository, sha256 digests only). Syntax only: nothing is fetched.
 */
export function isOciReference(value: string): boolean {
  return value.length <= 1024 && OCI_REFERENCE.test(value) && /(?::[A-Za-z0-9_][A-Za-z0-9_.-]*|@sha256:[0-9a-f]{64})$/.test(value.slice(value.indexOf('/')));
}

const ociReference = transform(string({ maxLength: 1024 }), 'an OCI reference like "registry.example.org/plugins/hello:1.0.0" or "...@sha256:<hex>"', (value) =>
  isOciReference(value) ? value : INVALID,
);

/** One published version of a plugin. */
export const versionEntrySchema = object({
  version: required(version, 'The plugin version (semver).'),
  digest: required(digest, "The package's content digest, as forge inspect prints it: what an installer must find."),
  oci: required(ociReference, 'Where the package is pulled from.'),
  permissions: required(permissionsSchema, "The signed manifest's permissions, as published."),
  published: required(date, 'When it was added to the index.'),
});

/** One plugin: its name, publisher and versions. */
export const pluginEntrySchema = constrain(
  object({
    name: required(pluginName, 'The plugin name.'),
    publisher: required(publisher, 'The verified publisher of every version (one name, one publisher).'),
    description: optional(printable(1024, 'a description'), 'The newest version\'s manifest description.'),
    keywords: required(array(keyword, { unique: true, maxItems: INDEX_LIMITS.keywords }), 'Search keywords.'),
    versions: required(array(versionEntrySchema, { maxItems: INDEX_LIMITS.versions }), 'Published versions, oldest first.'),
  }),
  (entry, report) => {
    const seen = new Set<string>();
    entry.versions.forEach((item, index) => {
      if (seen.has(item.version)) report(`versions[${index}].version`, 'a version listed once', JSON.stringify(item.version));
      seen.add(item.version);
    });
  },
);

/**
 * A revocation: every version of a publisher, of a plugin, or one version or one
 * package (by digest) of a plugin. A client that has an installed plugin matching it
 * must stop trusting that plugin.
 */
export const revocationSchema = constrain(
  object({
    publisher: optional(publisher, 'Every plugin of this publisher (with plugin: only that plugin of this publisher).'),
    plugin: optional(pluginName, 'A plugin name.'),
    version: optional(version, 'Only this version of the plugin.'),
    digest: optional(digest, 'Only the package with this content digest.'),
    reason: required(printable(1024, 'a reason'), 'Why, for operators and the audit log.'),
    date: required(date, 'When it was revoked.'),
  }),
  (entry, report) => {
    if (entry.publisher === undefined && entry.plugin === undefined) report('', 'a revocation naming a publisher, a plugin or both', 'neither');
    if ((entry.version !== undefined || entry.digest !== undefined) && entry.plugin === undefined) report('plugin', 'a plugin name when version or digest is given', 'none');
  },
);

/** The whole index. */
export const indexSchema = constrain(
  object({
    schema: required(string({ pattern: /^forgeone\.marketplace\.index\/v1$/, expected: JSON.stringify(INDEX_SCHEMA) }), 'The format and its version.'),
    plugins: required(array(pluginEntrySchema, { maxItems: INDEX_LIMITS.plugins }), 'Plugins, by name.'),
    revocations: required(array(revocationSchema, { maxItems: INDEX_LIMITS.revocations }), 'Revoked publishers, plugins, versions and packages.'),
  }),
  (index, report) => {
    const seen = new Set<string>();
    index.plugins.forEach((entry, position) => {
      if (seen.has(entry.name)) report(`plugins[${position}].name`, 'a plugin listed once', JSON.stringify(entry.name));
      seen.add(entry.name);
    });
  },
);

/** A version entry. */
export type VersionEntry = Infer<typeof versionEntrySchema>;
/** A plugin entry. */
export type PluginEntry = Infer<typeof pluginEntrySchema>;
/** A revocation. */
export type Revocation = Infer<typeof revocationSchema>;
/** A whole index, validated. */
export type MarketplaceIndex = Infer<typeof indexSchema>;

/** An index with nothing in it. */
export function emptyIndex(): MarketplaceIndex {
  return { schema: INDEX_SCHEMA, plugins: [], revocations: [] };
}

/**
 * Validates an index (parsed JSON).
 *
 * @throws ForgeError FO_MARKET_INDEX_INVALID with details.issues (at most 100) and details.total
 */
export function validateIndex(value: unknown, source = 'index.json'): MarketplaceIndex {
  const result = validate(indexSchema, value);
  if (result.ok) return result.value;
  const shown = result.issues.slice(0, MAX_REPORTED_ISSUES);
  throw new ForgeError(
    'FO_MARKET_INDEX_INVALID',
    `${source} is signed but is not a valid marketplace index (${result.issues.length} problem${result.issues.length === 1 ? '' : 's'}): ${shown.slice(0, 3).map(formatIssue).join('; ')}`,
    { details: { source, total: result.issues.length, issues: shown } },
  );
}

/**
 * Parses and validates index bytes.
 *
 * @throws ForgeError FO_MARKET_INDEX_INVALID (not UTF-8 JSON, or breaks the format)
 */
export function parseIndex(bytes: Uint8Array, source = 'index.json'): MarketplaceIndex {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ForgeError('FO_MARKET_INDEX_INVALID', `${source} is not UTF-8 JSON: ${(error as Error).message}`, { details: { source, total: 1, issues: [] }, cause: error });
  }
  return validateIndex(value, source);
}

/** The index as published: UTF-8 JSON with plugins sorted by name, so a republish of the same content is byte-identical. */
export function serializeIndex(index: MarketplaceIndex): Uint8Array {
  const plugins = [...index.plugins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return new TextEncoder().encode(`${JSON.stringify({ ...index, plugins }, null, 1)}\n`);
}
