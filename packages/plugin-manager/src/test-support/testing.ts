/**
 * `@forgeone/plugin-manager/test-support`: helpers other packages' tests use. Not a stable API;
 * not published (test-support folders are left out of the package).
 */
export { ALL_FEATURES, assembleWat, disassembleWasm, type AssembleOptions, type WatFeatures } from './wat.js';
export { otlpReceiver, type ReceivedSpan } from './otlp.js';
export { REGISTRY_BINARY, freePort, requireRegistry, startRegistry, startRegistryIfPossible, type RegistryAuth, type TestRegistry } from '../registry/oci/test-support/registry.js';
export { serveArtifact, startStandIn, type StandIn } from '../registry/oci/test-support/stand-in.js';
