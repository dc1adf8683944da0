/**
 * The plugin manifest: one schema, two spellings. manifest.json is canonical (what
 * signatures cover); plugin.toml is the author-facing source that `forge pack` turns
 * into manifest.json. docs/reference/manifest.md is generated from this file.
 */
import {
  INVALID,
  array,
  boolean,
  duration,
  integer,
  object,
  oneOf,
  optional,
  record,
  constrain,
  required,
  size,
  string,
  transform,
  withDefault,
  type Infer,
  type ReportIssue,
} from '@forgeone/common';
import semver from 'semver';

/** The plugin ABIs this host speaks. */
export const SUPPORTED_ABIS = ['forge/1'] as const;

import { ENTRY_POINT_NAMES, type EntryPointName } from './entry-points.js';

export { ENTRY_POINT_NAMES, type EntryPointName };

const GiB = 1024 ** 3;

/** Plugin names: lower-case letters, digits, `.`, `_`, `-`; 1 to 64 characters, alphanumeric at both ends. */
export const PLUGIN_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

const pluginName = string({ pattern: PLUGIN_NAME, expected: 'a plugin name: 1-64 of a-z 0-9 . _ -, starting and ending with a letter or digit' });

const version = transform(
  string({ maxLength: 256 }),
  'a semantic version like "1.2.3" (no leading "v")',
  (value) => (semver.valid(value) === value ? value : INVALID),
);

const versionRange = transform(
  string({ maxLength: 256 }),
  'a semver range like "^1.2.0"',
  (value) => (semver.validRange(value) === null ? INVALID : value),
);

const exportName = string({
  pattern: /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
  expected: 'a wasm export name (letters, digits, _; not starting with a digit; at most 128 characters)',
});

const printable = (maxLength: number) =>
  string({ maxLength, pattern: /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/u, expected: `text of at most ${maxLength} characters without control characters` });

const host = string({
  pattern: /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/,
  maxLength: 261,
  expected: 'a lower-case host name, "*.domain" wildcard or IP literal, with an optional ":port"',
});

const syscall = string({
  pattern: /^(?:wasi_snapshot_preview1|forge)\.(?:[a-z0-9_]+|\*)$/,
  expected: 'a host call like "wasi_snapshot_preview1.fd_write", "forge.log" or "forge.*"',
});

const guestPath = string({
  pattern: /^\/(?:[A-Za-z0-9._-]+\/?)*$/,
  maxLength: 1024,
  expected: 'an absolute guest path like "/data" (letters, digits, . _ -)',
});

const extensionPointName = string({
  pattern: /^[a-z0-9](?:[a-z0-9._/-]{0,126}[a-z0-9])?$/,
  expected: 'an extension point name: 1-128 of a-z 0-9 . _ / -',
});

/** `[permissions]`: the ceiling of what the plugin may ever do. Everything defaults to nothing. */
export const permissionsSchema = object({
  filesystem: withDefault(
    array(oneOf(['read', 'write'] as const), { unique: true }),
    [],
    'File access the plugin needs inside its volumes: "read", "write".',
  ),
  network: withDefault(array(oneOf(['connect'] as const), { unique: true }), [], 'Network use: "connect" (outbound, to allowed_hosts only).'),
  allowed_hosts: withDefault(array(host, { unique: true, maxItems: 256 }), [], 'Hosts the plugin may connect to.'),
  syscalls: withDefault(array(syscall, { unique: true, maxItems: 512 }), [], 'Host calls beyond the defaults that the plugin may import.'),
  volumes: withDefault(
    array(
      object({
        name: required(extensionPointName, 'Name the operator maps to a host directory.'),
        path: required(guestPath, 'Where the plugin sees it.'),
        mode: withDefault(oneOf(['ro', 'rw'] as const), 'ro', 'ro (read-only) or rw.'),
      }),
      { maxItems: 64 },
    ),
    [],
    'Directories the plugin asks to see; the operator decides which host directory backs each.',
  ),
  threads: optional(
    boolean(),
    'true lets the module declare shared memories and use memory.atomic.wait32/wait64, which can block the thread running it; such a module runs only on the pool backend, whose call timeout replaces a stuck worker. Absent means false: both are refused when the module is prepared.',
  ),
});

/** `[entry_points]`: export names for lifecycle steps. All optional. */
export const entryPointsSchema = object(
  Object.fromEntries(ENTRY_POINT_NAMES.map((name) => [name, optional(exportName, `Export called for ${name}.`)])) as Record<
    EntryPointName,
    ReturnType<typeof optional<string>>
  >,
);

