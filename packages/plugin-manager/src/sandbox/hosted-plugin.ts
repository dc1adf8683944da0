/**
 * One plugin instance as a backend thread hosts it, built from a {@link PluginSpec}:
 * its gate (plugin-gate.ts), WASI preview1 when the module imports it, the forge.*
 * host functions and the host's registered calls, the forge/1 ABI, a fuel budget per
 * call that a caller may lend (call-fuel.ts), and one log budget for forge.log and
 * stdout/stderr (guest-log.ts). The inline backend runs these on the host thread; each
 * pool worker runs many.
 *
 * It is the runtime's PluginInstance assembled from a spec rather than from a
 * PreparedModule, with {@link HostedPlugin.callWith} so a worker can copy a call's output
 * straight from guest memory into its shared slot.
 */
import { ForgeError, type LogRecord } from '@forgeone/common';
import type { Anomaly } from '@forgeone/microkernel';
import { HostFunctionRegistry, importedHostFunctions, instantiateAbi, type AbiInstance, type OutputReceiver } from '../abi/index.js';
import type { EntryPointName } from '../plugin/index.js';
import { WasiPreview1 } from '../runtime/index.js';
import { FORGE_HOST_FUNCTION_NAMES, createForgeHostFunctions, resolveHostCallLimits, type ForgeHostFunctions, type PluginEvent, type SyncBridge } from '../syscall/index.js';
import { CallAuditFold, type FoldProgress } from './audit-fold.js';
import type { FoldTally } from './fold-tally.js';
import { CallFuel } from './call-fuel.js';
import { GuestLog, SinkLogger } from './guest-log.js';
import { PluginGate, type BackendAuditEntry } from './plugin-gate.js';
import type { PolicyCache } from './policy.js';
import { registeredHostFunctions, type RegisteredCallPort } from './registered.js';
import type { PluginSpec } from './spec.js';

/** Where a hosted plugin's output goes: the host thread, directly or batched. */
export interface PluginSinks extends RegisteredCallPort {
  /** Writes an audit record; throws FO_AUDIT_WRITE_FAILED to refuse the call being decided (fail closed). */
  audit(entry: BackendAuditEntry): void;
  /** Throws as {@link audit} would, writing nothing: a record folded into a summary (audit-fold.ts) fails closed too. */
  auditCheck(): void;
  anomaly(anomaly: Anomaly): void;
  log(record: LogRecord): void;
  event(event: PluginEvent): void;
  /** Takes a folding call's running counts (audit-fold.ts), where the call may be killed before it ends; absent: not reported. */
  foldProgress?(progress: FoldProgress): void;
  /** Where a folding call's counts are kept for a host that may kill it (a pool worker's fold-tally.ts), with the plugin's index there. */
  readonly foldTally?: { readonly tally: FoldTally; readonly index: number } | undefined;
}

/** What the plugins of one thread share. */
export interface ThreadResources {
  readonly policies: PolicyCache;
  /** The thread's I/O bridge for forge.http_request (its worker starts on first use). */
  readonly ioBridge: Pick<SyncBridge, 'call'>;
  /**
   * What WASI poll_oneoff sleeps with (a pool worker's: it wakes and throws
   * FO_SANDBOX_TIMEOUT when the call is cancelled). Default: an uninterruptible sleep.
   */
  readonly sleep?: (deadline: bigint) => void;
}

const BUILT_IN: ReadonlySet<string> = new Set(FORGE_HOST_FUNCTION_NAMES);

/**
 * The forge.* functions to define for `spec`'s instance: those its module imports, or
 * undefined (all of them) when it imports one that does not exist or a registered call
 * shadows a built-in one, so that those fail as they always did, naming every function. An idle instance then holds no closures for functions
 * it cannot call.
 */
function definedFor(spec: PluginSpec): ReadonlySet<string> | undefined {
  const imported = importedHostFunctions(spec.module);
  const registered = new Set(spec.hostCalls.registered.map((entry) => (typeof entry === 'string' ? entry : entry.name).slice('forge.'.length)));
  for (const name of registered) if (BUILT_IN.has(name)) return undefined;
  for (const name of imported) if (!BUILT_IN.has(name) && !registered.has(name)) return undefined;
  return imported;
}

