export { AUDIT_LEVELS, DEFAULT_AUDIT_LEVEL, auditLevelAdmits, isAuditLevel, type AuditEventClass, type AuditLevel } from './level.js';
export { GENESIS_HASH, RECORD_TYPES, checkpointStatement, formatTimestamp, jsonString, type RecordType } from './format.js';
export {
  MAX_TEXT,
  auditIdentity,
  parseAuditRecord,
  type AuditCheckpointRecord,
  type AuditRecordBase,
  type AuditData,
  type AuditDecisionReport,
  type AuditDecision,
  type AuditEntry,
  type AuditEventRecord,
  type AuditIdentity,
  type AuditRecord,
  type AuditRecoveryRecord,
  type AuditSegmentRecord,
} from './record.js';
export {
  checkpointKeyId,
  generateCheckpointKey,
  loadCheckpointKey,
  loadCheckpointVerifyKey,
  loadOrCreateCheckpointKey,
  publicKeyFileFor,
  signCheckpoint,
  verifyCheckpointSignature,
  type CheckpointKey,
  type CheckpointVerifyKey,
} from './keys.js';
export { listSegments, segmentPath, statePathFor, type SegmentFile } from './files.js';
export { STATE_FORMAT, readCheckpointState, type CheckpointState, type LoadedCheckpointState } from './state.js';
export { appendWitness, readWitness, verifyWithWitness, type AuditWitness, type WitnessVerification } from './witness.js';
export { AuditLog } from './log.js';
export type { AuditEventNotice, AuditObserver } from './observers.js';
export type { AuditCheckpointNotice, AuditLogOptions, AuditLogStats, AuditSink } from './options.js';
export type { ChainAnchor } from './chain.js';
export type { DurableCheckpoint, WriterStats } from './writer.js';
export {
  defaultVerifyThreads,
  verifyAuditLog,
  type AuditProblem,
  type AuditRecordLocation,
  type AuditRecoverySummary,
  type AuditVerification,
  type VerifyAuditLogOptions,
} from './verify.js';
export { readAuditTail, recordMatchesPlugin, type AuditTail, type AuditTailOptions } from './tail.js';
export { auditPathsFromConfig, openConfiguredAuditLog, type AuditConfig, type AuditPaths } from './config.js';
