/**
 * The slice of the WebAssembly JavaScript API the ABI uses, typed locally.
 *
 * The workspace compiles without the DOM library, so TypeScript knows no `WebAssembly`
 * global. Declaring one globally here would clash with any other folder doing the same;
 * instead this module reads the engine's global once, under a narrow local type.
 */

/** A linear memory (`WebAssembly.Memory`). `buffer` is replaced (and the old one detached) by growth. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `delta` pages of 64 KiB; returns the old size in pages. */
  grow(delta: number): number;
}

/** A compiled module (`WebAssembly.Module`); opaque to the ABI. */
export type WasmModule = object;

/** An instantiated module (`WebAssembly.Instance`). */
export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}

/** The import object given to instantiation: module name -> field name -> value. */
export type WasmImports = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** One import or export of a module, as `WebAssembly.Module.imports/exports` report it. */
export interface WasmExternDescriptor {
  readonly module?: string;
  readonly name: string;
  readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
}

interface WasmNamespace {
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  readonly Module: (new (bytes: Uint8Array) => WasmModule) & {
    imports(module: WasmModule): WasmExternDescriptor[];
    exports(module: WasmModule): WasmExternDescriptor[];
  };
  readonly Instance: new (module: WasmModule, imports?: WasmImports) => WasmInstance;
  readonly LinkError: new (...args: never[]) => Error;
}

/** The engine's `WebAssembly` namespace, narrowed to what the ABI uses. */
export const wasm: WasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;

/** True when `value` is a `WebAssembly.Memory`. */
export function isWasmMemory(value: unknown): value is WasmMemory {
  return value instanceof wasm.Memory;
}
