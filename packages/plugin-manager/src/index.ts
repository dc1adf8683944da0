/**
 * @forgeone/plugin-manager: load, verify, sandbox and run WASI plugins.
 *
 * This entry point is the embedding facade (docs/architecture.md, "Public API"): the
 * registry and the manager that run plugins, the store that installs them, the
 * manifest a plugin declares itself with, and the types these take and return.
 * Packing, signing and verifying packages is `@forgeone/plugin-manager/signing`;
 * running a WASI command module is `@forgeone/plugin-manager/wasi`. Every name is
 * listed here on purpose: the folders' index.ts files are internal barrels, and
 * docs/reference/api.md records the surface.
 */

// The errors and identities an embedder meets, from @forgeone/common, so that one import
// is enough to load plugins and tell their failures apart.
export { ForgeError, IdentityContext, type ErrorCode, type ErrorKind, type PluginIdentity } from '@forgeone/common';

// Running plugins: the registry, the manager over it, native plugins, events.
export { PluginRegistry, type CallOptions, type LoadOptions, type NativeOptions, type PluginInfo, type RegistryOptions } from './registry/index.js';
export { PluginManager } from './registry/index.js';
export { NATIVE_PUBLISHER, type NativePlugin, type NativeStep } from './registry/index.js';
export type { PluginEventListener } from './registry/index.js';
export { PluginState, type Transition } from './lifecycle/index.js';
export type { HostCallRecord } from './sandbox/index.js';
// What confinement this host supports, for `forge doctor` (docs/sandbox.md).
export { probeIsolation, type Capability, type IsolationProbe } from './sandbox/index.js';
export type { ExtensionImplementation, InvocationResult } from './extension/index.js';
export { StartupTimer } from './metrics/index.js';
// Observability: what the daemon wires (docs/observability.md).
export {
  CALL_SECONDS_BUCKETS,
  PluginMetrics,
  Tracing,
  createJsonLogger,
  createMetrics,
  createTracing,
  type CallReport,
  type JsonLoggerOptions,
  type MetricsOptions,
  type MetricsSource,
  type ObservedAnomaly,
  type ObservedPlugin,
  type RegistryObserver,
  type TraceParent,
  type TracingOptions,
} from './metrics/index.js';

// Dependencies between plugins.
export { resolveDependencies, startOrder, type Candidate, type CandidateSource, type Resolution, type ResolveOptions } from './registry/index.js';

// Installing plugins: the store and what its API takes and returns.
export {
  DEFAULT_MAX_PLUGINS,
  PluginStore,
  diffPermissions,
  renderPermissionDiff,
  storeOptionsFromConfig,
  type InstallOptions,
  type InstallResult,
  type InstalledPlugin,
  type InstalledVersion,
  type IntegrityProblem,
  type PermissionDiff,
  type PermissionListChange,
  type PermissionVolumeChange,
  type PluginStoreOptions,
  type StoreLockOwner,
  type UninstallResult,
  type VersionPaths,
} from './registry/index.js';
export type { PackageFile } from './loader/index.js';

// Distribution through OCI registries: push, pull, credentials.
export {
  OciClient,
  formatReference,
  loadCredentials,
  parseReference,
  installPlan,
  installedIn,
  leftAfterUndo,
  layoutSource,
  parseLayoutArgument,
  planFromLayout,
  planFromRegistry,
  readArtifact,
  pullArtifact,
  pullPackage,
  pushPackage,
  reassemble,
  saveCredentials,
  writeLayout,
  type ConnectionGuard,
  type Credentials,
  type OciClientOptions,
  type PinnedAddress,
  type OciReference,
  type LayoutEntry,
  type PlannedPlugin,
  type VersionInstalled,
  type PulledArtifact,
  type PullOptions,
  type PullResult,
  type PushOptions,
  type PushResult,
} from './registry/oci/index.js';

// The manifest: plugin.toml and manifest.json.
export {
  ENTRY_POINT_NAMES,
  PLUGIN_NAME,
  limitsSchema,
  manifestSchema,
  parseManifestJson,
  parsePluginToml,
  permissionsSchema,
  pluginTomlSchema,
  renderManifestReference,
  serializeManifest,
  validateManifest,
  type EntryPointName,
  type Manifest,
  type ManifestLimits,
  type Permissions,
  type PluginToml,
} from './plugin/index.js';

// Linting a plugin before it ships (forge lint, docs/guide/testing.md).
export { lintPlugin, type LintOptions, type ModuleLintOptions, type LintProblem, type LintResult, type LintSeverity } from './lint/index.js';
