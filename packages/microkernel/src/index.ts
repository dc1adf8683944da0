/**
 * @forgeone/microkernel: the zero-trust core. The syscall bridge, policy decisions,
 * the audit log and anomaly detection (see docs/architecture.md).
 *
 * Every name is listed here on purpose (docs/architecture.md, "Public API";
 * docs/reference/api.md records the surface): what an embedding host and the other
 * ForgeOne packages use. The folders' index.ts files are internal barrels; record
 * formatting, segment files, checkpoint signing and the decision procedure's pieces
 * stay behind them. `@forgeone/microkernel/testing` holds helpers for ForgeOne's own
 * tests.
 */

// Trust: the call catalog, ceilings, operator policy, Cedar, and the decisions.
export { CallCatalog, WASI_MODULE, type CallSpec, type Requirement, type ResourceKind } from './trust/index.js';
export { matchesCallPattern, matchesHostPattern, type Ceiling, type VolumeRequest } from './trust/index.js';
export { CedarPolicies, type CedarAnswer, type CedarMode, type CedarPrincipal } from './trust/index.js';
export { DEFAULT_OPERATOR_POLICY, grantsFromConfig, operatorPolicyFromConfig, type DecidedBy, type Decision, type OperatorPolicy, type PluginGrant } from './trust/index.js';
export { PluginTrust, TrustContext, type CacheStats, type SyscallArgs, type TrustOptions } from './trust/index.js';

// The bridge every host call passes.
export { DecisionCounts, SyscallBridge, type AuditPort, type BridgeAuditEntry, type BridgeOptions, type HostCallCount, type HostCallDefinition } from './bridge/index.js';

// The audit log: writing, reading, verifying, checkpoint keys.
export { AuditLog, type AuditCheckpointNotice, type AuditEventNotice, type AuditLogOptions, type AuditLogStats, type AuditObserver, type AuditSink } from './audit/index.js';
export type { ChainAnchor, DurableCheckpoint, WriterStats } from './audit/index.js';
export { AUDIT_LEVELS, DEFAULT_AUDIT_LEVEL, type AuditEventClass, type AuditLevel } from './audit/index.js';
export type {
  AuditCheckpointRecord,
  AuditData,
  AuditDecision,
  AuditDecisionReport,
  AuditEntry,
  AuditEventRecord,
  AuditIdentity,
  AuditRecord,
  AuditRecordBase,
  AuditRecoveryRecord,
  AuditSegmentRecord,
} from './audit/index.js';
export {
  generateCheckpointKey,
  loadCheckpointKey,
  loadCheckpointVerifyKey,
  loadOrCreateCheckpointKey,
  publicKeyFileFor,
  type CheckpointKey,
  type CheckpointVerifyKey,
} from './audit/index.js';
export {
  defaultVerifyThreads,
  verifyAuditLog,
  type AuditProblem,
  type AuditRecordLocation,
  type AuditRecoverySummary,
  type AuditVerification,
  type VerifyAuditLogOptions,
} from './audit/index.js';
export { readAuditTail, type AuditTail, type AuditTailOptions } from './audit/index.js';
export { appendWitness, readWitness, verifyWithWitness, type AuditWitness, type WitnessVerification } from './audit/index.js';
export { STATE_FORMAT, type CheckpointState, type LoadedCheckpointState } from './audit/index.js';
export { auditPathsFromConfig, openConfiguredAuditLog, type AuditConfig, type AuditPaths } from './audit/index.js';

// Anomaly detection and response.
export { AnomalyDetector, DEFAULT_ANOMALY_OPTIONS, type Anomaly, type AnomalyKind, type AnomalyOptions } from './anomaly/index.js';
export { anomalyOptionsFromConfig, anomalyResponder, type AnomalyAction, type AnomalyResponderOptions } from './anomaly/index.js';