/** A plugin instance with its gate, host functions and fuel. Not thread-safe: one call at a time. */
export class HostedPlugin {
  /** The spec it was built from, with the newest policy (what re-creating it builds from). */
  spec: PluginSpec;
  readonly gate: PluginGate;
  readonly abi: AbiInstance;
  readonly #fuel: CallFuel | undefined;
  readonly #wasi: WasiPreview1 | undefined;
  readonly #log: GuestLog;
  readonly #host: ForgeHostFunctions;
  readonly #resources: ThreadResources;
  /** Folds each call's allowed audit records past spec.auditMaxCallRecords; undefined: none are folded. */
  readonly #fold: CallAuditFold | undefined;
  #policyKey: string;
  #lastFuelUsed = 0n;
  #lastFuelSpent = 0n;
  #ranOutOfLentFuel = false;
  /** True while a call or step runs: a call reaching the instance again is refused untouched. */
  #busy = false;
  #closed = false;

  private constructor(spec: PluginSpec, parts: { gate: PluginGate; abi: AbiInstance; fuel: CallFuel | undefined; wasi: WasiPreview1 | undefined; log: GuestLog; host: ForgeHostFunctions; resources: ThreadResources; policyKey: string; fold: CallAuditFold | undefined }) {
    this.spec = spec;
    this.gate = parts.gate;
    this.abi = parts.abi;
    this.#fuel = parts.fuel;
    this.#wasi = parts.wasi;
    this.#log = parts.log;
    this.#host = parts.host;
    this.#resources = parts.resources;
    this.#policyKey = parts.policyKey;
    this.#fold = parts.fold;
  }

  /**
   * Builds the plugin from its spec. Nothing of it is left open when this throws.
   * @throws ForgeError FO_TRUST_POLICY_INVALID (Cedar), FO_SYSCALL_INVALID_OPTIONS,
   *   FO_SYSCALL_VOLUME_UNAVAILABLE, FO_WASI_* (preopens), FO_ABI_* (missing exports,
   *   unresolved imports, a trapping start function)
   */
  static create(spec: PluginSpec, sinks: PluginSinks, resources: ThreadResources): HostedPlugin {
    const { key, value: policy } = resources.policies.retain(spec.policy, spec.hostCalls.registered);
    const opened: { host?: ForgeHostFunctions; wasi?: WasiPreview1; fuel?: CallFuel } = {};
    try {
      const limit = spec.auditMaxCallRecords;
      const fold = limit === undefined ? undefined : new CallAuditFold(spec.id, limit, (entry) => sinks.audit(entry), () => sinks.auditCheck(), sinks.foldProgress?.bind(sinks), sinks.foldTally);
      const gate = new PluginGate(spec, policy, fold === undefined ? sinks : { audit: (entry) => fold.record(entry), anomaly: (found) => sinks.anomaly(found) });
      const logger = new SinkLogger((record) => sinks.log(record));
      // forge.log and WASI stdout/stderr share one budget (guest-log.ts); the forge.*
      // functions get their own forge.log unlimited, and it is replaced below.
      const limits = resolveHostCallLimits(spec.hostCalls.limits);
      const log = new GuestLog(logger, limits.rates.log);
      const only = definedFor(spec);
      const host = createForgeHostFunctions({
        ...(only === undefined ? {} : { only }),
        plugin: spec.id,
        gate: gate.gate,
        config: spec.hostCalls.config,
        ...(spec.hostCalls.kvDirectory === undefined ? {} : { kvDirectory: spec.hostCalls.kvDirectory }),
        ioBridge: resources.ioBridge,
        explicitHosts: spec.hostCalls.explicitHosts,
        volumes: spec.hostCalls.volumes,
        events: (event) => sinks.event(event),
        limits: { ...spec.hostCalls.limits, rates: { ...spec.hostCalls.limits?.rates, log: 'off' } },
      });
      opened.host = host;
      const registry = new HostFunctionRegistry();
      for (const definition of host.definitions) registry.define(definition.name === 'log' ? log.forgeLog() : definition);
      // A registered call runs with the plugin's fuel as the account of the plugins it calls.
      for (const definition of registeredHostFunctions(spec.hostCalls.registered, policy.catalog, sinks, () => opened.fuel?.account())) {
        if (only === undefined || only.has(definition.name)) registry.define(definition);
      }
      // WASI stdout and stderr become log records, one per line, within the log budget.
      const wasi = spec.usesWasi
        ? new WasiPreview1({
            args: spec.wasi.args,
            env: spec.wasi.env,
            preopens: spec.wasi.preopens,
            maxOpenFiles: spec.wasi.maxOpenFiles,
            stdout: log.output('stdout'),
            stderr: log.output('stderr'),
            gate: gate.gate,
            ...(resources.sleep === undefined ? {} : { sleep: resources.sleep }),
          })
        : undefined;
      if (wasi !== undefined) opened.wasi = wasi;
      const abi = instantiateAbi(spec.module, {
        gate: gate.gate,
        logger,
        hostFunctions: registry,
        ...(wasi === undefined ? {} : { imports: wasi.importObject }),
        ...(spec.abiLimits === undefined ? {} : { limits: spec.abiLimits }),
        // SECURITY: every host call pays fuel, so a loop of cheap allowed calls ends with the budget.
        ...(spec.fuelExport === undefined ? {} : { fuelExport: spec.fuelExport }),
        ...(gate.recorder === undefined ? {} : { wrapImport: (fn: (...args: never[]) => unknown) => gate.recorder?.wrap(fn) ?? fn }),
      });
      wasi?.bind(abi.instance);
      const fuel = spec.fuelExport === undefined ? undefined : CallFuel.of(abi.instance, spec.fuelExport);
      if (fuel !== undefined) opened.fuel = fuel;
      return new HostedPlugin(spec, { gate, abi, fuel, wasi, log, host, resources, policyKey: key, fold });
    } catch (error) {
      opened.wasi?.close();
      opened.host?.close();
      resources.policies.release(key);
      throw error;
    }
  }

