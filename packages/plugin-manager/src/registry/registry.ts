/**
 * PluginRegistry: the composition root that turns packages into running plugins.
 *
 * ```ts
 * const registry = await PluginRegistry.newWithConfig('config.yaml');
 * const pluginId = await registry.loadPlugin('/path/to/plugin.forgepkg');
 * await registry.initializePlugin(pluginId);
 * await registry.startPlugin(pluginId);
 * ```
 *
 * It composes: loading (load.ts: verify, prepare, build the spec; refusals audited by
 * load-refusal.ts), the backend that hosts instances, lifecycle controllers observed by
 * telemetry and audit (lifecycle/observer.ts), the supervisor that restarts or quarantines
 * crashed plugins (lifecycle/supervisor.ts), extension points (extension/), the host calls
 * served on the host thread (host-calls.ts), and the marketplace's revocations
 * (revocation-guard.ts). It keeps the table of loaded plugins and the order of their steps.
 */
import { dirname } from 'node:path';
import { ForgeError, loadConfigFile, toForgeError, type ForgeConfig, type IdentityContext, type Logger } from '@forgeone/common';
import { SyscallBridge, type AuditLog, type HostCallDefinition, type TrustContext } from '@forgeone/microkernel';
import type { OpenPackageOptions } from '../attestation/index.js';
import { ExtensionPoints, invokeEach, type ExtensionImplementation, type InvocationResult } from '../extension/index.js';
import { LifecycleObserver, PluginState, Supervisor, isActive } from '../lifecycle/index.js';
import { CompileCache } from '../runtime/index.js';
import { registeredCallSpecs, type CallProbe, type IsolationBackend, type PolicySpec } from '../sandbox/index.js';
import type { RegistryObserver } from '../metrics/index.js';
import { HostServices, backendHost, configuredBackend, type PluginEventListener } from './backend-host.js';
import { CallWatch, type CallOptions } from './call-watch.js';
import { RegistryObservers, observedPlugin } from './observers.js';
import { registryParts, type LoadOptions, type NativeOptions, type RegistryOptions, type RegistryParts } from './options.js';
import { PluginTable } from './plugin-table.js';
import { HostCallRouter, REGISTRY_CALLS } from './host-calls.js';
import { preparePlugin } from './load.js';
import { LoadAttempt, auditRefusal } from './load-refusal.js';
import { callNative, nativeRecord, type NativePlugin } from './native.js';
import { pluginInfo, type PluginInfo, type PluginRecord } from './record.js';
import { resolveDependencies } from './resolver.js';
import { RevocationGuard, enforceRevocations, type Revocation } from './revocation-guard.js';
import { policySpecFromConfig } from './spec-builder.js';

export { configuredBackend, type BackendFactory, type PluginEventListener } from './backend-host.js';
export type { LoadOptions, NativeOptions, RegistryOptions } from './options.js';
export type { CallOptions } from './call-watch.js';
export type { PluginInfo } from './record.js';

/** See the module comment. */
export class PluginRegistry {
  readonly config: ForgeConfig;
  readonly identity: IdentityContext;
  readonly trust: TrustContext;
  readonly audit: AuditLog | undefined;
  /** Host calls the application added with {@link registerHostCall}; served on the host thread. */
  readonly #hostCalls: SyscallBridge;
  readonly #backend: IsolationBackend;
  readonly #logger: Logger;
  readonly #attestation: OpenPackageOptions;
  readonly #cache = new CompileCache();
  readonly #extensions = new ExtensionPoints();
  readonly #plugins: PluginTable;
  readonly #services: HostServices;
  readonly #supervisor: Supervisor;
  readonly #revocations = new RevocationGuard();
  readonly #observers: RegistryObservers;
  readonly #watch: CallWatch;
  /** What every loaded plugin's spec adds: host-call counting (metrics) and timing (tracing). */
  readonly #instrument: { readonly countHostCalls: boolean; readonly traceHostCalls: boolean };
  #policy: PolicySpec;
  #closed = false;

