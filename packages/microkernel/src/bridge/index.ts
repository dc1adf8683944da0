export { SyscallBridge, type AuditPort, type BridgeAuditEntry, type BridgeOptions, type CallCounters, type HostCallDefinition } from './bridge.js';
