/**
 * The file layout of a .forgepkg (format version 1):
 *
 * ```
 * manifest.json                      canonical manifest (required)
 * plugin.toml                        author-facing manifest (optional; must agree)
 * <entry>.wasm                       the module named by manifest.entry (required)
 * assets/**                          any files the plugin ships (optional)
 * attestations/<name>.sigstore.json  signatures (optional; not covered by signatures)
 * ```
 *
 * Every path that is not one of these is refused while streaming, before its data is
 * read, with FO_PACKAGE_UNEXPECTED_ENTRY.
 */
import { ForgeError, describeValue } from '@forgeone/common';

export const MANIFEST_JSON = 'manifest.json';
export const PLUGIN_TOML = 'plugin.toml';
export const ASSETS_PREFIX = 'assets/';
export const ATTESTATIONS_PREFIX = 'attestations/';

const ROOT_MODULE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,126}\.wasm$/;
const ATTESTATION = /^attestations\/[A-Za-z0-9_][A-Za-z0-9._-]{0,200}\.sigstore\.json$/;

/** What a package path is. */
export type EntryRole = 'manifest' | 'toml' | 'module' | 'asset' | 'attestation';

/** Classifies a (already name-checked) package path, or undefined when it is outside the layout. */
export function roleOf(path: string): EntryRole | undefined {
  if (path === MANIFEST_JSON) return 'manifest';
  if (path === PLUGIN_TOML) return 'toml';
  if (ROOT_MODULE.test(path)) return 'module';
  if (path.startsWith(ASSETS_PREFIX) && path.length > ASSETS_PREFIX.length) return 'asset';
  if (ATTESTATION.test(path)) return 'attestation';
  return undefined;
}

/**
 * The role of `path`, refusing paths outside the layout.
 * @throws ForgeError FO_PACKAGE_UNEXPECTED_ENTRY
 */
export function requireRole(path: string): EntryRole {
  const role = roleOf(path);
  if (role === undefined) {
    throw new ForgeError(
      'FO_PACKAGE_UNEXPECTED_ENTRY',
      `package entry ${describeValue(path)} is outside the package layout (expected manifest.json, plugin.toml, a root .wasm module, assets/... or attestations/<name>.sigstore.json)`,
      { details: { entry: path } },
    );
  }
  return role;
}

/** True for files that signatures cover: everything but attestations/. */
export function isSignedContent(path: string): boolean {
  return !path.startsWith(ATTESTATIONS_PREFIX);
}
