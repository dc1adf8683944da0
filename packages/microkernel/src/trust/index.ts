export { CallCatalog, WASI_CALL_COUNT, WASI_MODULE, type CallSpec, type Requirement, type ResourceKind } from './calls.js';
export { EMPTY_CEILING, matchesCallPattern, matchesHostPattern, volumeOf, type Ceiling, type VolumeRequest } from './ceiling.js';
export { CedarPolicies, cedarSchema, type CedarAnswer, type CedarMode, type CedarPrincipal } from './cedar.js';
export {
  DEFAULT_OPERATOR_POLICY,
  decide,
  grantFor,
  type DecidedBy,
  type Decision,
  type DecisionInput,
  type OperatorPolicy,
  type PluginGrant,
} from './policy.js';
export { MAX_CACHED_DECISIONS, PluginTrust, TrustContext, type CacheStats, type SyscallArgs, type TrustOptions } from './trust-context.js';
export { grantsFromConfig, operatorPolicyFromConfig } from './from-config.js';
