export {
  DEFAULT_MAX_REQUEST_BYTES,
  HOST_FUNCTION_NAME,
  HOST_MODULE,
  HostFunctionRegistry,
  type HostBinding,
  type HostBindingOptions,
  type HostCallContext,
  type HostFunctionDefinition,
  type HostFunctionHandler,
  type HostImport,
} from './host-functions.js';
export { ABI_EXPORTS, ABI_VERSION, AbiInstance, type AbiCallable, type AbiInstanceOptions, type EntryPoints, type OutputReceiver } from './instance.js';
export { HOST_CALL_FUEL, HostCallFuel } from './host-call-fuel.js';
export { defaultHostFunctions, importedHostFunctions, instantiateAbi, type InstantiateAbiOptions } from './instantiate.js';
export { DEFAULT_ABI_LIMITS, resolveAbiLimits, type AbiLimits } from './limits.js';
export { ERROR_FLAG, KEEP_FLAG, MAX_REGION_BYTES, packResult, unpackResult, type PackedResult } from './packed.js';
export {
  ERROR_CODE_PATTERN,
  MAX_ERROR_CODE_BYTES,
  MAX_HOST_ERROR_MESSAGE_BYTES,
  decodeErrorPayload,
  encodeErrorPayload,
  type ErrorPayload,
} from './error-payload.js';
export { FORGE_LOG_LEVELS, FORGE_LOG_MAX_MESSAGE_BYTES, forgeLog } from './forge-log.js';
export { GuestHeap, GuestMemory, guestFailure } from './guest-memory.js';
