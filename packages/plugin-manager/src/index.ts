/**
 * @forgeone/plugin-manager: load, verify, sandbox and run WASI plugins.
 */
export * from './plugin/index.js';
export * from './loader/index.js';
export * from './attestation/index.js';
export * from './abi/index.js';
export * from './runtime/index.js';
export * from './syscall/index.js';
export * from './lifecycle/index.js';
export type { ExtensionImplementation, InvocationResult } from './extension/index.js';
export * from './registry/index.js';
export * from './sandbox/index.js';
export * from './metrics/index.js';
