/**
 * @forgeone/common: the pieces every ForgeOne package shares. Nothing here does I/O
 * at import time; `loadConfigFile` is the only function that reads files.
 *
 * Every name is listed here on purpose (docs/architecture.md, "Public API";
 * docs/reference/api.md records the surface): the error catalog and ForgeError, the
 * schema library (host applications use it to declare their host calls' arguments),
 * the configuration, identities, telemetry and logging, the host-call gate contract,
 * and the limit-option checks the other packages share. The folders' index.ts files
 * are internal barrels. `@forgeone/common/testing` holds helpers for ForgeOne's own
 * tests.
 */

// Errors: the catalog, ForgeError, and what the kinds mean to the CLI and over HTTP.
export { ERROR_KINDS, ERROR_KIND_MEANING, EXIT_CODES, HTTP_STATUS, type ErrorKind } from './errors/index.js';
export { ERROR_AREAS, ERROR_CATALOG, isErrorCode, type ErrorArea, type ErrorCode, type ErrorSpec } from './errors/index.js';
export { ForgeError, toForgeError, type ErrorDetails, type ForgeErrorJSON, type ForgeErrorOptions } from './errors/index.js';
export { fromFsError, isNodeSystemError, type NodeSystemError } from './errors/index.js';
export { renderErrorReference } from './errors/index.js';

// Schemas: validation that reports every problem at once, and documents itself.
export {
  INVALID,
  anyOf,
  array,
  boolean,
  constrain,
  formatIssue,
  integer,
  isPlainObject,
  number,
  object,
  oneOf,
  optional,
  record,
  refine,
  required,
  string,
  transform,
  validate,
  withDefault,
  type AnyField,
  type ArrayOptions,
  type Field,
  type FieldDoc,
  type FieldMode,
  type FieldValue,
  type Infer,
  type Invalid,
  type Issue,
  type NumberOptions,
  type ObjectOf,
  type RecordOptions,
  type ReportIssue,
  type Schema,
  type SchemaDoc,
  type Shape,
  type Simplify,
  type StringOptions,
  type Validation,
} from './schema/index.js';
export { describeValue, duration, formatDuration, formatSize, parseDuration, parseSize, size } from './schema/index.js';
export { renderSchemaTables } from './schema/index.js';

// Configuration: plugin-manager.yaml, its defaults, and where state lives.
export {
  ANY_PUBLISHER,
  configFileSchema,
  daemonSchema,
  grantSchema,
  isLoopbackListen,
  packageLimitsSchema,
  pluginManagerSchema,
  policySchema,
  runtimeSchema,
  sandboxSchema,
  securitySchema,
  telemetrySchema,
  type DaemonConfig,
  type ForgeConfig,
  type GrantConfig,
  type PackageLimitsConfig,
  type PolicyConfig,
  type RuntimeConfig,
  type SandboxConfig,
  type SecurityConfig,
  type TelemetryConfig,
} from './config/index.js';
export { isMarketplaceUrl, marketplaceSchema, type MarketplaceConfig } from './config/index.js';
export {
  MAX_CONFIG_BYTES,
  configToDocument,
  defaultConfig,
  loadConfigFile,
  parseConfig,
  type ConfigIssue,
  type ConfigOptions,
  type ConfigSource,
} from './config/index.js';
export { SYSTEM_STATE_DIRECTORY, stateDirectory, statePaths, type StateDirectory, type StatePaths } from './config/index.js';
export { closestWord, renderConfigReference } from './config/index.js';

// Identities.
export { IdentityContext, type IdentityInit, type PluginIdentity } from './identity/index.js';

// Telemetry and logging.
export { MetricType, TelemetryEvent, type Labels } from './telemetry/index.js';
export { TelemetryBus, defaultTelemetryBus, recordEvent, type TelemetryListener } from './telemetry/index.js';
export { LOG_LEVELS, createLogger, silentLogger, type LogFields, type LogLevel, type LogRecord, type Logger } from './telemetry/index.js';

// The gate every host call passes.
export { ALLOW_ALL_GATE, type HostCallAccess, type HostCallDenial, type HostCallGate } from './hostcall/index.js';

// Limit options: the checks every package applies to its numeric limits.
export { checkLimitOption, checkPositiveLimit, invalidLimits, limitProblem, positiveLimitProblem, resolveLimits, type LimitRange, type LimitRule } from './limits/index.js';

export { canonicalJson } from './encoding/canonical-json.js';
