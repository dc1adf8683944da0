import { ForgeError, describeValue } from '@forgeone/common';
import { engine, isWasmGlobal, type WasmGlobal, type WasmInstance } from './engine.js';
import { FUEL_EXPORT } from './instrument.js';

const I64_MAX = 2n ** 63n - 1n;

/** The outcome of a metered call. */
export interface MeteredResult<T> {
  readonly value: T;
  /** Fuel the call used (charged), in fuel units. */
  readonly used: bigint;
}

/**
 * The host side of fuel metering for one instance of an instrumented module: sets the
 * budget before a call, reads what is left after it, and tells a fuel trap from any
 * other. Each instance has its own counter, so meters of different instances (in the
 * same thread or not) never affect each other.
 */
export class FuelMeter {
  readonly #global: WasmGlobal;

  private constructor(global: WasmGlobal) {
    this.#global = global;
  }

  /**
   * The meter of `instance`.
   * @param exportName the counter's export; {@link FUEL_EXPORT} unless the module was
   *   instrumented under another name
   * @throws ForgeError FO_RUNTIME_NOT_INSTRUMENTED when the instance exports no i64
   *   global of that name
   */
  static of(instance: WasmInstance, exportName: string = FUEL_EXPORT): FuelMeter {
    const global = instance.exports[exportName];
    if (!isWasmGlobal(global) || typeof global.value !== 'bigint') {
      throw new ForgeError('FO_RUNTIME_NOT_INSTRUMENTED', `fuel meter: expected the instance to export an i64 global ${describeValue(exportName)}, found ${global === undefined ? 'no such export' : 'another kind of export'}`, {
        details: { export: exportName },
      });
    }
    return new FuelMeter(global);
  }

  /** Fuel left, in units; below zero after the guest ran out. */
  get remaining(): bigint {
    return this.#global.value as bigint;
  }

  /**
   * Sets the fuel left before a call.
   * @throws ForgeError FO_RUNTIME_BAD_OPTION unless 0 <= fuel <= 2^63 - 1
   */
  set remaining(fuel: bigint) {
    if (typeof fuel !== 'bigint' || fuel < 0n || fuel > I64_MAX) {
      throw new ForgeError('FO_RUNTIME_BAD_OPTION', `fuel: expected a bigint from 0 to 2^63-1, found ${describeValue(fuel)}`, {
        details: { option: 'fuel', actual: describeValue(fuel) },
      });
    }
    this.#global.value = fuel;
  }

  /** True once the guest has run out of fuel. */
  get exhausted(): boolean {
    return this.remaining < 0n;
  }

  /**
   * Runs `call` (a call into the instance) with a budget of `fuel` units.
   * @returns the call's value and the fuel it used
   * @throws ForgeError FO_SANDBOX_CPU_LIMIT when the guest ran out of fuel;
   *   FO_RUNTIME_TRAP for any other trap; whatever else `call` throws, unchanged (a
   *   host function's refusal stays the host's error)
   */
  run<T>(fuel: bigint, call: () => T): MeteredResult<T> {
    this.remaining = fuel;
    try {
      const value = call();
      return { value, used: fuel - this.remaining };
    } catch (error) {
      throw classifyTrap(error, this, fuel);
    }
  }
}

/** True when `instance` is instrumented and its guest has run out of fuel. */
export function isFuelExhausted(instance: WasmInstance, exportName: string = FUEL_EXPORT): boolean {
  const global = instance.exports[exportName];
  return isWasmGlobal(global) && typeof global.value === 'bigint' && global.value < 0n;
}

/**
 * Turns what a call into a guest threw into ForgeOne's terms: a trap with the meter
 * exhausted is FO_SANDBOX_CPU_LIMIT, any other trap (including exhausting the call
 * stack) FO_RUNTIME_TRAP with the engine's message; anything else is returned as is.
 *
 * @param meter the instance's meter, when it is instrumented with fuel
 * @param budget the fuel the call was given, for the error's details
 */
export function classifyTrap(error: unknown, meter?: FuelMeter, budget?: bigint): unknown {
  const stackExhausted = error instanceof RangeError && /call stack/i.test(error.message);
  if (!(error instanceof engine.RuntimeError) && !stackExhausted) return error;
  if (meter?.exhausted === true && !stackExhausted) {
    const details = { remaining: meter.remaining.toString(), ...(budget === undefined ? {} : { budget: budget.toString() }) };
    return new ForgeError('FO_SANDBOX_CPU_LIMIT', `guest stopped: expected it to finish within ${budget === undefined ? 'its' : `${budget} units of`} fuel, found it used all of it`, {
      details,
      cause: error,
    });
  }
  const trap = error.message;
  return new ForgeError('FO_RUNTIME_TRAP', `guest trapped: ${trap}`, { details: { trap }, cause: error });
}
