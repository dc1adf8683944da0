export * from './wasm/index.js';
export * from './wasi-p1/index.js';
export * from './plugin/index.js';
