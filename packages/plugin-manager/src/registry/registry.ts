/**
 * PluginRegistry: the composition root that turns packages into running plugins.
 *
 * ```ts
 * const registry = await PluginRegistry.newWithConfig('config.yaml');
 * const identity = new IdentityContext('plugin-manager');
 * const trust = new TrustContext(identity);
 * const pluginId = await registry.loadPlugin('/path/to/plugin.forgepkg', identity, trust);
 * const timer = new StartupTimer(pluginId, 'example-plugin', '1.0.0');
 * await registry.initializePlugin(pluginId);
 * timer.stop();
 * await registry.startPlugin(pluginId);
 * ```
 *
 * Loading verifies the package (openVerifiedPackage), prepares its module (imports
 * checked against its permissions, fuel and memory caps), registers its signed
 * permissions as its policy ceiling, and hands a PluginSpec to the isolation backend.
 * Every lifecycle transition is a telemetry event and an audit record; every host call
 * passes the syscall bridge inside the backend.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ForgeError,
  IdentityContext,
  MetricType,
  TelemetryEvent,
  defaultTelemetryBus,
  fromFsError,
  loadConfigFile,
  silentLogger,
  toForgeError,
  type ForgeConfig,
  type Logger,
  type PluginIdentity,
  type TelemetryBus,
} from '@forgeone/common';
import { SyscallBridge, TrustContext, anomalyResponder, openConfiguredAuditLog, type Anomaly, type AuditLog, type HostCallDefinition } from '@forgeone/microkernel';
import { openVerifiedPackage, loadAttestationSettings, type OpenPackageOptions } from '../attestation/index.js';
import { LifecycleController, PluginState, type Transition } from '../lifecycle/index.js';
import { packageLimitsFromConfig } from '../loader/index.js';
import type { EntryPointName } from '../plugin/index.js';
import { CompileCache, prepareModule } from '../runtime/index.js';
import { registeredCallResource, runRegisteredCall } from '../syscall/index.js';
import { InlineBackend, PoolBackend, registeredCallSpecs, type BackendHost, type CallerFuel, type IsolationBackend, type PluginHandle, type PluginSpec, type PolicySpec } from '../sandbox/index.js';
import { ExtensionTable, decodeCallPlugin, decodeRegisterExtension, type ExtensionImplementation } from './extensions.js';
import { nativeIdentity, runNativeStep, type NativePlugin } from './native.js';
import { resolveDependencies, type Candidate } from './resolver.js';
import { replay, replaySteps } from './replay.js';
import { CrashHistory } from './restart.js';
import { buildPluginSpec, effectiveLimits, policySpecFromConfig } from './spec-builder.js';

/** Errors after which a plugin's instance cannot be trusted and must be re-created. */
const CRASH_CODES = new Set(['FO_ABI_GUEST_TRAP', 'FO_SANDBOX_CPU_LIMIT', 'FO_ABI_INSTANCE_POISONED', 'FO_SANDBOX_TIMEOUT', 'FO_SANDBOX_WORKER_FAILED', 'FO_RUNTIME_TRAP']);

/** The registry's own host calls, served on the host thread. */
const REGISTRY_CALLS = ['forge.register_extension', 'forge.call_plugin'] as const;

/** Creates the isolation backend the registry hosts plugins on. */
export type BackendFactory = (host: BackendHost, config: ForgeConfig) => IsolationBackend | Promise<IsolationBackend>;

/** The backend `runtime.backend` names: a worker pool of `runtime.pool_size` (0: one per core), or the host thread. */
export const configuredBackend: BackendFactory = (host, config) =>
  config.runtime.backend === 'inline' ? new InlineBackend(host) : new PoolBackend(host, config.runtime.pool_size === 0 ? {} : { size: config.runtime.pool_size });

