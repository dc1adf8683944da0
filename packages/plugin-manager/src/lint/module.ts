/**
 * Lint checks on a plugin's module: that it decodes under the loader's limits, exports
 * what forge/1 requires with the shapes docs/reference/abi.md gives, exports every
 * entry point its manifest names, imports only host calls its permissions grant, and
 * fits the memory its manifest's limits allow. Every check uses the loader's own code
 * (decoder, import policy, thread check, instrumentation), so lint and the loader
 * cannot disagree about what is refused.
 */
import { ForgeError, describeValue } from '@forgeone/common';
import { CallCatalog, WASI_MODULE } from '@forgeone/microkernel';
import { ABI_EXPORTS } from '../abi/index.js';
import type { Manifest } from '../plugin/index.js';
import { analyzeModule, checkThreads, importPolicy, instrumentModule, type FunctionSignature, type ModuleInfo, type ModuleLimits } from '../runtime/index.js';
import { SIZE_CODES, type LintReport } from './problems.js';

/** What the module checks need beyond the bytes. */
export interface ModuleLintOptions {
  /** Decoding limits, as the loader applies them (default DEFAULT_MODULE_LIMITS). */
  readonly moduleLimits?: Partial<ModuleLimits>;
  /** The operator's cap on a plugin's memory (sandbox.memory_limit), in bytes; absent: only the manifest's limit counts. */
  readonly sandboxMemoryLimit?: number;
}

const FORGE_MODULE = 'forge';
const sig = (params: readonly string[], results: readonly string[]): FunctionSignature => ({ params: params as FunctionSignature['params'], results: results as FunctionSignature['results'] });
const CALLABLE = sig(['i32', 'i32'], ['i64']);
const ALLOC = sig(['i32'], ['i32']);
const FREE = sig(['i32', 'i32'], []);
const STEP = sig([], ['i32']);
const INITIALIZE = sig([], []);

const show = (s: FunctionSignature | undefined): string => (s === undefined ? 'no signature' : `(${s.params.join(', ')}) -> (${s.results.join(', ')})`);
const same = (a: FunctionSignature | undefined, b: FunctionSignature): boolean => a !== undefined && a.params.join() === b.params.join() && a.results.join() === b.results.join();

/**
 * Checks the module `bytes` (found at `where`) against forge/1 and, when known, its
 * manifest. Adds every problem to `report`; never throws for a problem of the module.
 */
export function lintModule(report: LintReport, bytes: Uint8Array, where: string, manifest: Manifest | undefined, options: ModuleLintOptions = {}): void {
  let info: ModuleInfo;
  try {
    info = analyzeModule(bytes, options.moduleLimits);
  } catch (error) {
    const code = error instanceof ForgeError && SIZE_CODES.has(error.code) ? 'FO_LINT_TOO_LARGE' : 'FO_LINT_MODULE_INVALID';
    report.addCause(code, where, error);
    return;
  }
  checkAbiExports(report, info, where, manifest);
  checkImports(report, info, where, manifest);
  if (manifest !== undefined) checkResources(report, bytes, info, where, manifest, options);
}

function checkAbiExports(report: LintReport, info: ModuleInfo, where: string, manifest: Manifest | undefined): void {
  const byName = new Map(info.exports.map((entry) => [entry.name, entry]));
  const memory = byName.get(ABI_EXPORTS.memory);
  if (memory === undefined) report.add('FO_LINT_EXPORT_MISSING', 'error', `${where}: export memory`, 'expected an exported linear memory named memory, found none');
  else if (memory.kind !== 'memory') report.add('FO_LINT_EXPORT_SHAPE', 'error', `${where}: export memory`, `expected memory to be a memory, found a ${memory.kind}`);
  else if (info.memories[memory.index]?.memory64 === true) report.add('FO_LINT_EXPORT_SHAPE', 'error', `${where}: export memory`, 'expected a 32-bit memory (forge/1 addresses are i32), found a memory64');
  for (const [name, shape] of [
    [ABI_EXPORTS.alloc, ALLOC],
    [ABI_EXPORTS.free, FREE],
  ] as const) {
    const entry = byName.get(name);
    if (entry === undefined) report.add('FO_LINT_EXPORT_MISSING', 'error', `${where}: export ${name}`, `expected a function ${name} ${show(shape)}, found none`);
    else if (entry.kind !== 'function' || !same(entry.signature, shape)) {
      report.add('FO_LINT_EXPORT_SHAPE', 'error', `${where}: export ${name}`, `expected ${name} to be a function ${show(shape)}, found ${entry.kind === 'function' ? show(entry.signature) : `a ${entry.kind}`}`);
    }
  }
  const initialize = byName.get(ABI_EXPORTS.initialize);
  if (initialize !== undefined && (initialize.kind !== 'function' || !same(initialize.signature, INITIALIZE))) {
    report.add('FO_LINT_EXPORT_SHAPE', 'error', `${where}: export _initialize`, `expected _initialize to be a function () -> (), found ${initialize.kind === 'function' ? show(initialize.signature) : `a ${initialize.kind}`}`);
  }
  const steps = new Set<string>();
  for (const [step, name] of Object.entries(manifest?.entry_points ?? {})) {
    if (name === undefined) continue;
    steps.add(name);
    const entry = byName.get(name);
    const at = `${where}: entry point ${step} = ${describeValue(name)}`;
    if (entry === undefined) report.add('FO_LINT_ENTRY_POINT_MISSING', 'error', at, `expected the module to export ${describeValue(name)}, which the manifest names for ${step}, found no such export`);
    else if (entry.kind !== 'function' || !same(entry.signature, STEP)) {
      report.add('FO_LINT_ENTRY_POINT_SHAPE', 'error', at, `expected ${describeValue(name)} to be a function ${show(STEP)}, found ${entry.kind === 'function' ? show(entry.signature) : `a ${entry.kind}`}`);
    }
  }
  const reserved = new Set<string>(Object.values(ABI_EXPORTS));
  for (const entry of info.exports) {
    if (entry.kind !== 'function' || reserved.has(entry.name) || steps.has(entry.name) || same(entry.signature, CALLABLE)) continue;
    // A warning, not an error: the loader accepts extra exports (language runtimes add
    // their own); the host just cannot call this one through forge/1.
    report.add('FO_LINT_EXPORT_SHAPE', 'warning', `${where}: export ${describeValue(entry.name)}`, `expected a callable export to be ${show(CALLABLE)}, found ${show(entry.signature)}; forge call cannot call it`);
  }
}

