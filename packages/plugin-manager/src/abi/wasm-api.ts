/**
 * The slice of the WebAssembly JavaScript API ForgeOne uses, typed once for the ABI and
 * the runtime (runtime/wasm/engine.ts re-exports it).
 *
 * The workspace compiles without the DOM library, so TypeScript knows no `WebAssembly`
 * global. Declaring one globally here would clash with any other folder doing the same;
 * instead this module reads the engine's global once, under a narrow local type.
 */

/** A compiled module (`WebAssembly.Module`): shareable between instances and workers. */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

/** A linear memory (`WebAssembly.Memory`). `buffer` is replaced (and the old one detached) by growth. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `delta` pages of 64 KiB; returns the old size in pages. */
  grow(delta: number): number;
}

/** A global (`WebAssembly.Global`). */
export interface WasmGlobal {
  value: unknown;
}

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
  readonly Module: (new (bytes: Uint8Array) => WasmModule) & {
    imports(module: WasmModule): WasmExternDescriptor[];
    exports(module: WasmModule): WasmExternDescriptor[];
    /** The contents of every custom section named `name`, in order. */
    customSections(module: WasmModule, name: string): ArrayBuffer[];
  };
  readonly Instance: new (module: WasmModule, imports?: WasmImports) => WasmInstance;
  readonly Global: abstract new (...args: never[]) => WasmGlobal;
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  readonly CompileError: abstract new (...args: never[]) => Error;
  readonly LinkError: abstract new (...args: never[]) => Error;
  readonly RuntimeError: new (message?: string) => Error;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports?: WasmImports): Promise<WasmInstance>;
}

/** The engine's `WebAssembly` namespace, typed. */
export const wasm: WasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;

/** True when `value` is a `WebAssembly.Memory`. */
export function isWasmMemory(value: unknown): value is WasmMemory {
  return value instanceof wasm.Memory;
}

/** True when `value` is a `WebAssembly.Global`. */
export function isWasmGlobal(value: unknown): value is WasmGlobal {
  return value instanceof wasm.Global;
}

/** True when `value` is a compiled `WebAssembly.Module`. */
export function isWasmModule(value: unknown): value is WasmModule {
  return value instanceof wasm.Module;
}
