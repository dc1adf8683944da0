import assert from 'node:assert/strict';
import { engine, type WasmImports, type WasmInstance } from '../engine.js';
import { FuelMeter } from '../fuel-meter.js';
import { instrumentModule, type InstrumentOptions } from '../instrument.js';

/** Compiles and instantiates `bytes`. */
export async function instantiate(bytes: Uint8Array, imports: WasmImports = {}): Promise<WasmInstance> {
  return engine.instantiate(await engine.compile(bytes), imports);
}

/** An exported function of `instance`, typed loosely for tests. */
export function fn(instance: WasmInstance, name: string): (...args: unknown[]) => unknown {
  const value = instance.exports[name];
  assert.equal(typeof value, 'function', `export ${name} is a function`);
  return value as (...args: unknown[]) => unknown;
}

/** Instruments `bytes` with fuel (and any other options), instantiates it and returns it with its meter. */
export async function metered(
  bytes: Uint8Array,
  options: Partial<InstrumentOptions> = {},
  imports: WasmImports = {},
): Promise<{ instance: WasmInstance; meter: FuelMeter; bytes: Uint8Array }> {
  const instrumented = instrumentModule(bytes, { fuel: true, ...options });
  assert.ok(engine.validate(instrumented.bytes), 'the instrumented module is valid');
  const instance = await instantiate(instrumented.bytes, imports);
  return { instance, meter: FuelMeter.of(instance), bytes: instrumented.bytes };
}
