/**
 * From a package to the spec a backend hosts, in order: read the package once under
 * `package_limits`, verify it (the signer, the digests, revocation), admit its name
 * (the registry's duplicate and max_plugins checks), prepare its module (imports
 * checked against the permissions, fuel and memory caps, compiled once per digest),
 * give it a data directory keyed by its identity when it can use the kv store, and
 * build its spec. Each step records what it learnt in the {@link LoadAttempt}, so a
 * refusal can be audited with it.
 */
import { ForgeError, toForgeError, type ForgeConfig, type PluginIdentity } from '@forgeone/common';
import type { CallSpec } from '@forgeone/microkernel';
import { openVerifiedPackage, type OpenPackageOptions, type OpenedPackage } from '../attestation/index.js';
import { packageLimitsFromConfig } from '../loader/index.js';
import type { Manifest } from '../plugin/index.js';
import { prepareModule, type CompileCache } from '../runtime/index.js';
import type { PluginSpec, PolicySpec } from '../sandbox/index.js';
import type { LoadAttempt } from './load-refusal.js';
import { buildPluginSpec, effectiveLimits } from './spec-builder.js';
import { prepareDataDirectory } from './store/data.js';
import { readPackageSource } from './store/source.js';

/** What loading needs from the registry. */
export interface LoadParts {
  readonly config: ForgeConfig;
  readonly attestation: OpenPackageOptions;
  readonly cache: CompileCache;
  readonly policy: PolicySpec;
  /** Host calls served on the host thread (the registry's own and the application's). */
  readonly registered: readonly (string | CallSpec)[];
  /**
   * Refuses a verified plugin the registry cannot take.
   * @throws ForgeError FO_REGISTRY_DUPLICATE, FO_REGISTRY_FULL, FO_MARKET_PLUGIN_REVOKED
   */
  readonly admit: (name: string, identity: PluginIdentity) => void;
}

/** A verified, prepared plugin, ready to be registered. */
export interface PreparedPlugin {
  readonly identity: PluginIdentity;
  readonly manifest: Manifest;
  readonly spec: PluginSpec;
  /** Its lifecycle time limit, in ms. */
  readonly timeoutMs: number;
}

/**
 * Reads, verifies and prepares the package `attempt` names, for host `host`.
 * @throws ForgeError FO_PACKAGE_* and FO_MANIFEST_* (reading), the verification codes
 *   (FO_VERIFY_*, FO_SIGNER_*, FO_CHAIN_*, FO_REVOKED_*, ...), FO_REGISTRY_DUPLICATE,
 *   FO_REGISTRY_FULL, FO_RUNTIME_* (FO_RUNTIME_IMPORT_DENIED, ...), FO_STORE_INVALID_NAME, FO_IO_*
 */
export async function preparePlugin(attempt: LoadAttempt, host: string, parts: LoadParts): Promise<PreparedPlugin> {
  const { config } = parts;
  const limits = packageLimitsFromConfig(config.package_limits);
  // Read once: the bytes verified are the bytes a refusal record describes.
  const bytes = await readPackageSource(attempt.source, limits.maxPackageSize);
  attempt.bytes = bytes;
  let opened: OpenedPackage;
  try {
    opened = await openVerifiedPackage(bytes, { ...parts.attestation, limits });
  } catch (error) {
    await attempt.readClaim(toForgeError(error), limits);
    throw error;
  }
  attempt.verified(opened.identity);
  const manifest = opened.contents.manifest;
  parts.admit(manifest.name, opened.identity);
  const wasm = opened.contents.read(manifest.entry);
  if (wasm === undefined) throw new ForgeError('FO_PACKAGE_MISSING_MODULE', `the package lacks ${manifest.entry}`);
  const limitsNow = effectiveLimits(manifest, config);
  const { max_tables: maxTables, max_table_elements: maxTotalTableElements } = config.sandbox;
  const prepared = await prepareModule(wasm, { permissions: manifest.permissions, maxMemoryBytes: limitsNow.memoryBytes, maxTables, maxTotalTableElements }, parts.cache);
  // Data is keyed by identity (publisher + name): a same-name package from another
  // publisher gets a directory of its own. Only a module that can reach the kv store
  // gets one, so loading a plugin leaves nothing on disk otherwise.
  const usesKv = prepared.info.imports.some((entry) => entry.module === 'forge' && entry.name.startsWith('kv_'));
  const dataDirectory = usesKv ? await prepareDataDirectory(config.plugin_directory, opened.identity) : undefined;
  const spec = buildPluginSpec({
    id: manifest.name,
    manifest,
    identity: opened.identity,
    host,
    prepared,
    config,
    policy: parts.policy,
    dataDirectory,
    registered: parts.registered,
  });
  return { identity: opened.identity, manifest, spec, timeoutMs: limitsNow.timeoutMs };
}
