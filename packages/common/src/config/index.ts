export {
  configFileSchema,
  ANY_PUBLISHER,
  daemonSchema,
  isLoopbackListen,
  grantSchema,
  policySchema,
  runtimeSchema,
  packageLimitsSchema,
  pluginManagerSchema,
  sandboxSchema,
  securitySchema,
  telemetrySchema,
  type DaemonConfig,
  type ForgeConfig,
  type GrantConfig,
  type PolicyConfig,
  type RuntimeConfig,
  type PackageLimitsConfig,
  type SandboxConfig,
  type SecurityConfig,
  type TelemetryConfig,
} from './schema.js';
export { isMarketplaceUrl, marketplaceSchema, type MarketplaceConfig } from './marketplace-schema.js';
export {
  MAX_CONFIG_BYTES,
  configToDocument,
  defaultConfig,
  loadConfigFile,
  parseConfig,
  type ConfigIssue,
  type ConfigOptions,
  type ConfigSource,
} from './load.js';
export { SYSTEM_STATE_DIRECTORY, stateDirectory, statePaths, type StateDirectory, type StatePaths } from './paths.js';
export { closestWord } from './suggest.js';
export { renderConfigReference } from './reference.js';
