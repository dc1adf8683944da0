/**
 * The fuel of one plugin instance across a call, and the fuel a caller lends a plugin it
 * calls (forge.call_plugin).
 *
 * Every call starts with a budget: the plugin's own `fuelPerCall`, or less when its
 * caller lends it less. While the call runs, its fuel counter is also the account of the
 * calls it makes into other plugins: such a nested call may use at most what the caller
 * has left, and what it used is taken from the caller's counter when it returns. So a
 * chain of plugin calls (A calls B calls C, A calls B a thousand times) never uses more
 * fuel than the first caller was given, plus the bounded overshoot of each fuel check
 * (docs/runtime.md), and a caller whose counter a nested call took below zero stops with
 * FO_SANDBOX_CPU_LIMIT.
 */
import { ForgeError } from '@forgeone/common';
import { FuelMeter } from '../runtime/index.js';
import type { CallerFuel } from './spec.js';

/** What FuelMeter.of checked the counter export to be: a mutable i64 global. */
interface Counter {
  value: bigint;
}

/** The fuel counter of one instance. Not thread-safe; one call at a time. */
export class CallFuel {
  readonly #counter: Counter;
  #budget = 0n;
  #lent = false;

  private constructor(counter: Counter) {
    this.#counter = counter;
  }

  /**
   * The counter of `instance`.
   * @throws ForgeError FO_RUNTIME_NOT_INSTRUMENTED when it exports no i64 global `exportName`
   */
  static of(instance: { readonly exports: Readonly<Record<string, unknown>> }, exportName: string): CallFuel {
    FuelMeter.of(instance, exportName);
    return new CallFuel(instance.exports[exportName] as Counter);
  }

  /**
   * Starts a call with the plugin's own budget, or `lent` when a caller lends less.
   * @returns the call's budget, in units
   */
  start(own: bigint, lent: bigint | undefined): bigint {
    this.#lent = lent !== undefined && lent < own;
    this.#budget = this.#lent && lent !== undefined ? lent : own;
    this.#counter.value = this.#budget;
    return this.#budget;
  }

  /** The budget of the call in progress (or the last one), in units. */
  get budget(): bigint {
    return this.#budget;
  }

  /** True when the call's budget was what a caller lent (less than the plugin's own). */
  get lent(): boolean {
    return this.#lent;
  }

  /** Fuel left, in units; below zero once the call ran out or was charged past its budget. */
  get remaining(): bigint {
    return this.#counter.value;
  }

  get exhausted(): boolean {
    return this.#counter.value < 0n;
  }

  /** Fuel the call used, in units, at most its budget (what a handle's stats report). */
  get used(): bigint {
    return this.exhausted ? this.#budget : this.#budget - this.#counter.value;
  }

  /** Fuel the call used, in units, with the overshoot of its last fuel check: what its caller is charged. */
  get spent(): bigint {
    return this.#budget - this.#counter.value;
  }

  /** Takes `units` from the counter, below zero if need be (the guest then traps at its next fuel check). */
  charge(units: bigint): void {
    this.#counter.value -= units;
  }

  /** The running call's fuel, as the account of the calls it makes into other plugins. */
  account(): CallerFuel {
    const counter = this.#counter;
    return {
      get remaining(): bigint {
        return counter.value;
      },
      charge: (units) => this.charge(units),
    };
  }
}

/**
 * What a caller lends a call: undefined when the caller is not metered (the callee runs
 * on its own budget), else what the caller has left.
 * @throws ForgeError FO_SANDBOX_CPU_LIMIT when the caller has nothing left (the call does not run)
 */
export function lentFuel(fuel: CallerFuel | undefined, what: string): bigint | undefined {
  if (fuel === undefined) return undefined;
  const remaining = fuel.remaining;
  if (remaining > 0n) return remaining;
  throw new ForgeError('FO_SANDBOX_CPU_LIMIT', `the ${what} did not run: the calling plugin has no fuel left to lend it`, { details: { lent: remaining.toString() } });
}