  /** Fuel the last call or lifecycle step used, in units, at most its budget (0 when not metered). */
  get lastFuelUsed(): bigint {
    return this.#lastFuelUsed;
  }

  /** Fuel the last call used, in units, with the overshoot of its last fuel check: what a caller that lent it fuel is charged. */
  get lastFuelSpent(): bigint {
    return this.#lastFuelSpent;
  }

  /**
   * True when the last call ran out of fuel its caller lent it (less than its own
   * budget): the caller's budget ran out, not the plugin's. If that left the instance
   * poisoned, re-create it rather than count it a crash of this plugin.
   */
  get ranOutOfLentFuel(): boolean {
    return this.#ranOutOfLentFuel;
  }

  /** The instance's linear memory now, in bytes (0 when it exports none). */
  get memoryBytes(): number {
    // The ABI checked that `memory` is a memory; a guest cannot replace an export.
    const memory = this.abi.instance.exports['memory'] as { readonly buffer?: ArrayBufferLike } | undefined;
    return memory?.buffer?.byteLength ?? 0;
  }

  /** Why the instance is poisoned (a trap, fuel exhaustion, a broken ABI invariant), or undefined. */
  get fault(): ForgeError | undefined {
    return this.abi.fault;
  }

  /**
   * Takes all the fuel the running call has left, so a metered guest traps at its next
   * function entry or loop header (a cancelled call whose guest might catch the
   * exception that unwinds it). Does nothing for an unmetered plugin.
   */
  drainFuel(): void {
    const fuel = this.#fuel;
    if (fuel !== undefined && fuel.remaining >= 0n) fuel.charge(fuel.remaining + 1n);
  }

  /**
   * Calls an export under a fresh fuel budget (its own, or `lent` units when a caller
   * lends less); returns a copy of its output.
   * @throws ForgeError FO_SANDBOX_CPU_LIMIT, and the ABI's codes
   */
  call(name: string, input: Uint8Array, lent?: bigint): Uint8Array {
    return this.#metered(name, () => this.abi.call(name, input), lent);
  }

