import { ForgeError, type HostCallGate, type Logger } from '@forgeone/common';
import { forgeLog } from './forge-log.js';
import { HostCallFuel } from './host-call-fuel.js';
import { guestFailure } from './guest-memory.js';
import { HOST_MODULE, HostFunctionRegistry } from './host-functions.js';
import { AbiInstance } from './instance.js';
import type { AbiLimits } from './limits.js';
import { wasm, type WasmImports, type WasmModule } from './wasm-api.js';

/** Options for {@link instantiateAbi}. */
export interface InstantiateAbiOptions {
  /** Decides every forge.* call. Required: there is no default policy. */
  readonly gate: HostCallGate;
  /** Receives forge.log records and host function failures (default: silent). */
  readonly logger?: Logger;
  /** The host functions offered (default: {@link defaultHostFunctions}, i.e. forge.log). */
  readonly hostFunctions?: HostFunctionRegistry;
  /** Other import modules (e.g. `wasi_snapshot_preview1`); must not contain `forge`. */
  readonly imports?: WasmImports;
  /** Size limits per call (defaults: DEFAULT_ABI_LIMITS). */
  readonly limits?: Partial<AbiLimits>;
  /**
   * Wraps every imported function (forge.* and the other modules') before linking, e.g.
   * to time host calls for tracing. Default: imports are bound as they are.
   */
  readonly wrapImport?: (fn: (...args: never[]) => unknown) => (...args: never[]) => unknown;
  /**
   * The export name of the instance's fuel counter (an i64 global, `__forge_fuel` for an
   * instrumented module). When given, every imported function, forge.* and the other
   * modules' alike, first charges HOST_CALL_FUEL units to it and traps when that takes
   * the counter below zero (host-call-fuel.ts). Default: host calls are not charged.
   */
  readonly fuelExport?: string;
}

/** A registry holding the host functions this issue ships: forge.log. */
export function defaultHostFunctions(): HostFunctionRegistry {
  return new HostFunctionRegistry().define(forgeLog);
}

/**
 * Instantiates a compiled plugin with its `forge` host functions and wraps it as an
 * {@link AbiInstance}. Synchronous: the module is already compiled (and cached), and a
 * worker can instantiate without a round trip through the event loop.
 *
 * Every import is resolved before instantiation, so a missing one is reported by name
 * rather than as an engine LinkError. `_initialize`, when exported, runs on the first
 * call, not here, so a caller can finish wiring other imports (WASI's memory) first.
 * With `fuelExport`, every host call the guest makes costs HOST_CALL_FUEL units of fuel.
 *
 * @throws ForgeError FO_ABI_HOST_FUNCTION_DEFINITION (`imports` holds `forge`),
 *   FO_ABI_UNRESOLVED_IMPORT (details.missing lists `module.name` of each),
 *   FO_ABI_HOST_CALL_IN_START, FO_ABI_GUEST_TRAP (the start function trapped), and
 *   what {@link AbiInstance}'s constructor throws
 */
export function instantiateAbi(module: WasmModule, options: InstantiateAbiOptions): AbiInstance {
  const imports = options.imports ?? {};
  if (Object.hasOwn(imports, HOST_MODULE)) {
    throw new ForgeError('FO_ABI_HOST_FUNCTION_DEFINITION', 'imports must not hold a "forge" module: define host functions in the HostFunctionRegistry', {
      details: { module: HOST_MODULE },
    });
  }
  const registry = options.hostFunctions ?? defaultHostFunctions();
  const missing: string[] = [];
  // Only what the module imports is bound, wrapped and linked: an instance holds no
  // closures for the host functions it cannot call (thousands of idle instances on a
  // pool worker would each hold every one of them otherwise).
  const forgeNames = new Set<string>();
  // Null prototypes: a module may import names such as `__proto__`.
  const needed: Record<string, Record<string, unknown>> = Object.create(null) as Record<string, Record<string, unknown>>;
  for (const entry of wasm.Module.imports(module)) {
    const from = entry.module ?? '';
    if (from === HOST_MODULE) {
      if (entry.kind === 'function' && registry.has(entry.name)) forgeNames.add(entry.name);
      else missing.push(`${from}.${entry.name}`);
      continue;
    }
    const value = Object.hasOwn(imports, from) ? imports[from]?.[entry.name] : undefined;
    if (value === undefined) missing.push(`${from}.${entry.name}`);
    else (needed[from] ??= Object.create(null) as Record<string, unknown>)[entry.name] = value;
  }
  if (missing.length > 0) {
    throw new ForgeError('FO_ABI_UNRESOLVED_IMPORT', `the module imports what the host does not provide: ${missing.join(', ')}`, {
      details: { missing, hostFunctions: registry.names().map((name) => `${HOST_MODULE}.${name}`) },
    });
  }
  const binding = registry.bind({ gate: options.gate, only: forgeNames, ...(options.logger === undefined ? {} : { logger: options.logger }) });
  const fuel = options.fuelExport === undefined ? undefined : new HostCallFuel(options.fuelExport);
  let instance;
  try {
    const linked: WasmImports = { ...needed, [HOST_MODULE]: binding.imports };
    const wrapped = options.wrapImport === undefined ? linked : wrapImports(linked, options.wrapImport);
    // The charge wraps everything else, so a call that cannot pay is not even traced.
    instance = new wasm.Instance(module, fuel === undefined ? wrapped : fuel.wrap(wrapped));
    fuel?.bind(instance);
  } catch (error) {
    if (error instanceof wasm.LinkError) {
      throw new ForgeError('FO_ABI_UNRESOLVED_IMPORT', `the module's imports do not match what the host provides: ${error.message}`, {
        details: { link: error.message },
        cause: error,
      });
    }
    throw guestFailure(error, "the module's start function");
  }
  return new AbiInstance(instance, {
    hostBinding: binding,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
}

/**
 * The names (without `forge.`) of the functions `module` imports from `forge`: what an
 * instance of it needs defined (createForgeHostFunctions' `only`).
 */
export function importedHostFunctions(module: WasmModule): ReadonlySet<string> {
  const names = new Set<string>();
  for (const entry of wasm.Module.imports(module)) if (entry.module === HOST_MODULE && entry.kind === 'function') names.add(entry.name);
  return names;
}

/** `imports` with every function wrapped by `wrap` (other values, such as a memory, as they are). */
function wrapImports(imports: WasmImports, wrap: NonNullable<InstantiateAbiOptions['wrapImport']>): WasmImports {
  const wrapped: Record<string, Record<string, unknown>> = {};
  for (const [module, members] of Object.entries(imports)) {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(members)) out[name] = typeof value === 'function' ? wrap(value as (...args: never[]) => unknown) : value;
    wrapped[module] = out;
  }
  return wrapped;
}
