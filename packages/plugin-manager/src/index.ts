/**
 * @forgeone/plugin-manager: load, verify, sandbox and run WASI plugins.
 */
export * from './plugin/index.js';
export * from './loader/index.js';
