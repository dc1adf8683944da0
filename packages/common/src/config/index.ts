export {
  configFileSchema,
  grantSchema,
  policySchema,
  runtimeSchema,
  packageLimitsSchema,
  pluginManagerSchema,
  sandboxSchema,
  securitySchema,
  telemetrySchema,
  type ForgeConfig,
  type GrantConfig,
  type PolicyConfig,
  type RuntimeConfig,
  type PackageLimitsConfig,
  type SandboxConfig,
  type SecurityConfig,
  type TelemetryConfig,
} from './schema.js';
export {
  MAX_CONFIG_BYTES,
  configToDocument,
  defaultConfig,
  loadConfigFile,
  parseConfig,
  type ConfigIssue,
  type ConfigSource,
} from './load.js';
export { renderConfigReference } from './reference.js';
