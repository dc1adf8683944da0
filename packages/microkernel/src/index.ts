/**
 * @forgeone/microkernel: the zero-trust core. The syscall bridge, policy decisions,
 * the audit log and anomaly detection (see docs/architecture.md).
 */
export * from './audit/index.js';
export * from './trust/index.js';
export * from './anomaly/index.js';
export * from './bridge/index.js';