/** Options for {@link PluginRegistry.create}. */
export interface RegistryOptions {
  /** How plugins are hosted (default {@link configuredBackend}: as `runtime.backend` says). */
  readonly backend?: BackendFactory;
  /** The host's identity (default `plugin-manager`). */
  readonly identity?: IdentityContext;
  /** The trust context policy decisions are made in (default: a new one with the configured policy). */
  readonly trust?: TrustContext;
  /** The audit log; false for none; default: the configured one when security.audit_logging is true. */
  readonly audit?: AuditLog | false;
  readonly logger?: Logger;
  readonly telemetry?: TelemetryBus;
  /** The configuration file's directory, for relative paths in it (default: the working directory). */
  readonly configDir?: string;
  /** Package verification settings (default: from security.*). */
  readonly attestation?: OpenPackageOptions;
  readonly clock?: () => number;
}

/** What the registry reports about a plugin. */
export interface PluginInfo {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly publisher: string;
  readonly digest: string;
  readonly attested: boolean;
  readonly kind: 'wasm' | 'native';
  readonly state: PluginState;
  readonly dependencies: Readonly<Record<string, string>>;
  readonly restarts: number;
  readonly lazy: boolean;
}

interface PluginRecord {
  readonly id: string;
  readonly identity: PluginIdentity;
  readonly who: IdentityContext;
  readonly kind: 'wasm' | 'native';
  readonly dependencies: Readonly<Record<string, string>>;
  readonly extensionPoints: readonly string[];
  readonly extensions: readonly { readonly point: string; readonly export: string }[];
  readonly controller: LifecycleController;
  readonly crashes: CrashHistory;
  readonly lazy: boolean;
  readonly timeoutMs: number;
  readonly spec?: PluginSpec;
  readonly native?: NativePlugin;
  handle: PluginHandle | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

/** Options for {@link PluginRegistry.loadPlugin}. */
export interface LoadOptions {
  /** Initialise and start the plugin on its first call instead of explicitly. */
  readonly lazy?: boolean;
}

/** See the module comment. */
export class PluginRegistry {
  readonly config: ForgeConfig;
  readonly identity: IdentityContext;
  readonly trust: TrustContext;
  readonly audit: AuditLog | undefined;
  readonly extensionsTable = new ExtensionTable();
  /** Host calls the application added with {@link registerHostCall}; served on the host thread. */
  readonly #hostCalls: SyscallBridge;
  readonly #backend: IsolationBackend;
  readonly #logger: Logger;
  readonly #telemetry: TelemetryBus;
  readonly #attestation: OpenPackageOptions;
  readonly #cache = new CompileCache();
  readonly #plugins = new Map<string, PluginRecord>();
  readonly #eventListeners: ((plugin: string, name: string, payload: Uint8Array) => void)[] = [];
  readonly #clock: () => number;
  /** Instances whose lifecycle steps are being re-run after their backend re-created them. */
  readonly #replays = new WeakMap<PluginHandle, Promise<unknown>>();
  #policy: PolicySpec;
  #respond: ((anomaly: Anomaly) => void) | undefined;
  #closed = false;

  private constructor(parts: {
    config: ForgeConfig;
    identity: IdentityContext;
    trust: TrustContext;
    audit: AuditLog | undefined;
    backend: IsolationBackend;
    logger: Logger;
    telemetry: TelemetryBus;
    attestation: OpenPackageOptions;
    policy: PolicySpec;
    clock: () => number;
  }) {
    this.config = parts.config;
    this.identity = parts.identity;
    this.trust = parts.trust;
    this.audit = parts.audit;
    this.#backend = parts.backend;
    this.#logger = parts.logger;
    this.#telemetry = parts.telemetry;
    this.#attestation = parts.attestation;
    this.#policy = parts.policy;
    this.#clock = parts.clock;
    this.#hostCalls = new SyscallBridge({ trust: this.trust });
  }

