import { ForgeError, resolveLimits } from '@forgeone/common';

/**
 * Size limits checked while a module is decoded, before anything is compiled. The
 * defaults follow the limits V8 (and the WebAssembly JS API) enforce, except the
 * module size, which matches the package loader's largest file; a module past any of
 * them is refused with its own code rather than handed to the engine.
 *
 * They bound decoding work and memory; they do not bound what the module does when it
 * runs (fuel and the memory and table caps do that).
 */
export interface ModuleLimits {
  /** Largest module, in bytes (FO_RUNTIME_MODULE_TOO_LARGE). Default 128 MiB. */
  readonly maxModuleBytes: number;
  /** Most functions, imported plus defined (FO_RUNTIME_TOO_MANY_FUNCTIONS). Default 1 000 000. */
  readonly maxFunctions: number;
  /**
   * Largest function body, in bytes, counting its local declarations
   * (FO_RUNTIME_FUNCTION_TOO_LARGE). Default 7 654 321, V8's limit.
   */
  readonly maxFunctionBodyBytes: number;
  /**
   * Most locals of one function, parameters included as V8 counts them
   * (FO_RUNTIME_TOO_MANY_LOCALS). Default 50 000, V8's limit.
   */
  readonly maxLocalsPerFunction: number;
}

const MiB = 1024 * 1024;

/** The limits used when a caller names none; see {@link ModuleLimits} for each. */
export const DEFAULT_MODULE_LIMITS: ModuleLimits = Object.freeze({
  maxModuleBytes: 128 * MiB,
  maxFunctions: 1_000_000,
  maxFunctionBodyBytes: 7_654_321,
  maxLocalsPerFunction: 50_000,
});

/**
 * Fills unnamed limits from {@link DEFAULT_MODULE_LIMITS} and checks the named ones.
 * @throws ForgeError FO_LIMIT_INVALID when a limit is not a non-negative safe integer.
 */
export function resolveModuleLimits(limits: Partial<ModuleLimits> = {}): ModuleLimits {
  return resolveLimits('module limit', DEFAULT_MODULE_LIMITS, limits);
}

/** Throws the limit error `code` when `actual` exceeds `limit`. */
export function checkLimit(
  code: 'FO_RUNTIME_MODULE_TOO_LARGE' | 'FO_RUNTIME_TOO_MANY_FUNCTIONS' | 'FO_RUNTIME_FUNCTION_TOO_LARGE' | 'FO_RUNTIME_TOO_MANY_LOCALS',
  what: string,
  actual: number,
  limit: number,
  details: Readonly<Record<string, unknown>> = {},
): void {
  if (actual <= limit) return;
  throw new ForgeError(code, `${what}: expected at most ${limit}, found ${actual}`, { details: { ...details, actual, limit } });
}