  private constructor(parts: RegistryParts & { readonly backend: IsolationBackend }) {
    this.config = parts.config;
    this.identity = parts.identity;
    this.trust = parts.trust;
    this.audit = parts.audit;
    this.#backend = parts.backend;
    this.#logger = parts.logger;
    this.#attestation = parts.attestation;
    this.#policy = parts.policy;
    this.#hostCalls = new SyscallBridge({ trust: this.trust });
    this.#observers = new RegistryObservers(parts.logger);
    this.#watch = new CallWatch(this.#observers, parts.tracing);
    this.#instrument = { countHostCalls: parts.config.telemetry.metrics_enabled, traceHostCalls: parts.tracing !== undefined };
    this.#services = new HostServices({
      lookup: (id) => this.#plugins.find(id),
      audit: parts.audit,
      logger: parts.logger,
      telemetry: parts.telemetry,
      anomalyAction: parts.config.policy.anomaly.action,
      router: new HostCallRouter({ get: (id) => this.#get(id), extensions: this.#extensions, hostCalls: this.#hostCalls, replaying: (handle) => this.#plugins.replaying(handle), watch: this.#watch }),
      observers: this.#observers,
    });
    this.#supervisor = new Supervisor({
      settings: parts.config.runtime,
      clock: parts.clock,
      logger: parts.logger,
      restart: (id) => this.startPlugin(id),
      isCurrent: (plugin) => this.#plugins.find(plugin.id) === plugin,
    });
    this.#plugins = new PluginTable({
      backend: parts.backend,
      supervisor: this.#supervisor,
      observer: new LifecycleObserver({
        telemetry: parts.telemetry,
        audit: parts.audit,
        principal: parts.identity.principal,
        forward: (plugin, transition) => this.#observers.transition(observedPlugin(plugin.id, plugin.identity), transition),
      }),
      extensions: this.#extensions,
      maxPlugins: parts.config.max_plugins,
      tracing: parts.tracing,
    });
  }

  /**
   * Reads `file` (plugin-manager.yaml) and creates a registry from it.
   * @throws ForgeError FO_CONFIG_*, and the codes of {@link create}
   */
  static async newWithConfig(file: string, options: RegistryOptions = {}): Promise<PluginRegistry> {
    const config = await loadConfigFile(file);
    return PluginRegistry.create(config, { configDir: dirname(file), ...options });
  }

  /**
   * Creates a registry: loads the trust store and Cedar policies, opens the audit log
   * (options.ts), starts the backend.
   * @throws ForgeError FO_TRUST_POLICY_INVALID, FO_IO_* (the Cedar file), the trust store's and audit log's codes
   */
  static async create(config: ForgeConfig, options: RegistryOptions = {}): Promise<PluginRegistry> {
    const parts = await registryParts(config, options);
    // The backend needs the host callbacks before the registry exists; they reach it through this slot.
    const slot: { registry?: PluginRegistry } = {};
    const host = backendHost(() => {
      if (slot.registry === undefined) throw new ForgeError('FO_REGISTRY_CLOSED', 'the registry is not ready');
      return slot.registry.#services;
    });
    const backend = await (options.backend ?? configuredBackend)(host, config);
    slot.registry = new PluginRegistry({ ...parts, backend });
    return slot.registry;
  }

  /**
   * Adds a host call plugins can make as `forge.<name>` (arguments and result as UTF-8 JSON),
   * decided by policy like any call (the manifest must list it in permissions.syscalls unless
   * `requires` says otherwise) and audited, for plugins loaded after. The handler runs on the
   * host thread and answers synchronously. @throws ForgeError FO_SYSCALL_INVALID_NAME, FO_TRUST_CALL_CONFLICT
   */
  registerHostCall<A>(definition: HostCallDefinition<A>): void {
    this.#hostCalls.register(definition);
  }

  /**
   * Loads a `.forgepkg` (a path or its bytes) at runtime: verifies it, prepares its module,
   * and registers it in state Created (load.ts). The registry's trust context, and
   * `options.trust` if given, learn the plugin's signed ceiling. A refused load is audited.
   * @throws ForgeError FO_REGISTRY_CLOSED; FO_PACKAGE_*, FO_MANIFEST_*, the verification codes (FO_VERIFY_*,
   *   FO_SIGNER_*, FO_CHAIN_*, FO_REVOKED_*), FO_RUNTIME_* (FO_RUNTIME_IMPORT_DENIED), FO_REGISTRY_DUPLICATE, FO_REGISTRY_FULL, FO_IO_*
   */
  async loadPlugin(source: string | Uint8Array, options: LoadOptions = {}): Promise<string> {
    this.#open();
    const identity = options.identity ?? this.identity;
    const attempt = new LoadAttempt(source);
    try {
      const prepared = await preparePlugin(attempt, identity.host, {
        config: this.config,
        attestation: this.#attestation,
        cache: this.#cache,
        policy: this.#policy,
        registered: [...REGISTRY_CALLS, ...registeredCallSpecs(this.#hostCalls)],
        admit: (name, verified) => {
          this.#revocations.check(verified);
          this.#plugins.admit(name);
        },
      });
      const { manifest } = prepared;
      for (const context of new Set([this.trust, options.trust ?? this.trust])) context.registerPlugin(prepared.identity, manifest.permissions);
      const declared = { offers: Object.keys(manifest.extension_points), implements: manifest.extensions };
      const { timeoutMs } = prepared;
      const spec = { ...prepared.spec, ...this.#instrument };
      this.#plugins.add({ id: manifest.name, identity: prepared.identity, loader: identity, kind: 'wasm', dependencies: manifest.dependencies, declared, timeoutMs, lazy: options.lazy === true, spec });
      return manifest.name;
    } catch (error) {
      const refusal = toForgeError(error);
      auditRefusal({ audit: this.audit, principal: identity.principal, action: 'plugin.load', logger: this.#logger }, attempt, refusal);
      throw refusal;
    }
  }

  /**
   * Registers a native TypeScript plugin (trusted host code) with the same lifecycle.
   * @throws ForgeError FO_REGISTRY_CLOSED, FO_REGISTRY_INVALID_PLUGIN, FO_REGISTRY_DUPLICATE, FO_REGISTRY_FULL
   */
  registerNative(plugin: NativePlugin, options: NativeOptions = {}): string {
    this.#open();
    const record = nativeRecord(plugin, options, this.identity, this.config.default_timeout);
    this.#plugins.admit(plugin.name);
    return this.#plugins.add(record).id;
  }

  /**
   * Created (or Failed) -> Ready: runs the plugin's init entry point.
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED, FO_LIFECYCLE_BAD_TRANSITION,
   *   FO_LIFECYCLE_TIMEOUT, FO_ABI_LIFECYCLE_FAILED, the backend's codes (FO_SANDBOX_*, FO_RUNTIME_*)
   */
  async initializePlugin(id: string): Promise<void> {
    await this.#get(id).controller.initialize();
  }

  /**
   * Starts the plugin, initialising it if needed, after its dependencies (topological
   * order). With `restart: always` a failed init or start is retried like a crash.
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED, FO_DEPS_MISSING, FO_DEPS_CONFLICT,
   *   FO_DEPS_CYCLE, FO_DEPS_TOO_COMPLEX, and the codes of {@link initializePlugin} for it or a dependency
   */
  async startPlugin(id: string): Promise<void> {
    const record = this.#get(id);
    const order = resolveDependencies({ [record.identity.name]: record.identity.version }, (name) => this.#plugins.candidates(name)).order;
    for (const candidate of order) {
      const target = this.#get(candidate.name);
      try {
        target.controller.assertNotQuarantined();
        const state = target.controller.state;
        if (state === PluginState.Created || state === PluginState.Failed) await target.controller.initialize();
        if (target.controller.state === PluginState.Ready || target.controller.state === PluginState.Stopped) await target.controller.start();
      } catch (error) {
        this.#supervisor.startFailed(target, toForgeError(error));
        throw error;
      }
      this.#supervisor.recovered(target);
    }
  }

  /**
   * Stops the plugin, after stopping every running plugin that depends on it (reverse order).
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED, FO_LIFECYCLE_TIMEOUT, FO_ABI_LIFECYCLE_FAILED
   */
  async stopPlugin(id: string): Promise<void> {
    const record = this.#get(id);
    for (const dependent of this.#plugins.values()) {
      if (dependent.dependencies[record.identity.name] !== undefined && isActive(dependent.controller.state)) await this.stopPlugin(dependent.id);
    }
    if (isActive(record.controller.state)) await record.controller.stop();
  }

  /**
   * Running -> Paused. Calls made meanwhile wait for {@link resumePlugin}.
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED, FO_LIFECYCLE_BAD_TRANSITION, FO_LIFECYCLE_TIMEOUT, FO_ABI_LIFECYCLE_FAILED
   */
  async pausePlugin(id: string): Promise<void> {
    await this.#get(id).controller.pause();
  }

  /**
   * Paused -> Running.
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED, FO_LIFECYCLE_BAD_TRANSITION, FO_LIFECYCLE_TIMEOUT, FO_ABI_LIFECYCLE_FAILED
   */
  async resumePlugin(id: string): Promise<void> {
    await this.#get(id).controller.resume();
  }

  /**
   * Stops (if needed) and unloads the plugin; its extensions and policy registration go with it.
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED, FO_LIFECYCLE_BAD_TRANSITION, FO_LIFECYCLE_TIMEOUT,
   *   FO_ABI_LIFECYCLE_FAILED (its stop or unload step failed; it stays loaded)
   */
  async unloadPlugin(id: string): Promise<void> {
    const record = this.#get(id);
    this.#supervisor.release(record);
    if (isActive(record.controller.state)) await this.stopPlugin(id);
    await record.controller.unload();
    await record.handle?.unload();
    record.handle = undefined;
    this.trust.unregisterPlugin(record.identity.digest);
    this.#plugins.remove(record);
  }

  /**
   * Calls an export of a Running plugin (lazily starting a plugin loaded with `lazy`). A call
   * to a Paused plugin waits for resume up to the plugin's time limit; one that crashes the
   * instance hands the plugin to the supervisor. Observers ({@link observe}) get a report of
   * it; with tracing, it is a `plugin.call` span under `options.traceparent` (or `options.context`).
   * @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED, FO_LIFECYCLE_NOT_RUNNING, FO_LIFECYCLE_PAUSED,
   *   FO_ABI_NO_SUCH_EXPORT, and the call's own codes (FO_ABI_*, FO_SANDBOX_CPU_LIMIT, FO_SANDBOX_TIMEOUT, ...)
   */
  async call(id: string, exportName: string, input: Uint8Array = new Uint8Array(0), options?: CallOptions): Promise<Uint8Array> {
    const record = this.#get(id);
    if (!this.#watch.active) return this.#invoke(record, exportName, input, undefined);
    return this.#watch.run(record, exportName, undefined, options, (probe) => this.#invoke(record, exportName, input, probe));
  }

  /**
   * Enforces a marketplace's verified revocations instead of the last ones (revocation-guard.ts): covered
   * plugins are quarantined now (audited), refused at load from now on (FO_MARKET_PLUGIN_REVOKED). @returns the ids quarantined
   */
  async applyRevocations(revocations: readonly Revocation[], source: string): Promise<string[]> {
    this.#open();
    const parts = { audit: this.audit, principal: this.identity.principal, logger: this.#logger, release: (record: PluginRecord) => this.#supervisor.release(record) };
    return enforceRevocations(this.#revocations, revocations, source, this.#plugins.values(), parts);
  }

  /** Subscribes to every plugin call, transition, anomaly and host-call count (metrics/observer.ts); returns an unsubscribe function. */
  observe(observer: RegistryObserver): () => void {
    return this.#observers.add(observer);
  }

  /** Where this registry's plugins run: `inline`, `pool` or `process` (runtime.backend, with auto resolved). */
  get backendName(): IsolationBackend['name'] {
    return this.#backend.name;
  }

  /** Asks the backend to report its host-call counts to the observers now (inline: at once; pool workers report once a second while busy, and when idle). */
  flushHostCallCounts(): void {
    this.#backend.flushCounts?.();
  }

  async #invoke(record: PluginRecord, exportName: string, input: Uint8Array, probe: CallProbe | undefined): Promise<Uint8Array> {
    if (record.lazy && record.controller.state === PluginState.Created) await this.startPlugin(record.id);
    await record.controller.callable(record.timeoutMs);
    try {
      if (record.native !== undefined) return await callNative(record.native, record.id, exportName, input);
      if (record.handle === undefined) throw new ForgeError('FO_LIFECYCLE_NOT_RUNNING', `plugin ${record.id} has no instance`);
      return await record.handle.call(exportName, input, probe);
    } catch (error) {
      const failure = toForgeError(error);
      if (this.#supervisor.isCrash(failure)) this.#supervisor.crashed(record, failure);
      throw failure;
    }
  }

  /** Every loaded plugin. */
  list(): PluginInfo[] {
    return this.#plugins.values().map(pluginInfo);
  }

  /** One plugin. @throws ForgeError FO_REGISTRY_NOT_FOUND, FO_REGISTRY_CLOSED */
  get(id: string): PluginInfo {
    return pluginInfo(this.#get(id));
  }

  /** Subscribes to events plugins emit with forge.emit_event; returns an unsubscribe function. */
  onEvent(listener: PluginEventListener): () => void {
    return this.#services.onEvent(listener);
  }

  /**
   * Declares an extension point the host itself offers; plugins may then implement it.
   * @throws ForgeError FO_ABI_BAD_REQUEST for a name that is not an extension point name
   */
  declareExtensionPoint(point: string): void {
    this.#extensions.declareHostPoint(point);
  }

  /** The extension points the host offers, sorted. */
  hostExtensionPoints(): string[] {
    return this.#extensions.hostPoints();
  }

  /** The implementations of `point` among Running plugins, declared and registered at run time. */
  extensions(point: string): ExtensionImplementation[] {
    return this.#extensions.implementations(point, (plugin) => this.#plugins.find(plugin)?.controller.state === PluginState.Running);
  }

  /** Calls every implementation of `point` with `input`; one failing does not stop the others. */
  async invokeExtensions(point: string, input: Uint8Array): Promise<InvocationResult[]> {
    return invokeEach(this.extensions(point), input, (plugin, exportName, bytes) => this.call(plugin, exportName, bytes));
  }

  /**
   * Replaces the operator policy everywhere (all cached decisions dropped).
   * @throws ForgeError FO_TRUST_POLICY_INVALID (the Cedar text), the backend's codes
   */
  async setPolicy(config: Pick<ForgeConfig, 'policy' | 'sandbox'>, cedarText?: string): Promise<void> {
    this.#policy = policySpecFromConfig({ ...this.config, ...config }, cedarText);
    await this.#backend.updatePolicy(this.#policy);
    this.trust.invalidate();
  }

  /** Stops every plugin (dependents first), unloads them, closes the backend and the audit log. Never throws for one plugin. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const record of this.#plugins.values().reverse()) {
      try {
        await this.unloadPlugin(record.id);
      } catch (error) {
        this.#logger.warn('unloading a plugin failed during close', { plugin: record.id, error: toForgeError(error).message });
      }
    }
    this.#closed = true;
    await this.#backend.close();
    await this.audit?.close();
  }

  #open(): void {
    if (this.#closed) throw new ForgeError('FO_REGISTRY_CLOSED', 'the registry is closed');
  }

  #get(id: string): PluginRecord {
    this.#open();
    return this.#plugins.get(id);
  }
}
