/**
 * One guest's WASI preview1: build it with the grants, give its import object to
 * `WebAssembly.instantiate`, then either {@link WasiPreview1.start} a command
 * (`_start`) or {@link WasiPreview1.initialize} a reactor whose exports the runtime
 * calls. {@link runWasiCommand} does all of it for a command module.
 */
import { ForgeError } from '@forgeone/common';
import { WASI_MODULE, type WasiFunctionName } from './abi.js';
import { WasiCore } from './core.js';
import { isWasmMemory, type WasmImports, type WasmInstance } from './engine.js';
import { WasiMemory } from './guest-memory.js';
import { createImports } from './imports.js';
import type { HostFunction } from './marshal.js';
import { normalizeWasiOptions, type WasiOptions } from './options.js';
import { outcomeOf, type WasiRunResult } from './outcome.js';

/** A WASI preview1 context serving one instance. */
export class WasiPreview1 {
  readonly #core: WasiCore;
  readonly #memory = new WasiMemory();
  #instance: WasmInstance | undefined;
  #started = false;
  /** The 46 `wasi_snapshot_preview1` functions, bound to this context. */
  readonly imports: Readonly<Record<WasiFunctionName, HostFunction>>;

  /**
   * Checks the options and opens the preopened directories. Call {@link close} when
   * the instance is done, to release their host descriptors.
   *
   * @throws ForgeError FO_WASI_INVALID_OPTIONS, FO_WASI_TOO_MANY_FILES,
   *   FO_WASI_PREOPEN_NOT_FOUND, FO_WASI_PREOPEN_NOT_DIRECTORY, FO_IO_*
   */
  constructor(options: WasiOptions = {}) {
    const normalized = normalizeWasiOptions(options);
    this.#core = new WasiCore(normalized);
    this.imports = createImports({ core: this.#core, memory: this.#memory, gate: normalized.gate });
  }

  /** `{ wasi_snapshot_preview1: imports }`, to merge into an instantiation's imports. */
  get importObject(): WasmImports {
    return { [WASI_MODULE]: this.imports };
  }

  /** Descriptors the guest holds now, counting stdio and preopens. */
  get openFiles(): number {
    return this.#core.table.size;
  }

  /**
   * Binds the instance's exported `memory`, which every WASI call reads and writes.
   * @throws ForgeError FO_WASI_NO_MEMORY, FO_WASI_ALREADY_BOUND (another instance)
   */
  bind(instance: WasmInstance): void {
    if (this.#instance === instance) return;
    if (this.#instance !== undefined) {
      throw new ForgeError('FO_WASI_ALREADY_BOUND', 'this WASI context already serves another instance; make one context per instance');
    }
    const memory = instance.exports['memory'];
    if (!isWasmMemory(memory)) {
      throw new ForgeError('FO_WASI_NO_MEMORY', 'the module does not export its memory as "memory", which WASI needs');
    }
    this.#memory.bind(memory);
    this.#instance = instance;
  }

  /**
   * Runs a command: binds the instance and calls `_start`.
   *
   * @returns the exit code (0 when `_start` returns) or the trap
   * @throws ForgeError FO_WASI_NOT_A_COMMAND, FO_WASI_NO_MEMORY, FO_WASI_ALREADY_BOUND,
   *   FO_WASI_CALL_DENIED (the gate refused proc_exit), FO_INTERNAL_UNEXPECTED
   */
  start(instance: WasmInstance): WasiRunResult {
    const entry = instance.exports['_start'];
    if (typeof entry !== 'function') throw new ForgeError('FO_WASI_NOT_A_COMMAND', 'the module exports no "_start" function, so it is not a WASI command');
    this.#claim(instance);
    try {
      (entry as () => unknown)();
      return { exitCode: 0 };
    } catch (error) {
      return outcomeOf(error);
    }
  }

  /**
   * Prepares a reactor (a module the runtime calls into): binds the instance and calls
   * `_initialize` when it is exported. A trap or proc_exit during it is returned.
   */
  initialize(instance: WasmInstance): WasiRunResult | undefined {
    this.#claim(instance);
    const init = instance.exports['_initialize'];
    if (typeof init !== 'function') return undefined;
    try {
      (init as () => unknown)();
      return undefined;
    } catch (error) {
      return outcomeOf(error);
    }
  }

  /** Closes every descriptor the guest still holds. Safe to call twice. */
  close(): void {
    this.#core.close();
  }

  #claim(instance: WasmInstance): void {
    if (this.#started) throw new ForgeError('FO_WASI_ALREADY_BOUND', 'this WASI context was already started; make one context per run');
    this.bind(instance);
    this.#started = true;
  }
}
