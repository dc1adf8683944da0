/**
 * Native plugins: TypeScript objects that join the registry with the same lifecycle as
 * wasm plugins (`PluginManager.register(plugin)`). They run in the host process with
 * the host's privileges: they are trusted code, registered by the application, never
 * loaded from a package. They get an identity (publisher `native`) so that audit
 * records, dependencies and extension points treat them like any other plugin.
 */
import { createHash } from 'node:crypto';
import { ForgeError, type IdentityContext, type PluginIdentity } from '@forgeone/common';
import type { NewPlugin } from './plugin-table.js';
import semver from 'semver';
import type { EntryPointName } from '../plugin/index.js';
import { PLUGIN_NAME } from '../plugin/index.js';

/** A lifecycle step of a native plugin; every one is optional. */
export type NativeStep = () => void | Promise<void>;

/** A plugin written in TypeScript. */
export interface NativePlugin {
  readonly name: string;
  readonly version: string;
  /** Other plugins this one needs: name -> semver range. */
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly init?: NativeStep;
  readonly start?: NativeStep;
  readonly stop?: NativeStep;
  readonly pause?: NativeStep;
  readonly resume?: NativeStep;
  readonly unload?: NativeStep;
  /** Callable functions, by export name. */
  readonly exports?: Readonly<Record<string, (input: Uint8Array) => Uint8Array | Promise<Uint8Array>>>;
  /** Extension points this plugin offers. */
  readonly extensionPoints?: readonly string[];
  /** Extension points it implements: point -> export name. */
  readonly extensions?: readonly { readonly point: string; readonly export: string }[];
}

/** The publisher of every native plugin. */
export const NATIVE_PUBLISHER = 'native';

/**
 * Checks a native plugin's shape and gives it an identity.
 * @throws ForgeError FO_REGISTRY_INVALID_PLUGIN listing every problem
 */
export function nativeIdentity(plugin: NativePlugin): PluginIdentity {
  const problems: string[] = [];
  if (typeof plugin.name !== 'string' || !PLUGIN_NAME.test(plugin.name)) problems.push(`name: expected a plugin name, found ${JSON.stringify(plugin.name)}`);
  if (typeof plugin.version !== 'string' || semver.valid(plugin.version) !== plugin.version) problems.push(`version: expected a semantic version, found ${JSON.stringify(plugin.version)}`);
  for (const [name, range] of Object.entries(plugin.dependencies ?? {})) {
    if (semver.validRange(range) === null) problems.push(`dependencies.${name}: expected a semver range, found ${JSON.stringify(range)}`);
  }
  for (const extension of plugin.extensions ?? []) {
    if (typeof plugin.exports?.[extension.export] !== 'function') problems.push(`extensions: ${extension.point} names export ${extension.export}, which is not in exports`);
  }
  if (problems.length > 0) {
    throw new ForgeError('FO_REGISTRY_INVALID_PLUGIN', `native plugin ${String(plugin.name)}: ${problems.join('; ')}`, { details: { problems } });
  }
  const digest = `sha256:${createHash('sha256').update(`native:${plugin.name}@${plugin.version}`).digest('hex')}`;
  return { publisher: NATIVE_PUBLISHER, name: plugin.name, version: plugin.version, digest, attested: false };
}

/** Runs a native plugin's step; false when it has none. */
export async function runNativeStep(plugin: NativePlugin, step: EntryPointName): Promise<boolean> {
  const fn = plugin[step];
  if (fn === undefined) return false;
  await fn.call(plugin);
  return true;
}

/**
 * Calls an export of a native plugin registered as `id`.
 * @throws ForgeError FO_ABI_NO_SUCH_EXPORT, and what the export throws
 */
export async function callNative(plugin: NativePlugin, id: string, exportName: string, input: Uint8Array): Promise<Uint8Array> {
  const fn = plugin.exports?.[exportName];
  if (fn === undefined) throw new ForgeError('FO_ABI_NO_SUCH_EXPORT', `native plugin ${id} has no export ${exportName}`);
  return await fn.call(plugin, input);
}

/**
 * The table entry of a native plugin (its shape checked first).
 * @throws ForgeError FO_REGISTRY_INVALID_PLUGIN listing every problem
 */
export function nativeRecord(plugin: NativePlugin, options: { readonly lazy?: boolean }, loader: IdentityContext, timeoutMs: number): NewPlugin {
  const identity = nativeIdentity(plugin);
  const declared = { offers: plugin.extensionPoints ?? [], implements: plugin.extensions ?? [] };
  return { id: plugin.name, identity, loader, kind: 'native', dependencies: plugin.dependencies ?? {}, declared, timeoutMs, lazy: options.lazy === true, native: plugin };
}
