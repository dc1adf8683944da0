export { SyscallBridge, type BridgeOptions, type HostCallDefinition } from './bridge.js';
export { auditClass, type AuditPort, type BridgeAuditEntry } from './pipeline.js';
export { DecisionCounts, type HostCallCount } from './counts.js';
