/**
 * The two JSON files the store keeps per plugin, their schemas and their readers:
 * `<name>/state.json` (which version is current, which is kept for rollback) and
 * `<name>/versions/<version>/record.json` (what was installed: identity, digests,
 * when, what permissions were approved). Keys are snake_case as in every ForgeOne
 * file; both carry `format` so a later layout can refuse to misread them.
 */
import { readFile } from 'node:fs/promises';
import {
  ForgeError,
  array,
  boolean,
  formatIssue,
  fromFsError,
  integer,
  isNodeSystemError,
  object,
  optional,
  refine,
  required,
  string,
  validate,
  type Infer,
  type Schema,
} from '@forgeone/common';
import { roleOf } from '../../loader/index.js';
import { PLUGIN_NAME } from '../../plugin/index.js';
import { isVersionDirName } from './layout.js';

const pluginName = string({ pattern: PLUGIN_NAME, expected: 'a plugin name' });
const version = refine(string({ maxLength: 200 }), 'a semantic version', isVersionDirName);
const timestamp = refine(string({ maxLength: 64 }), 'an ISO 8601 time', (value) => !Number.isNaN(Date.parse(value)));
const digest = string({ pattern: /^sha256:[0-9a-f]{64}$/, expected: 'a digest like "sha256:<64 hex>"' });
const format = integer({ min: 1, max: 1 });

/**
 * A package path as the loader accepts it: inside the package layout and without
 * empty, `.` or `..` segments, so a record can never point outside its version.
 */
const packagePath = refine(
  string({ minLength: 1, maxLength: 4096 }),
  'a package file path',
  (path) => roleOf(path) !== undefined && path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
);

/** `state.json`: the pointer that install, upgrade and rollback switch in one rename. */
export const stateSchema = object({
  format: required(format, 'Layout version (1).'),
  name: required(pluginName, 'The plugin.'),
  current: required(version, 'The version in use.'),
  previous: optional(version, 'The version kept for rollback.'),
  switched_at: required(timestamp, 'When current last changed.'),
});

/** `record.json`: one installed version. */
export const recordSchema = object({
  format: required(format, 'Layout version (1).'),
  identity: required(
    object({
      publisher: required(string({ minLength: 1, maxLength: 256 }), 'Who signed it, or "unsigned".'),
      name: required(pluginName, 'Plugin name.'),
      version: required(version, 'Plugin version.'),
      digest: required(digest, 'Content digest of the signed files.'),
      attested: required(boolean(), 'Whether a signature verified.'),
    }),
    'The identity established when the package was verified.',
  ),
  package_sha256: required(digest, 'sha256 of package.forgepkg.'),
  package_size: required(integer({ min: 0 }), 'Size of package.forgepkg in bytes.'),
  manifest_digest: required(digest, 'sha256 of manifest.json.'),
  files: required(
    array(
      object({
        path: required(packagePath, 'Path in the package.'),
        size: required(integer({ min: 0 }), 'Bytes.'),
        sha256: required(string({ pattern: /^[0-9a-f]{64}$/, expected: '64 hex digits' }), 'sha256, hex.'),
      }),
      { maxItems: 1_000_000 },
    ),
    'Every file of the package, as unpacked under files/.',
  ),
  installed_at: required(timestamp, 'When this version was installed.'),
  approval: optional(
    object({
      approved_at: required(timestamp, 'When the operator approved.'),
      escalations: required(array(string({ maxLength: 2048 })), 'The permissions approved beyond the previous version\'s.'),
    }),
    'Present when installing needed permission approval.',
  ),
});

/** A decoded state.json. */
export type StateFile = Infer<typeof stateSchema>;
/** A decoded record.json. */
export type VersionRecord = Infer<typeof recordSchema>;

/**
 * Reads and validates one of the store's JSON files.
 * @returns undefined when the file does not exist
 * @throws ForgeError FO_STORE_CORRUPT when it is not valid JSON of the expected shape, FO_IO_*
 */
export async function readStoreJson<T>(path: string, schema: Schema<T>, what: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isNodeSystemError(error, 'ENOENT')) return undefined;
    throw fromFsError(error, `read the ${what}`, path);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ForgeError('FO_STORE_CORRUPT', `expected ${path} to hold the ${what} as JSON, found text that does not parse`, { details: { path }, cause: error });
  }
  const result = validate(schema, data);
  if (!result.ok) {
    throw new ForgeError('FO_STORE_CORRUPT', `${path} is not a valid ${what}: ${result.issues.slice(0, 5).map(formatIssue).join('; ')}`, {
      details: { path, issues: result.issues },
    });
  }
  return result.value;
}

/** The JSON text a record or state file is written as. */
export function storeJson(value: StateFile | VersionRecord): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
