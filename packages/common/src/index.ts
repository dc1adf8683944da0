/**
 * @forgeone/common: the pieces every ForgeOne package shares. Nothing here does I/O
 * at import time; `loadConfigFile` is the only function that reads files.
 */
export * from './errors/index.js';
export * from './schema/index.js';
export * from './config/index.js';
export * from './identity/index.js';
export * from './telemetry/index.js';
export * from './hostcall/index.js';
export * from './limits/index.js';
export { canonicalJson } from './encoding/canonical-json.js';
