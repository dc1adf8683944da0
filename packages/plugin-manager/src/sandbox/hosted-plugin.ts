/**
 * One plugin instance as a backend thread hosts it, built from a {@link PluginSpec}:
 * its gate (plugin-gate.ts), WASI preview1 when the module imports it, the forge.*
 * host functions and the host's registered calls, the forge/1 ABI and a fuel budget per
 * call. The inline backend runs these on the host thread; each pool worker runs many.
 *
 * It is the runtime's PluginInstance assembled from a spec rather than from a
 * PreparedModule, with {@link HostedPlugin.callWith} so a worker can copy a call's output
 * straight from guest memory into its shared slot.
 */
import { ForgeError, createLogger, type LogRecord } from '@forgeone/common';
import type { Anomaly } from '@forgeone/microkernel';
import { instantiateAbi, type AbiInstance, type OutputReceiver } from '../abi/index.js';
import type { EntryPointName } from '../plugin/index.js';
import { FuelMeter, WasiPreview1, lineOutput, type FlushableOutput } from '../runtime/index.js';
import { createForgeHostFunctions, type ForgeHostFunctions, type PluginEvent, type SyncBridge } from '../syscall/index.js';
import { PluginGate, type BackendAuditEntry } from './plugin-gate.js';
import type { PolicyCache } from './policy.js';
import { registeredHostFunctions, type RegisteredCallPort } from './registered.js';
import type { PluginSpec } from './spec.js';

/** Where a hosted plugin's output goes: the host thread, directly or batched. */
export interface PluginSinks extends RegisteredCallPort {
  audit(entry: BackendAuditEntry): void;
  anomaly(anomaly: Anomaly): void;
  log(record: LogRecord): void;
  event(event: PluginEvent): void;
}

/** What the plugins of one thread share. */
export interface ThreadResources {
  readonly policies: PolicyCache;
  /** The thread's I/O bridge for forge.http_request (its worker starts on first use). */
  readonly ioBridge: SyncBridge;
}

/** A plugin instance with its gate, host functions and fuel. Not thread-safe: one call at a time. */
export class HostedPlugin {
  readonly spec: PluginSpec;
  readonly gate: PluginGate;
  readonly abi: AbiInstance;
  readonly #meter: FuelMeter | undefined;
  readonly #wasi: WasiPreview1 | undefined;
  readonly #stdio: readonly FlushableOutput[];
  readonly #host: ForgeHostFunctions;
  readonly #resources: ThreadResources;
  #policyKey: string;
  #lastFuelUsed = 0n;
  #closed = false;

  private constructor(spec: PluginSpec, parts: { gate: PluginGate; abi: AbiInstance; meter: FuelMeter | undefined; wasi: WasiPreview1 | undefined; stdio: FlushableOutput[]; host: ForgeHostFunctions; resources: ThreadResources; policyKey: string }) {
    this.spec = spec;
    this.gate = parts.gate;
    this.abi = parts.abi;
    this.#meter = parts.meter;
    this.#wasi = parts.wasi;
    this.#stdio = parts.stdio;
    this.#host = parts.host;
    this.#resources = parts.resources;
    this.#policyKey = parts.policyKey;
  }