function checkImports(report: LintReport, info: ModuleInfo, where: string, manifest: Manifest | undefined): void {
  const catalog = new CallCatalog();
  const allowed = manifest === undefined ? undefined : importPolicy(manifest.permissions, catalog);
  for (const entry of info.imports) {
    const call = `${entry.module}.${entry.name}`;
    const at = `${where}: import ${describeValue(call)}`;
    if (entry.kind !== 'function' || (entry.module !== WASI_MODULE && entry.module !== FORGE_MODULE)) {
      report.add('FO_LINT_IMPORT_UNKNOWN', 'error', at, `expected only functions from ${WASI_MODULE} and ${FORGE_MODULE}, found a ${entry.kind} from ${describeValue(entry.module)}`);
      continue;
    }
    if (entry.module === FORGE_MODULE && !same(entry.signature, CALLABLE)) {
      report.add('FO_LINT_IMPORT_SHAPE', 'error', at, `expected ${call} to be imported as ${show(CALLABLE)}, found ${show(entry.signature)}`);
    }
    const spec = catalog.get(call);
    if (spec === undefined) {
      // A call listed in syscalls may be one the host application registers.
      if (allowed?.(entry.module, entry.name, 'function') === true) {
        report.add('FO_LINT_IMPORT_UNKNOWN', 'warning', at, `expected a built-in host call, found ${call}, which only a host that registers it provides (it is listed in permissions.syscalls)`);
      } else report.add('FO_LINT_IMPORT_UNKNOWN', 'error', at, `expected a built-in host call or one listed in permissions.syscalls, found ${call}, which no ForgeOne host provides`);
      continue;
    }
    if (allowed === undefined || allowed(entry.module, entry.name, 'function')) continue;
    report.add('FO_LINT_IMPORT_NOT_PERMITTED', 'error', at, `expected the manifest to grant ${requirement(spec.requires, call)} for ${call}, found no such permission; the loader would refuse the module`, {
      call,
      requires: spec.requires,
    });
  }
}

/** The manifest permission a catalog requirement stands for, as an author writes it. */
function requirement(requires: string, call: string): string {
  switch (requires) {
    case 'fs-read':
      return 'filesystem = ["read"]';
    case 'fs-write':
      return 'filesystem = ["write"]';
    case 'network':
      return 'network = ["connect"]';
    default:
      return `syscalls = ["${call}"]`;
  }
}

function checkResources(report: LintReport, bytes: Uint8Array, info: ModuleInfo, where: string, manifest: Manifest, options: ModuleLintOptions): void {
  try {
    checkThreads(info, manifest.permissions.threads === true);
  } catch (error) {
    report.addCause('FO_LINT_THREADS_NOT_PERMITTED', where, error);
  }
  const asked = manifest.limits.memory;
  const cap = options.sandboxMemoryLimit;
  const budget = asked === undefined ? cap : cap === undefined ? asked : Math.min(asked, cap);
  if (budget === undefined) return;
  try {
    // The loader's own instrumentation with the budget it would use: it refuses a
    // module whose initial memory or tables do not fit, with the same message.
    instrumentModule(bytes, { fuel: false, memoryBudgetBytes: budget, ...(options.moduleLimits === undefined ? {} : { limits: options.moduleLimits }) });
  } catch (error) {
    if (!(error instanceof ForgeError)) throw error;
    const code = error.code === 'FO_RUNTIME_MEMORY_LIMIT' || error.code.startsWith('FO_RUNTIME_TABLE') || error.code === 'FO_RUNTIME_TOO_MANY_TABLES' ? 'FO_LINT_MEMORY_OVER_LIMIT' : SIZE_CODES.has(error.code) ? 'FO_LINT_TOO_LARGE' : 'FO_LINT_MODULE_INVALID';
    report.addCause(code, `${where}: memory (limits.memory ${budget} bytes)`, error);
  }
}