  /**
   * Adds a host call plugins can make as `forge.<name>` (arguments and result as UTF-8
   * JSON), decided by policy like any call (the manifest must list it in
   * permissions.syscalls unless `requires` says otherwise) and audited. Plugins loaded
   * after this see it. The handler runs on the host thread and must answer synchronously.
   * @throws ForgeError FO_SYSCALL_INVALID_NAME, FO_TRUST_CALL_CONFLICT
   */
  registerHostCall<A>(definition: HostCallDefinition<A>): void {
    this.#hostCalls.register(definition);
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
   * Creates a registry: loads the trust store and Cedar policies, opens the audit log,
   * starts the backend.
   * @throws ForgeError FO_TRUST_POLICY_INVALID, the trust store's and audit log's codes
   */
  static async create(config: ForgeConfig, options: RegistryOptions = {}): Promise<PluginRegistry> {
    const configDir = options.configDir ?? process.cwd();
    const identity = options.identity ?? new IdentityContext('plugin-manager');
    const cedarText =
      config.policy.cedar === undefined
        ? undefined
        : await readFile(config.policy.cedar, 'utf8').catch((error: unknown) => {
            throw fromFsError(error, 'read the Cedar policies', config.policy.cedar ?? '');
          });
    const policy = policySpecFromConfig(config, cedarText);
    const trust = options.trust ?? new TrustContext(identity);
    const attestation = options.attestation ?? (await loadAttestationSettings(config.security, configDir));
    const audit = options.audit === false ? undefined : (options.audit ?? (config.security.audit_logging ? await openConfiguredAuditLog(config.audit, configDir) : undefined));
    // The backend needs the host callbacks before the registry exists; they reach it through this slot.
    const slot: { registry?: PluginRegistry } = {};
    const ready = (): PluginRegistry => {
      if (slot.registry === undefined) throw new ForgeError('FO_REGISTRY_CLOSED', 'the registry is not ready');
      return slot.registry;
    };
    const host: BackendHost = {
      audit: (entry) => ready().#auditFromBackend(entry),
      log: (plugin, record) => ready().#logger.child({ plugin })[record.level](record.message, record.fields),
      event: (plugin, event) => ready().#emit(plugin, event.name, event.payload),
      anomaly: (plugin, anomaly) => ready().#anomaly(plugin, anomaly),
      hostCall: (plugin, name, request, fuel) => ready().#hostCall(plugin, name, request, fuel),
      // The backend's gate decides forge.call_plugin on its target plugin's name.
      hostCallResource: (_plugin, name, request) => ready().#hostCallResource(name, request),
    };
    const backend = await (options.backend ?? configuredBackend)(host, config);
    const registry = new PluginRegistry({
      config,
      identity,
      trust,
      audit,
      backend,
      logger: options.logger ?? silentLogger,
      telemetry: options.telemetry ?? defaultTelemetryBus,
      attestation,
      policy,
      clock: options.clock ?? Date.now,
    });
    slot.registry = registry;
    return registry;
  }

  /**
   * Loads a `.forgepkg` at runtime: verifies it, prepares its module, and registers it
   * in state Created. `identity` and `trust` default to the registry's own; a given
   * trust context also learns the plugin's ceiling, so the host can ask it about the
   * plugin too.
   * @throws ForgeError the package, verification and runtime codes; FO_REGISTRY_DUPLICATE, FO_REGISTRY_FULL
   */
  async loadPlugin(source: string | Uint8Array, identity: IdentityContext = this.identity, trust: TrustContext = this.trust, options: LoadOptions = {}): Promise<string> {
    this.#open();
    const limits = packageLimitsFromConfig(this.config.package_limits);
    const opened = await openVerifiedPackage(source, { ...this.#attestation, limits });
    const manifest = opened.contents.manifest;
    this.#admit(manifest.name);
    const wasm = opened.contents.read(manifest.entry);
    if (wasm === undefined) throw new ForgeError('FO_PACKAGE_MISSING_MODULE', `the package lacks ${manifest.entry}`);
    const limitsNow = effectiveLimits(manifest, this.config);
    const prepared = await prepareModule(wasm, { permissions: manifest.permissions, maxMemoryBytes: limitsNow.memoryBytes }, this.#cache);
    const id = manifest.name;
    const spec = buildPluginSpec({
      id,
      manifest,
      identity: opened.identity,
      host: identity.host,
      prepared,
      config: this.config,
      policy: this.#policy,
      dataDirectory: join(this.config.plugin_directory, manifest.name, 'data'),
      registered: [...REGISTRY_CALLS, ...registeredCallSpecs(this.#hostCalls)],
    });
    for (const context of new Set([this.trust, trust])) context.registerPlugin(opened.identity, manifest.permissions);
    this.#add(id, opened.identity, identity, 'wasm', manifest, limitsNow.timeoutMs, options.lazy === true, { spec });
    return id;
  }

  /**
   * Registers a native TypeScript plugin (trusted host code) with the same lifecycle.
   * @throws ForgeError FO_REGISTRY_INVALID_PLUGIN, FO_REGISTRY_DUPLICATE, FO_REGISTRY_FULL
   */
  registerNative(plugin: NativePlugin, options: LoadOptions = {}): string {
    this.#open();
    const identity = nativeIdentity(plugin);
    this.#admit(plugin.name);
    const manifestLike = {
      dependencies: plugin.dependencies ?? {},
      extension_points: Object.fromEntries((plugin.extensionPoints ?? []).map((point) => [point, {}])),
      extensions: plugin.extensions ?? [],
    };
    this.#add(plugin.name, identity, this.identity, 'native', manifestLike, this.config.default_timeout, options.lazy === true, { native: plugin });
    return plugin.name;
  }

  #add(
    id: string,
    identity: PluginIdentity,
    who: IdentityContext,
    kind: 'wasm' | 'native',
    manifest: {
      readonly dependencies: Readonly<Record<string, string>>;
      readonly extension_points: Readonly<Record<string, unknown>>;
      readonly extensions: readonly { readonly point: string; readonly export: string }[];
    },
    timeoutMs: number,
    lazy: boolean,
    extra: { spec?: PluginSpec; native?: NativePlugin },
  ): void {
    const record: PluginRecord = {
      id,
      identity,
      who: who.forPlugin(identity),
      kind,
      dependencies: manifest.dependencies,
      extensionPoints: Object.keys(manifest.extension_points),
      extensions: manifest.extensions,
      crashes: new CrashHistory(),
      lazy,
      timeoutMs,
      handle: undefined,
      restartTimer: undefined,
      ...extra,
      controller: new LifecycleController(id, { lifecycle: (step) => this.#step(record, step) }, { timeoutMs, observer: (transition) => this.#observe(record, transition) }),
    };
    this.#plugins.set(id, record);
    this.#telemetry.record(new TelemetryEvent('plugin.loaded', MetricType.Counter, 1, { plugin_id: id, plugin_name: identity.name, version: identity.version, kind }));
  }

  /** Runs a lifecycle step on the plugin's instance, creating the instance first if needed. */
  async #step(record: PluginRecord, step: EntryPointName): Promise<boolean> {
    if (record.native !== undefined) return runNativeStep(record.native, step);
    if (record.spec === undefined) return false;
    if (record.handle === undefined) {
      const handle = await this.#backend.load(record.spec);
      record.handle = handle;
      // A poisoned instance is a crash of this plugin; an instance its backend re-created
      // through no fault of the plugin (a neighbour replaced their worker) is not (replay.ts).
      handle.onEvent((event) => {
        if (record.handle !== handle) return;
        if (event.type === 'poisoned') this.#crashed(record, event.fault);
        else this.#replay(record, handle);
      });
    }
    return record.handle.lifecycle(step);
  }

  /** Created (or Failed) -> Ready: runs the plugin's init entry point. */
  async initializePlugin(id: string): Promise<void> {
    await this.#get(id).controller.initialize();
  }

  /** Starts the plugin, initialising it if needed, after its dependencies (topological order). */
  async startPlugin(id: string): Promise<void> {
    const record = this.#get(id);
    const order = resolveDependencies({ [record.identity.name]: record.identity.version }, (name) => this.#candidates(name)).order;
    for (const candidate of order) {
      const target = this.#get(candidate.name);
      try {
        const state = target.controller.state;
        if (state === PluginState.Created || state === PluginState.Failed) await target.controller.initialize();
        if (target.controller.state === PluginState.Ready || target.controller.state === PluginState.Stopped) await target.controller.start();
      } catch (error) {
        // With restart: always, a failed init or start is retried like a crash.
        if (this.config.runtime.restart === 'always' && target.controller.state === PluginState.Failed) this.#scheduleRestart(target, toForgeError(error), true);
        throw error;
      }
      target.crashes.recovered();
    }
  }

  /** Stops the plugin, after stopping every running plugin that depends on it (reverse order). */
  async stopPlugin(id: string): Promise<void> {
    const record = this.#get(id);
    for (const dependent of this.#plugins.values()) {
      if (dependent.dependencies[record.identity.name] !== undefined && isActive(dependent.controller.state)) await this.stopPlugin(dependent.id);
    }
    if (isActive(record.controller.state)) await record.controller.stop();
  }

  /** Running -> Paused. Calls made meanwhile wait for {@link resumePlugin}. */
  async pausePlugin(id: string): Promise<void> {
    await this.#get(id).controller.pause();
  }

  /** Paused -> Running. */
  async resumePlugin(id: string): Promise<void> {
    await this.#get(id).controller.resume();
  }

  /** Stops (if needed) and unloads the plugin; its extensions and policy registration go with it. */
  async unloadPlugin(id: string): Promise<void> {
    const record = this.#get(id);
    clearTimeout(record.restartTimer);
    if (isActive(record.controller.state)) await this.stopPlugin(id);
    await record.controller.unload();
    await record.handle?.unload();
    record.handle = undefined;
    this.extensionsTable.forget(id);
    this.trust.unregisterPlugin(record.identity.digest);
    this.#plugins.delete(id);
  }

  /**
   * Calls an export of a Running plugin (lazily starting a plugin loaded with `lazy`).
   * A call to a Paused plugin waits for resume up to the plugin's time limit.
   * @throws ForgeError FO_LIFECYCLE_NOT_RUNNING, FO_LIFECYCLE_PAUSED, and the call's own codes
   */
  async call(id: string, exportName: string, input: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    const record = this.#get(id);
    if (record.lazy && record.controller.state === PluginState.Created) await this.startPlugin(id);
    await record.controller.callable(record.timeoutMs);
    try {
      if (record.native !== undefined) {
        const fn = record.native.exports?.[exportName];
        if (fn === undefined) throw new ForgeError('FO_ABI_NO_SUCH_EXPORT', `native plugin ${id} has no export ${exportName}`);
        return await fn.call(record.native, input);
      }
      if (record.handle === undefined) throw new ForgeError('FO_LIFECYCLE_NOT_RUNNING', `plugin ${id} has no instance`);
      return await record.handle.call(exportName, input);
    } catch (error) {
      const failure = toForgeError(error);
      if (CRASH_CODES.has(failure.code)) this.#crashed(record, failure);
      throw failure;
    }
  }

  /** Every loaded plugin. */
  list(): PluginInfo[] {
    return [...this.#plugins.values()].map((record) => this.#info(record));
  }

  /** One plugin. @throws ForgeError FO_REGISTRY_NOT_FOUND */
  get(id: string): PluginInfo {
    return this.#info(this.#get(id));
  }

  /** Subscribes to events plugins emit with forge.emit_event; returns an unsubscribe function. */
  onEvent(listener: (plugin: string, name: string, payload: Uint8Array) => void): () => void {
    this.#eventListeners.push(listener);
    return () => {
      const at = this.#eventListeners.indexOf(listener);
      if (at !== -1) this.#eventListeners.splice(at, 1);
    };
  }

  /** The implementations of `point` among Running plugins, declared and registered at run time. */
  extensions(point: string): ExtensionImplementation[] {
    const out: ExtensionImplementation[] = [];
    for (const record of this.#plugins.values()) {
      if (record.controller.state !== PluginState.Running) continue;
      for (const extension of record.extensions) if (extension.point === point) out.push({ point, plugin: record.id, export: extension.export, source: 'manifest' });
      for (const extension of this.extensionsTable.registeredBy(record.id)) if (extension.point === point) out.push(extension);
    }
    return out;
  }

  /** Calls every implementation of `point` with `input`; one failing does not stop the others. */
  async invokeExtensions(point: string, input: Uint8Array): Promise<{ plugin: string; output?: Uint8Array; error?: ForgeError }[]> {
    const results: { plugin: string; output?: Uint8Array; error?: ForgeError }[] = [];
    for (const implementation of this.extensions(point)) {
      try {
        results.push({ plugin: implementation.plugin, output: await this.call(implementation.plugin, implementation.export, input) });
      } catch (error) {
        results.push({ plugin: implementation.plugin, error: toForgeError(error) });
      }
    }
    return results;
  }

  /** Replaces the operator policy everywhere (all cached decisions dropped). */
  async setPolicy(config: Pick<ForgeConfig, 'policy' | 'sandbox'>, cedarText?: string): Promise<void> {
    this.#policy = policySpecFromConfig({ ...this.config, ...config }, cedarText);
    await this.#backend.updatePolicy(this.#policy);
    this.trust.invalidate();
  }

  /** Stops every plugin (dependents first), unloads them, closes the backend and the audit log. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const record of [...this.#plugins.values()].reverse()) {
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

  // --- internals ---------------------------------------------------------------------

  #open(): void {
    if (this.#closed) throw new ForgeError('FO_REGISTRY_CLOSED', 'the registry is closed');
  }

  #admit(name: string): void {
    if (this.#plugins.has(name)) throw new ForgeError('FO_REGISTRY_DUPLICATE', `a plugin named ${name} is already loaded`, { details: { plugin: name } });
    if (this.#plugins.size >= this.config.max_plugins) {
      throw new ForgeError('FO_REGISTRY_FULL', `the registry already holds max_plugins (${this.config.max_plugins}) plugins`, { details: { limit: this.config.max_plugins } });
    }
  }

  #get(id: string): PluginRecord {
    this.#open();
    const record = this.#plugins.get(id);
    if (record === undefined) throw new ForgeError('FO_REGISTRY_NOT_FOUND', `no plugin ${JSON.stringify(id.slice(0, 80))} is loaded`, { details: { plugin: id } });
    return record;
  }

  #candidates(name: string): Candidate[] {
    const record = this.#plugins.get(name);
    return record === undefined ? [] : [{ name, version: record.identity.version, dependencies: record.dependencies }];
  }

  #info(record: PluginRecord): PluginInfo {
    const { identity } = record;
    return {
      id: record.id,
      name: identity.name,
      version: identity.version,
      publisher: identity.publisher,
      digest: identity.digest,
      attested: identity.attested,
      kind: record.kind,
      state: record.controller.state,
      dependencies: record.dependencies,
      restarts: record.crashes.restarts,
      lazy: record.lazy,
    };
  }

  #observe(record: PluginRecord, transition: Transition): void {
    const { identity } = record;
    this.#telemetry.record(
      new TelemetryEvent(`plugin.lifecycle.${transition.to}`, MetricType.Counter, 1, { plugin_id: record.id, plugin_name: identity.name, version: identity.version, from: transition.from }),
    );
    const audit = this.audit;
    if (audit !== undefined && audit.shouldRecord(transition.error === undefined ? 'decision' : 'denial')) {
      audit.append({
        principal: this.identity.principal,
        plugin: identity.digest,
        action: `plugin.lifecycle.${transition.step ?? transition.to}`,
        resource: record.id,
        decision: transition.to === PluginState.Failed || transition.to === PluginState.Quarantined ? 'deny' : 'allow',
        reason: `${transition.from} -> ${transition.to}${transition.error === undefined ? '' : `: ${transition.error.code}: ${transition.error.message}`}`,
      });
    }
  }

  #crashed(record: PluginRecord, error: ForgeError): void {
    if (record.controller.state === PluginState.Failed || record.controller.state === PluginState.Quarantined) return;
    const wasRunning = record.controller.state === PluginState.Running || record.controller.state === PluginState.Paused;
    record.controller.fail(error);
    const handle = record.handle;
    record.handle = undefined;
    void handle?.unload().catch(() => undefined);
    if (wasRunning) this.#scheduleRestart(record, error, false);
    else record.crashes.decide(this.config.runtime, this.#clock());
  }

  /** Applies the restart policy to a crash: restart after a delay, give up, or quarantine. */
  #scheduleRestart(record: PluginRecord, error: ForgeError, stepFailed: boolean): void {
    const decision = record.crashes.decide(this.config.runtime, this.#clock(), stepFailed);
    this.#logger.warn('plugin crashed', { plugin: record.id, code: error.code, action: decision.action });
    if (decision.action === 'quarantine') {
      record.controller.quarantine(new ForgeError('FO_LIFECYCLE_QUARANTINED', `plugin ${record.id} ${decision.reason}`));
      return;
    }
    if (decision.action === 'give-up') return;
    clearTimeout(record.restartTimer);
    record.restartTimer = setTimeout(() => {
      if (!this.#plugins.has(record.id) || record.controller.state !== PluginState.Failed) return;
      this.startPlugin(record.id).catch((restartError: unknown) => {
        const failure = toForgeError(restartError);
        this.#logger.warn('restarting a plugin failed', { plugin: record.id, code: failure.code });
        // A restart that fails is another crash (with restart: always, startPlugin already rescheduled it).
        if (record.controller.state === PluginState.Failed && this.config.runtime.restart !== 'always') this.#scheduleRestart(record, failure, false);
      });
    }, decision.delayMs);
    record.restartTimer.unref();
  }

  /** Re-runs the entry points that brought the plugin to its state on a re-created instance; a failure of its own is a crash. */
  #replay(record: PluginRecord, handle: PluginHandle): void {
    const replaying = replay(handle, replaySteps(record.controller.state));
    this.#replays.set(handle, replaying);
    void replaying.then((failure) => {
      if (this.#replays.get(handle) === replaying) this.#replays.delete(handle);
      if (failure !== undefined && record.handle === handle) this.#crashed(record, failure);
    });
  }

  #auditFromBackend(entry: Parameters<BackendHost['audit']>[0]): void {
    const record = this.#plugins.get(entry.plugin);
    if (record === undefined || this.audit === undefined) return;
    this.audit.record({ identity: record.who, action: entry.action, resource: entry.resource, allowed: entry.allowed, reason: entry.reason });
  }

  #emit(plugin: string, name: string, payload: Uint8Array): void {
    for (const listener of this.#eventListeners) {
      try {
        listener(plugin, name, payload);
      } catch (error) {
        this.#logger.warn('an event listener threw', { plugin, event: name, error: toForgeError(error).message });
      }
    }
  }

  /** Turns a plugin's anomaly into a security event, an audit record and, if configured, a quarantine. */
  #anomaly(plugin: string, anomaly: Anomaly): void {
    this.#respond ??= anomalyResponder({
      telemetry: this.#telemetry,
      ...(this.audit === undefined ? {} : { audit: this.audit }),
      action: this.config.policy.anomaly.action,
      principalOf: (key) => this.#plugins.get(key)?.who.principal ?? `plugin:${key}`,
      quarantine: (key, found) =>
        this.#plugins.get(key)?.controller.quarantine(new ForgeError('FO_LIFECYCLE_QUARANTINED', `plugin ${key} quarantined: ${found.kind}: ${found.detail}`)),
    });
    this.#respond({ ...anomaly, plugin });
  }

  /** Host calls served on the host thread: the registry's own and the application's. `fuel`: the caller's, lent to a plugin it calls. */
  #hostCall(plugin: string, name: string, request: Uint8Array, fuel?: CallerFuel): Uint8Array {
    const record = this.#get(plugin);
    if (name === 'forge.register_extension') {
      const { point, export: exportName } = decodeRegisterExtension(request);
      const offered = this.extensionsTable.hostOffers(point) || [...this.#plugins.values()].some((other) => other.extensionPoints.includes(point));
      if (!offered) throw new ForgeError('FO_EXTENSION_UNKNOWN_POINT', `no loaded plugin or the host offers extension point ${point}`, { details: { point } });
      this.extensionsTable.register(record.id, point, exportName);
      return new Uint8Array(0);
    }
    if (name === 'forge.call_plugin') {
      const { plugin: target, export: exportName, input } = decodeCallPlugin(request);
      if (record.dependencies[target] === undefined) {
        throw new ForgeError('FO_EXTENSION_NOT_DECLARED', `plugin ${record.id} may call only the plugins it declares in dependencies; ${target} is not one`, { details: { target } });
      }
      // Policy (manifest grant, operator grants, Cedar on the target's name) was decided
      // by the plugin's gate in its backend before this runs; the declaration is ours.
      return this.#callSync(target, exportName, input, fuel);
    }
    return runRegisteredCall(this.#hostCalls, name, request, record.who);
  }

  /** The resource a host-thread call's request touches, for the plugin's gate. */
  #hostCallResource(name: string, request: Uint8Array): string | undefined {
    if (name === 'forge.call_plugin') return decodeCallPlugin(request).plugin;
    if (name === 'forge.register_extension') return undefined;
    return registeredCallResource(this.#hostCalls, name, request);
  }

  /** A synchronous call into another plugin, for forge.call_plugin, on the caller's fuel (the callee's own budget at most). */
  #callSync(target: string, exportName: string, input: Uint8Array, fuel?: CallerFuel): Uint8Array {
    const record = this.#get(target);
    if (record.controller.state !== PluginState.Running) throw new ForgeError('FO_LIFECYCLE_NOT_RUNNING', `plugin ${target} is ${record.controller.state}, not running`);
    if (record.native !== undefined) {
      const result = record.native.exports?.[exportName]?.call(record.native, input);
      if (result === undefined) throw new ForgeError('FO_ABI_NO_SUCH_EXPORT', `native plugin ${target} has no export ${exportName}`);
      if (result instanceof Promise) throw new ForgeError('FO_SYSCALL_ASYNC_HANDLER', `native plugin ${target}'s ${exportName} answers asynchronously, so plugins cannot call it`);
      return result;
    }
    const handle = record.handle;
    if (handle !== undefined && this.#replays.has(handle)) {
      throw new ForgeError('FO_SANDBOX_RESTARTED', `plugin ${target}'s instance was re-created and its lifecycle steps are running again; the call did not run`, { details: { plugin: target } });
    }
    if (handle?.callSync === undefined) {
      throw new ForgeError('FO_SYSCALL_ASYNC_HANDLER', `plugin ${target} runs on a backend that cannot be called synchronously from another plugin`);
    }
    return handle.callSync(exportName, input, fuel);
  }
}

function isActive(state: PluginState): boolean {
  return state === PluginState.Running || state === PluginState.Paused;
}
