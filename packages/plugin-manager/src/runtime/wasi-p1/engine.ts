/**
 * The engine's `WebAssembly` namespace for WASI. The typing lives once, in the ABI
 * layer below (abi/wasm-api.ts); this module only gives WASI its names.
 */
export { isWasmMemory, isWasmModule, wasm, type WasmImports, type WasmInstance, type WasmMemory, type WasmModule } from '../../abi/wasm-api.js';
