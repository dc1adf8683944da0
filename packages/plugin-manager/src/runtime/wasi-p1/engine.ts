/**
 * The slice of the engine's `WebAssembly` namespace WASI uses, typed here: the
 * workspace builds without the DOM library, so TypeScript knows no `WebAssembly`
 * global, and a global declaration would clash with other folders. The types are
 * structural, so instances and modules from the runtime's own engine module fit.
 * Modules, instances and import objects, which the public `runWasiCommand` takes and
 * gives, share the ABI layer's typing (abi/wasm-api.ts), so one name means one type.
 */
import type { WasmImports, WasmInstance, WasmModule } from '../../abi/wasm-api.js';

export type { WasmImports, WasmInstance, WasmModule };

/** A linear memory (`WebAssembly.Memory`); growth replaces `buffer`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/** One import or export, as `WebAssembly.Module.imports/exports` describe it. */
export interface WasmExternDescriptor {
  readonly module?: string;
  readonly name: string;
  readonly kind: string;
}

interface ModuleStatics {
  imports(module: WasmModule): WasmExternDescriptor[];
  exports(module: WasmModule): WasmExternDescriptor[];
}

interface WasmNamespace {
  readonly Module: (abstract new (...args: never[]) => WasmModule) & ModuleStatics;
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  readonly LinkError: abstract new (...args: never[]) => Error;
  readonly RuntimeError: abstract new (...args: never[]) => Error;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports?: WasmImports): Promise<WasmInstance>;
}

/** The engine's `WebAssembly` namespace, narrowed to what WASI uses. */
export const wasm: WasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;

/** True when `value` is a `WebAssembly.Memory`. */
export function isWasmMemory(value: unknown): value is WasmMemory {
  return value instanceof wasm.Memory;
}

/** True when `value` is a compiled `WebAssembly.Module`. */
export function isWasmModule(value: unknown): value is WasmModule {
  return value instanceof wasm.Module;
}