  /**
   * Builds the plugin from its spec. Nothing of it is left open when this throws.
   * @throws ForgeError FO_TRUST_POLICY_INVALID (Cedar), FO_SYSCALL_INVALID_OPTIONS,
   *   FO_SYSCALL_VOLUME_UNAVAILABLE, FO_WASI_* (preopens), FO_ABI_* (missing exports,
   *   unresolved imports, a trapping start function)
   */
  static create(spec: PluginSpec, sinks: PluginSinks, resources: ThreadResources): HostedPlugin {
    const { key, value: policy } = resources.policies.retain(spec.policy, spec.hostCalls.registered);
    const opened: { host?: ForgeHostFunctions; wasi?: WasiPreview1 } = {};
    try {
      const gate = new PluginGate(spec, policy, sinks);
      const logger = createLogger((record) => sinks.log(record), 'trace');
      const host = createForgeHostFunctions({
        plugin: spec.id,
        gate: gate.gate,
        config: spec.hostCalls.config,
        ...(spec.hostCalls.kvDirectory === undefined ? {} : { kvDirectory: spec.hostCalls.kvDirectory }),
        ioBridge: resources.ioBridge,
        explicitHosts: spec.hostCalls.explicitHosts,
        volumes: spec.hostCalls.volumes,
        events: (event) => sinks.event(event),
        ...(spec.hostCalls.limits === undefined ? {} : { limits: spec.hostCalls.limits }),
      });
      opened.host = host;
      const registry = host.registry();
      for (const definition of registeredHostFunctions(spec.hostCalls.registered, policy.catalog, sinks)) registry.define(definition);
      // WASI stdout and stderr become log records, one per line.
      const stdio = spec.usesWasi ? [lineOutput((line) => logger.info(line, { source: 'stdout' })), lineOutput((line) => logger.warn(line, { source: 'stderr' }))] : [];
      const wasi = spec.usesWasi
        ? new WasiPreview1({
            args: spec.wasi.args,
            env: spec.wasi.env,
            preopens: spec.wasi.preopens,
            maxOpenFiles: spec.wasi.maxOpenFiles,
            ...(stdio[0] === undefined ? {} : { stdout: stdio[0] }),
            ...(stdio[1] === undefined ? {} : { stderr: stdio[1] }),
            gate: gate.gate,
          })
        : undefined;
      if (wasi !== undefined) opened.wasi = wasi;
      const abi = instantiateAbi(spec.module, {
        gate: gate.gate,
        logger,
        hostFunctions: registry,
        ...(wasi === undefined ? {} : { imports: wasi.importObject }),
        ...(spec.abiLimits === undefined ? {} : { limits: spec.abiLimits }),
      });
      wasi?.bind(abi.instance);
      const meter = spec.fuelExport === undefined ? undefined : FuelMeter.of(abi.instance, spec.fuelExport);
      return new HostedPlugin(spec, { gate, abi, meter, wasi, stdio, host, resources, policyKey: key });
    } catch (error) {
      opened.wasi?.close();
      opened.host?.close();
      resources.policies.release(key);
      throw error;
    }
  }

  /** Fuel the last call or lifecycle step used, in units (0 when not metered). */
  get lastFuelUsed(): bigint {
    return this.#lastFuelUsed;
  }

  /** Why the instance is poisoned (a trap, fuel exhaustion, a broken ABI invariant), or undefined. */
  get fault(): ForgeError | undefined {
    return this.abi.fault;
  }

  /**
   * Calls an export under a fresh fuel budget; returns a copy of its output.
   * @throws ForgeError FO_SANDBOX_CPU_LIMIT, and the ABI's codes
   */
  call(name: string, input: Uint8Array): Uint8Array {
    return this.#metered(() => this.abi.call(name, input));
  }

  /**
   * Calls an export under a fresh fuel budget, handing its output to `receive` as a
   * view into guest memory (valid only while `receive` runs).
   * @throws ForgeError FO_SANDBOX_CPU_LIMIT, and the ABI's codes
   */
  callWith<T>(name: string, input: Uint8Array, receive: OutputReceiver<T>): T {
    return this.#metered(() => this.abi.callWith(name, input, receive));
  }

  /**
   * Runs a lifecycle entry point, if the manifest names one, under a fresh fuel budget.
   * @returns false when the manifest names none
   * @throws ForgeError as {@link call}, and FO_ABI_LIFECYCLE_FAILED
   */
  lifecycle(step: EntryPointName): boolean {
    return this.#metered(() => this.abi.runLifecycle(step, this.spec.entryPoints));
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
  }

  /** Flushes unterminated stdout/stderr lines and closes descriptors, the key-value store and volumes. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const output of this.#stdio) output.flush();
    this.#wasi?.close();
    this.#host.close();
    this.#resources.policies.release(this.#policyKey);
  }

  #metered<T>(run: () => T): T {
    const meter = this.#meter;
    if (meter === undefined) return run();
    const fuel = this.spec.fuelPerCall;
    meter.remaining = fuel;
    try {
      return run();
    } catch (error) {
      // The ABI reports the trap; the meter says whether fuel caused it.
      if (meter.exhausted && ForgeError.is(error, 'FO_ABI_GUEST_TRAP')) {
        throw new ForgeError('FO_SANDBOX_CPU_LIMIT', `the plugin used all ${fuel} units of fuel it was given for the call`, { details: { budget: fuel.toString() }, cause: error });
      }
      throw error;
    } finally {
      this.#lastFuelUsed = meter.exhausted ? fuel : fuel - meter.remaining;
    }
  }
}
