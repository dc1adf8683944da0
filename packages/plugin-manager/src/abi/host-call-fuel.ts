/**
 * The fuel a host call costs. The instrumenter charges a guest for its own instructions
 * (a `call` costs 1 like any other), but what the host does for an import is not an
 * instruction: without a charge of its own, a loop of cheap allowed host calls
 * (forge.time_now, random_get) made about 80 million host calls, each an audit record
 * at level `all`, on the default budget of 10^9 units.
 *
 * The charge is made where no guest route can avoid it: every imported function is
 * wrapped before the instance is linked, so a direct `call`, a `call_indirect` through
 * a table, a `call_ref` or a host call back through an exported import all enter the
 * same wrapper. It runs before the host function does, so a call that cannot pay never
 * reaches the host (not its policy, not its audit log).
 */
import { isWasmGlobal, wasm, type WasmImports, type WasmInstance } from './wasm-api.js';

/**
 * Fuel units every call into an import (forge.*, WASI, a registered host call) costs on
 * top of the guest's instructions around it. About what a cheap host call costs the host
 * in time, counted in the unit of ordinary guest code (roughly a nanosecond; docs/runtime.md,
 * "Fuel: what is charged"), so a call on the default budget of 10^9 units makes at most
 * 10^6 host calls.
 */
export const HOST_CALL_FUEL = 1000n;

/** What {@link HostCallFuel.bind} checks the counter export to be: a mutable i64 global. */
interface Counter {
  value: bigint;
}

/**
 * Charges {@link HOST_CALL_FUEL} to an instance's fuel counter each time the guest calls
 * one of its imports. Wrap the imports with {@link wrap} before instantiating, then
 * {@link bind} the instance's counter. A call made before the counter is bound (from the
 * module's start function, whose budget is its initial fuel, 0 by default) finds no fuel
 * and traps: nothing runs unpaid.
 */
export class HostCallFuel {
  readonly #exportName: string;
  #counter: Counter | undefined;

  /** @param exportName the instance's fuel counter export (`__forge_fuel`) */
  constructor(exportName: string) {
    this.#exportName = exportName;
  }

  /**
   * `imports` with every function wrapped so that it first pays {@link HOST_CALL_FUEL}
   * units; other values (a memory, a table, a global) as they are.
   */
  wrap(imports: WasmImports): WasmImports {
    const wrapped: Record<string, Record<string, unknown>> = {};
    for (const [module, members] of Object.entries(imports)) {
      const out: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(members)) out[name] = typeof value === 'function' ? this.#charging(value as (...args: unknown[]) => unknown) : value;
      wrapped[module] = out;
    }
    return wrapped;
  }

  /**
   * Binds the instance's counter, once instantiated. A counter that is not an i64
   * global leaves every wrapped call trapping, as with no fuel.
   */
  bind(instance: WasmInstance): void {
    const global = instance.exports[this.#exportName];
    if (isWasmGlobal(global) && typeof global.value === 'bigint') this.#counter = global as Counter;
  }

  #charging(fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    return (...args: unknown[]) => {
      this.#pay();
      return fn(...args);
    };
  }

  #pay(): void {
    const counter = this.#counter;
    // SECURITY: the counter is exact whenever the guest calls out (the instrumenter
    // writes its local count back before every call and reloads it after), so this
    // charge is never lost. Below zero, the call does not run: the trap is the one a
    // guest's own fuel check makes, and the host classifies it the same way
    // (FO_SANDBOX_CPU_LIMIT, the counter being negative).
    if (counter === undefined) throw new wasm.RuntimeError(`a host call costs ${HOST_CALL_FUEL} units of fuel, and the instance has no fuel counter yet`);
    const left = counter.value - HOST_CALL_FUEL;
    counter.value = left;
    if (left < 0n) throw new wasm.RuntimeError(`out of fuel: a host call costs ${HOST_CALL_FUEL} units, more than the call had left`);
  }
}
