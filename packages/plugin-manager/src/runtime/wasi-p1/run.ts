/**
 * Runs a WASI command module end to end, in named steps: prepare the bytes (the slot
 * where instrumentation goes), compile, check what the module imports and exports,
 * make the WASI context, instantiate, start, and always release the context.
 */
import { ForgeError } from '@forgeone/common';
import { HostCallFuel } from '../../abi/host-call-fuel.js';
import { WASI_MODULE, WASI_P1_FUNCTIONS } from './abi.js';
import { isWasmModule, wasm, type WasmImports, type WasmInstance, type WasmModule } from './engine.js';
import type { WasiOptions } from './options.js';
import { outcomeOf, type WasiRunResult } from './outcome.js';
import { WasiPreview1 } from './wasi.js';

/** Options of {@link runWasiCommand}: the WASI grants plus how to build the instance. */
export interface WasiRunOptions extends WasiOptions {
  /**
   * Rewrites the module bytes before they are compiled (fuel metering, memory caps).
   * Not called when a compiled module is passed. Default: none.
   */
  readonly prepare?: (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  /**
   * Imports besides WASI (`forge.*` host functions). Entries for
   * `wasi_snapshot_preview1` are ignored: WASI always comes from this context, so every
   * call passes its gate.
   */
  readonly imports?: WasmImports;
  /**
   * The export name of the module's fuel counter, when `prepare` instrumented it
   * (`__forge_fuel`): every WASI and other import call then costs HOST_CALL_FUEL units
   * of it, as a plugin's do. Default: host calls are not charged.
   */
  readonly fuelExport?: string;
  /** Called with the instance before `_start` runs (to read its fuel counter after a trap). */
  readonly onInstance?: (instance: WasmInstance) => void;
}

const WASI_NAMES: ReadonlySet<string> = new Set(WASI_P1_FUNCTIONS);

async function compile(bytes: Uint8Array): Promise<WasmModule> {
  try {
    return await wasm.compile(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ForgeError('FO_WASI_MODULE_INVALID', `expected a WebAssembly module, but compiling failed: ${reason}`, { cause: error });
  }
}

/** Refuses a module that needs an import nobody provides, before anything runs. */
function checkImports(module: WasmModule, extra: WasmImports | undefined): void {
  const missing = wasm.Module.imports(module)
    .filter((wanted) =>
      wanted.module === WASI_MODULE ? wanted.kind !== 'function' || !WASI_NAMES.has(wanted.name) : extra?.[wanted.module ?? '']?.[wanted.name] === undefined,
    )
    .map((wanted) => `${wanted.module}.${wanted.name} (${wanted.kind})`);
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, and ${missing.length - 10} more` : '');
    throw new ForgeError('FO_WASI_UNRESOLVED_IMPORT', `the module imports what neither WASI preview1 nor the host provides: ${shown}`, { details: { imports: missing } });
  }
}

function checkExports(module: WasmModule): void {
  const exports = wasm.Module.exports(module);
  if (!exports.some((entry) => entry.name === '_start' && entry.kind === 'function')) {
    throw new ForgeError('FO_WASI_NOT_A_COMMAND', 'the module exports no "_start" function, so it is not a WASI command');
  }
  if (!exports.some((entry) => entry.name === 'memory' && entry.kind === 'memory')) {
    throw new ForgeError('FO_WASI_NO_MEMORY', 'the module does not export its memory as "memory", which WASI needs');
  }
}

/**
 * Runs a WASI command: `_start` with the given grants.
 *
 * @param module module bytes (prepared, then compiled) or a compiled module
 * @returns the exit code (proc_exit's, or 0 when `_start` returns) or, on a trap,
 *   exit code 134 and the trap; a trap in the module's start function counts too
 * @throws ForgeError FO_WASI_MODULE_INVALID, FO_WASI_UNRESOLVED_IMPORT,
 *   FO_WASI_NOT_A_COMMAND, FO_WASI_NO_MEMORY, FO_WASI_CALL_DENIED, every error of
 *   {@link WasiPreview1}'s constructor, and whatever `prepare` throws
 */
export async function runWasiCommand(module: WasmModule | Uint8Array, options: WasiRunOptions = {}): Promise<WasiRunResult> {
  const compiled = isWasmModule(module) ? module : await compile(options.prepare === undefined ? module : await options.prepare(module));
  checkImports(compiled, options.imports);
  checkExports(compiled);
  const wasi = new WasiPreview1(options);
  try {
    let instance: WasmInstance;
    try {
      const imports = { ...options.imports, ...wasi.importObject };
      const fuel = options.fuelExport === undefined ? undefined : new HostCallFuel(options.fuelExport);
      instance = await wasm.instantiate(compiled, fuel === undefined ? imports : fuel.wrap(imports));
      fuel?.bind(instance);
    } catch (error) {
      if (error instanceof wasm.LinkError) {
        throw new ForgeError('FO_WASI_UNRESOLVED_IMPORT', `the module's imports do not match what is provided: ${error.message}`, { cause: error });
      }
      return outcomeOf(error);
    }
    options.onInstance?.(instance);
    return wasi.start(instance);
  } finally {
    wasi.close();
  }
}
