/**
 * Isolation backends: where plugin instances run. One contract (spec.ts), one shared
 * conformance suite (test-support/conformance.ts), and docs/sandbox.md for operators.
 */
export type { BackendHost, CallProbe, CallerFuel, HandleEvent, HandleState, HandleStats, HostCallRecord, IsolationBackend, PluginHandle, PluginSpec, PolicySpec } from './spec.js';
export { MAX_TRACED_HOST_CALLS, callProbe } from './spec.js';
export { InlineBackend, type InlineBackendOptions } from './inline.js';
export { PoolBackend, type PoolOptions, type PoolWorkerInfo } from './pool.js';
export { ProcessBackend, type ProcessOptions } from './process/backend.js';
export { MAX_REGISTERED_REQUEST_BYTES, registeredCallSpecs } from './registered.js';
export { CgroupHost, probeIsolation, sweepStaleCgroups, type Capability, type Cgroup, type CgroupLimits, type CgroupUsage, type IsolationProbe } from './linux/index.js';
