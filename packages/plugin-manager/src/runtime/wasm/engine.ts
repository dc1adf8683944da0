/**
 * Typed access to the engine's `WebAssembly` namespace. The TypeScript libraries this
 * repository builds with (ES2023 and @types/node) do not declare it, and a global
 * declaration here would clash with any other; so this module describes the small part
 * ForgeOne uses and reads the namespace from `globalThis` once.
 */

/** A compiled module (a `WebAssembly.Module`): shareable between instances and workers. */
export interface CompiledModule {
  readonly [Symbol.toStringTag]: string;
}

/** A `WebAssembly.Global`. */
export interface WasmGlobal {
  value: unknown;
}

/** A `WebAssembly.Memory`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

/** A `WebAssembly.Instance`. */
export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}

/** An import object: module name to name to value. */
export type WasmImports = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

interface ModuleConstructor {
  new (bytes: Uint8Array): CompiledModule;
  imports(module: CompiledModule): { module: string; name: string; kind: string }[];
  exports(module: CompiledModule): { name: string; kind: string }[];
}

interface WebAssemblyNamespace {
  readonly Module: ModuleConstructor;
  readonly Instance: new (module: CompiledModule, imports?: WasmImports) => WasmInstance;
  readonly Global: abstract new (...args: never[]) => WasmGlobal;
  readonly Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  readonly CompileError: abstract new (...args: never[]) => Error;
  readonly LinkError: abstract new (...args: never[]) => Error;
  readonly RuntimeError: abstract new (...args: never[]) => Error;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<CompiledModule>;
  instantiate(module: CompiledModule, imports?: WasmImports): Promise<WasmInstance>;
}

/** The engine's `WebAssembly` namespace, typed. */
export const engine: WebAssemblyNamespace = (globalThis as unknown as { WebAssembly: WebAssemblyNamespace }).WebAssembly;

/** True when `value` is a `WebAssembly.Global`. */
export function isWasmGlobal(value: unknown): value is WasmGlobal {
  return value instanceof engine.Global;
}
