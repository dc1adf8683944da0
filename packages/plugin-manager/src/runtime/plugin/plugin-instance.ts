import { ForgeError, type HostCallGate, type Logger } from '@forgeone/common';
import { instantiateAbi, type AbiInstance, type AbiLimits, type EntryPoints, type HostFunctionRegistry } from '../../abi/index.js';
import type { EntryPointName } from '../../plugin/index.js';
import { WasiPreview1, type WasiOptions } from '../wasi-p1/index.js';
import { FuelMeter } from '../wasm/index.js';
import type { PreparedModule } from './prepare.js';

/** Options for {@link PluginInstance.create}. */
export interface PluginInstanceOptions {
  /** Decides every WASI and forge.* call (the syscall bridge's gate for this plugin). */
  readonly gate: HostCallGate;
  /** The forge.* host functions offered (default: forge.log only). */
  readonly hostFunctions?: HostFunctionRegistry;
  /** WASI grants (preopens, env, args, stdio, fd limit); the gate above is used for WASI too. */
  readonly wasi?: Omit<WasiOptions, 'gate'>;
  /** Fuel per call and per lifecycle step, in units (default 10^9). Ignored when the module is not metered. */
  readonly fuelPerCall?: bigint;
  readonly abiLimits?: Partial<AbiLimits>;
  readonly logger?: Logger;
}

/** Fuel per call when none is configured: about a second of guest work here. */
export const DEFAULT_FUEL_PER_CALL = 1_000_000_000n;

/**
 * One running plugin module: its WASI preview1 imports and forge.* host functions
 * bound to its gate, its fuel meter, and its forge/1 ABI. Calls are synchronous and one
 * at a time; each gets a fresh fuel budget, so a runaway call stops with
 * FO_SANDBOX_CPU_LIMIT while every other instance in the thread keeps running.
 */
export class PluginInstance {
  readonly abi: AbiInstance;
  readonly #meter: FuelMeter | undefined;
  readonly #wasi: WasiPreview1 | undefined;
  readonly #fuel: bigint;
  #lastFuelUsed = 0n;

  private constructor(abi: AbiInstance, meter: FuelMeter | undefined, wasi: WasiPreview1 | undefined, fuel: bigint) {
    this.abi = abi;
    this.#meter = meter;
    this.#wasi = wasi;
    this.#fuel = fuel;
  }

  /**
   * Instantiates a prepared module. WASI imports are provided only when the module
   * imports WASI functions.
   * @throws ForgeError FO_ABI_* (missing exports, unresolved imports, a start function
   *   that traps), FO_WASI_* (bad options)
   */
  static create(prepared: PreparedModule, options: PluginInstanceOptions): PluginInstance {
    const usesWasi = prepared.info.imports.some((entry) => entry.module === 'wasi_snapshot_preview1');
    const wasi = usesWasi ? new WasiPreview1({ ...options.wasi, gate: options.gate }) : undefined;
    const abi = instantiateAbi(prepared.module, {
      gate: options.gate,
      ...(options.hostFunctions === undefined ? {} : { hostFunctions: options.hostFunctions }),
      ...(wasi === undefined ? {} : { imports: wasi.importObject }),
      ...(options.abiLimits === undefined ? {} : { limits: options.abiLimits }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(prepared.fuelExport === undefined ? {} : { fuelExport: prepared.fuelExport }),
    });
    wasi?.bind(abi.instance);
    const meter = prepared.fuelExport === undefined ? undefined : FuelMeter.of(abi.instance, prepared.fuelExport);
    return new PluginInstance(abi, meter, wasi, options.fuelPerCall ?? DEFAULT_FUEL_PER_CALL);
  }

  /** Fuel used by the last call or lifecycle step, in units (0 when not metered). */
  get lastFuelUsed(): bigint {
    return this.#lastFuelUsed;
  }

  /** Descriptors the plugin holds open (WASI), for metrics. */
  get openFiles(): number {
    return this.#wasi?.openFiles ?? 0;
  }

  /**
   * Calls a forge/1 export with `input`, under a fresh fuel budget.
   * @throws ForgeError FO_SANDBOX_CPU_LIMIT (out of fuel), and the ABI's codes
   *   (FO_ABI_GUEST_ERROR, FO_ABI_GUEST_TRAP, FO_ABI_INSTANCE_POISONED, ...)
   */
  call(name: string, input: Uint8Array): Uint8Array {
    return this.#metered(() => this.abi.call(name, input));
  }

  /**
   * Runs a lifecycle entry point, if the manifest names one, under a fresh fuel budget.
   * @returns false when the manifest names no export for the step
   * @throws ForgeError as {@link call}, and FO_ABI_LIFECYCLE_FAILED for a non-zero status
   */
  lifecycle(step: EntryPointName, entryPoints: EntryPoints): boolean {
    return this.#metered(() => this.abi.runLifecycle(step, entryPoints));
  }

  /** Closes the WASI descriptors the plugin still holds. */
  close(): void {
    this.#wasi?.close();
  }

  #metered<T>(run: () => T): T {
    const meter = this.#meter;
    if (meter === undefined) return run();
    meter.remaining = this.#fuel;
    try {
      return run();
    } catch (error) {
      // The ABI reports the trap; the meter says whether fuel caused it.
      if (meter.exhausted && ForgeError.is(error, 'FO_ABI_GUEST_TRAP')) {
        throw new ForgeError('FO_SANDBOX_CPU_LIMIT', `the plugin used all ${this.#fuel} units of fuel it was given for the call`, {
          details: { budget: this.#fuel.toString() },
          cause: error,
        });
      }
      throw error;
    } finally {
      this.#lastFuelUsed = meter.exhausted ? this.#fuel : this.#fuel - meter.remaining;
    }
  }
}