  /**
   * Calls an export as {@link call}, handing its output to `receive` as a view into
   * guest memory (valid only while `receive` runs).
   * @throws ForgeError FO_SANDBOX_CPU_LIMIT, and the ABI's codes
   */
  callWith<T>(name: string, input: Uint8Array, receive: OutputReceiver<T>, lent?: bigint): T {
    return this.#metered(name, () => this.abi.callWith(name, input, receive), lent);
  }

  /**
   * Takes `units` from the fuel of the call in progress (what a plugin it called used,
   * when the account is settled after the host call returned, as on a pool worker).
   */
  chargeFuel(units: bigint): void {
    this.#fuel?.charge(units);
  }

  /**
   * Runs a lifecycle entry point, if the manifest names one, under a fresh fuel budget.
   * @returns false when the manifest names none
   * @throws ForgeError as {@link call}, and FO_ABI_LIFECYCLE_FAILED
   */
  lifecycle(step: EntryPointName): boolean {
    try {
      return this.#metered(step, () => this.abi.runLifecycle(step, this.spec.entryPoints));
    } finally {
      // The plugin stops: the host learns of the output it dropped.
      if (step === 'stop') this.#log.reportSuppressed();
    }
  }

  /**
   * Switches to another operator policy (cached decisions dropped).
   * @throws ForgeError FO_TRUST_POLICY_INVALID; the plugin keeps its policy then
   */
  setPolicy(policy: PluginSpec['policy']): void {
    const { key, value } = this.#resources.policies.retain(policy, this.spec.hostCalls.registered);
    this.gate.setPolicy(value.policy);
    this.#resources.policies.release(this.#policyKey);
    this.#policyKey = key;
    this.spec = { ...this.spec, policy };
  }

  /** Flushes unterminated stdout/stderr lines (and reports dropped ones), closes descriptors, the key-value store and volumes. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#log.close();
    this.#wasi?.close();
    this.#host.close();
    this.#resources.policies.release(this.#policyKey);
  }

  /**
   * Runs a call or lifecycle step `name` as one audit unit: the allowed records it makes
   * past the limit are folded into one summary written when it ends, however it ends
   * (a trap, fuel out, a cancellation unwinding it).
   */
  #metered<T>(name: string, run: () => T, lent?: bigint): T {
    const fold = this.#fold;
    if (fold === undefined) return this.#fueled(run, lent);
    fold.begin(name);
    let failed = true;
    try {
      const value = this.#fueled(run, lent);
      failed = false;
      return value;
    } finally {
      fold.end(failed);
    }
  }

  #fueled<T>(run: () => T, lent?: bigint): T {
    const fuel = this.#fuel;
    if (this.#busy || fuel === undefined) {
      // SECURITY: a call reaching a busy instance again (a chain of plugin calls back to
      // it) is refused by the ABI; its fuel counter must not be reset on the way, or the
      // chain would refill the running call's budget.
      this.#lastFuelUsed = 0n;
      this.#lastFuelSpent = 0n;
      return run();
    }
    this.#busy = true;
    this.#ranOutOfLentFuel = false;
    const budget = fuel.start(this.spec.fuelPerCall, lent);
    try {
      const value = run();
      // A plugin it called took the counter below zero after the guest's last fuel check.
      if (fuel.exhausted) throw this.#cpuLimit(budget, undefined);
      return value;
    } catch (error) {
      // The ABI reports the trap; the counter says whether fuel caused it.
      if (fuel.exhausted && ForgeError.is(error, 'FO_ABI_GUEST_TRAP')) throw this.#cpuLimit(budget, error);
      throw error;
    } finally {
      this.#busy = false;
      this.#ranOutOfLentFuel = fuel.exhausted && fuel.lent;
      this.#lastFuelUsed = fuel.used;
      this.#lastFuelSpent = fuel.spent;
    }
  }

  #cpuLimit(budget: bigint, trap: ForgeError | undefined): ForgeError {
    const lent = this.#fuel?.lent === true;
    const message = lent
      ? `the plugin used all ${budget} units of fuel its caller had left to lend it`
      : `the plugin used all ${budget} units of fuel it was given for the call (calls it made into other plugins included)`;
    return new ForgeError('FO_SANDBOX_CPU_LIMIT', message, { details: { budget: budget.toString(), lent }, ...(trap === undefined ? {} : { cause: trap }) });
  }
}