/** `[limits]`: what the plugin asks for; the operator's configuration caps each. */
export const limitsSchema = object({
  memory: optional(size(64 * 1024, 4 * GiB), 'Largest linear memory the plugin needs.'),
  fuel: optional(integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), 'Fuel (instruction budget) per call.'),
  timeout: optional(duration(1, 24 * 3_600_000), 'Time limit per call and lifecycle step.'),
  file_descriptors: optional(integer({ min: 4, max: 65_536 }), 'Most files open at once.'),
});

const common = {
  description: optional(printable(1024), 'One-paragraph description.'),
  author: optional(printable(256), 'Who wrote the plugin.'),
  license: optional(
    string({ pattern: /^[A-Za-z0-9.+()\- ]{1,128}$/, expected: 'an SPDX license expression like "MIT" or "Apache-2.0 OR MIT"' }),
    'SPDX license expression.',
  ),
  abi: withDefault(oneOf(SUPPORTED_ABIS), 'forge/1', 'The host ABI the plugin is built for.'),
  entry: withDefault(
    string({ pattern: /^[A-Za-z0-9_][A-Za-z0-9._-]{0,126}\.wasm$/, expected: 'a file name at the package root ending in .wasm' }),
    'plugin.wasm',
    'The wasm module in the package.',
  ),
} as const;

const rest = {
  dependencies: withDefault(
    record(versionRange, { key: pluginName, maxEntries: 256 }),
    {},
    'Plugins this one needs: name = semver range.',
  ),
  permissions: withDefault(permissionsSchema, {}, 'What the plugin may do; nothing by default.'),
  entry_points: withDefault(entryPointsSchema, {}, 'Lifecycle exports.'),
  extension_points: withDefault(
    record(object({ description: optional(printable(1024), 'What implementations do.') }), { key: extensionPointName, maxEntries: 256 }),
    {},
    'Extension points this plugin offers to others.',
  ),
  extensions: withDefault(
    array(
      object({
        point: required(extensionPointName, 'The extension point implemented.'),
        export: required(exportName, 'The export that implements it.'),
      }),
      { maxItems: 256 },
    ),
    [],
    'Extension points this plugin implements.',
  ),
  limits: withDefault(limitsSchema, {}, 'Resource limits the plugin asks for.'),
} as const;

const manifestShape = {
  name: required(pluginName, 'Plugin name, unique in a registry.'),
  version: required(version, 'Plugin version (semver).'),
  ...common,
  ...rest,
};

/** Rules that cut across fields: volumes need filesystem permissions to match their mode. */
function permissionRules(permissionsPath: string) {
  return (manifest: { permissions: Infer<typeof permissionsSchema> }, report: ReportIssue): void => {
    const { filesystem, volumes } = manifest.permissions;
    volumes.forEach((volume, index) => {
      const at = `${permissionsPath}.volumes[${index}]`;
      if (!filesystem.includes('read')) {
        report(at, 'permissions.filesystem to include "read" when volumes are declared', `filesystem = ${JSON.stringify(filesystem)}`);
      } else if (volume.mode === 'rw' && !filesystem.includes('write')) {
        report(`${at}.mode`, '"ro", or permissions.filesystem to include "write"', '"rw"');
      }
    });
  };
}

/** The canonical manifest (manifest.json). */
export const manifestSchema = constrain(object(manifestShape, 'a manifest table'), permissionRules('permissions'));

/** The author-facing plugin.toml: `[plugin]` holds the identity fields; the rest are top-level tables. */
export const pluginTomlSchema = constrain(
  object(
    {
      plugin: required(
        object({
          name: required(pluginName, 'Plugin name, unique in a registry.'),
          version: required(version, 'Plugin version (semver).'),
          ...common,
        }),
        'Identity and description.',
      ),
      ...rest,
    },
    'a plugin.toml document',
  ),
  permissionRules('permissions'),
);

/** A validated, normalised manifest: sizes in bytes, durations in milliseconds, defaults filled. */
export type Manifest = Infer<typeof manifestSchema>;
/** `manifest.permissions`. */
export type Permissions = Manifest['permissions'];
/** `manifest.limits`. */
export type ManifestLimits = Manifest['limits'];
/** A validated plugin.toml document. */
export type PluginToml = Infer<typeof pluginTomlSchema>;
