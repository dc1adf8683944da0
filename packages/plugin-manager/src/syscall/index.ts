/**
 * The forge.* host calls plugins see (docs/reference/abi.md, "Host calls"), and the
 * sync bridge that lets a synchronous guest call wait for asynchronous host work.
 */
export { FORGE_HOST_FUNCTION_NAMES, createForgeHostFunctions, type ForgeHostFunctions, type ForgeHostOptions } from './forge-host.js';
export {
  DEFAULT_HOST_CALL_LIMITS,
  resolveHostCallLimits,
  type FileLimits,
  type HostCallLimits,
  type HostCallLimitsInput,
  type HttpLimits,
  type KvLimits,
  type RateLimit,
  type RateLimitedCall,
} from './limits.js';
export { SYSTEM_CLOCK, type HostClock } from './clock.js';
export { CONFIG_MAX_KEY_BYTES, type PluginConfig } from './config-get.js';
export { EVENT_NAME, type EventSink, type PluginEvent } from './events.js';
export { FILE_WRITE_MODES, type FileWriteMode } from './file-calls.js';
export { MAX_GUEST_PATH_BYTES, type VolumeMapping } from './volumes.js';
export { KV_FILE_NAME, KvStore, type KvPage, type KvUsage } from './kv-store.js';
export { FORBIDDEN_REQUEST_HEADERS, HTTP_METHODS, explicitHosts, hostResource, type ExplicitHosts } from './http-request.js';
export { classifyAddress, type AddressRange } from './address.js';
export type { HttpHop, HttpHopResult } from './http-hop.js';
export { SyncBridge, type SyncBridgeOptions } from './sync-bridge.js';
export { bridgeData, serveSyncBridge, type SyncBridgeHandlers } from './sync-bridge-worker.js';
export { IO_WORKER_URL, createIoBridge } from './io-bridge.js';
export { TokenBucket } from './rate-limit.js';
export { registeredCallResource, registeredHostFunctions, runRegisteredCall } from './registered-calls.js';
