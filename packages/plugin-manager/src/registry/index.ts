export { resolveDependencies, startOrder, type Candidate, type CandidateSource, type Resolution, type ResolveOptions } from './resolver.js';
export { NATIVE_PUBLISHER, nativeIdentity, type NativePlugin, type NativeStep } from './native.js';
export { buildPluginSpec, effectiveLimits, grantedVolumes, operatorGrant, policySpecFromConfig, type SpecInputs } from './spec-builder.js';
export { PluginRegistry, configuredBackend, type BackendFactory, type CallOptions, type PluginEventListener, type LoadOptions, type NativeOptions, type PluginInfo, type RegistryOptions } from './registry.js';
export * from './store/index.js';
export { PluginManager } from './manager.js';
