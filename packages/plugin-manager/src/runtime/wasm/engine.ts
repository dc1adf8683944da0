/**
 * The engine's `WebAssembly` namespace for the runtime. The typing lives once, in the
 * ABI layer below (abi/wasm-api.ts); this module only gives it the runtime's names.
 */
export {
  isWasmGlobal,
  wasm as engine,
  type WasmGlobal,
  type WasmImports,
  type WasmInstance,
  type WasmMemory,
  type WasmModule as CompiledModule,
} from '../../abi/wasm-api.js';
