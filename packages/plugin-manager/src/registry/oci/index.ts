/**
 * OCI distribution of packages (docs/distribution.md): references, credentials, the
 * registry client, push and pull.
 */
export { parseReference, formatReference, isLoopbackHost, type OciReference } from './reference.js';
export { loadCredentials, saveCredentials, parseChallenge, type Credentials, type Challenge } from './auth.js';
export { OciClient, type OciClientOptions } from './client.js';
export type { ConnectionGuard, PinnedAddress } from './transport.js';
export { pushPackage, type PushOptions, type PushResult } from './push.js';
export { pullArtifact, pullPackage, readArtifact, reassemble, type PullOptions, type PullResult, type PulledArtifact, type PulledSignature } from './pull.js';
export { PLUGIN_NAME_ANNOTATION, PLUGIN_VERSION_ANNOTATION, REF_NAME_ANNOTATION, writeLayout, type LayoutEntry } from './layout.js';
export { layoutSource, parseLayoutArgument } from './layout-source.js';
export { registrySource, type ArtifactSource } from './source.js';
export { planFromRegistry, registryDependencies } from './dependencies.js';
export { installPlan, installedIn, leftAfterUndo, resolvePlan, type DependencySource, type VersionInstalled, type PlannedPlugin } from './plan.js';
export { layoutDependencies, planFromLayout } from './layout-plan.js';
export { installFromRegistry, type RegistryInstallResult } from './install.js';
export { PLUGIN_ARTIFACT_TYPE, PLUGIN_LAYER_MEDIA_TYPE, SIGSTORE_BUNDLE_MEDIA_TYPE } from './manifest.js';
