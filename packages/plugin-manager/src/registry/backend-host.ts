/**
 * The registry's side of the isolation backend: which backend hosts the plugins, and
 * the host services the backend calls back into (audit records of the plugins' gates,
 * plugin logs and events, anomalies, and the host calls served on the host thread).
 */
import { ForgeError, toForgeError, type ForgeConfig, type Logger, type TelemetryBus } from '@forgeone/common';
import { anomalyResponder, type Anomaly, type AuditLog, type HostCallCount } from '@forgeone/microkernel';
import { InlineBackend, PoolBackend, ProcessBackend, type BackendHost, type IsolationBackend } from '../sandbox/index.js';
import type { HostCallRouter } from './host-calls.js';
import type { RegistryObservers } from './observers.js';
import type { PluginRecord } from './record.js';

/** Creates the isolation backend the registry hosts plugins on. */
export type BackendFactory = (host: BackendHost, config: ForgeConfig) => IsolationBackend | Promise<IsolationBackend>;

/**
 * The backend `runtime.backend` names: a worker pool of `runtime.pool_size` (0: one per
 * core), the host thread, or confined processes (`runtime.process`, limits from `sandbox`).
 * @throws ForgeError FO_CONFIG_INVALID for the process backend without
 *   security.namespace_isolation; FO_SANDBOX_UNAVAILABLE when this host cannot confine
 */
export const configuredBackend: BackendFactory = (host, config) => {
  const runtime = config.runtime;
  // SECURITY: namespace_isolation decides; parseConfig refuses inline or pool with it on.
  const backend = runtime.backend === 'auto' ? (config.security.namespace_isolation ? 'process' : 'pool') : runtime.backend;
  if (backend === 'inline') return new InlineBackend(host);
  if (backend === 'pool') return new PoolBackend(host, runtime.pool_size === 0 ? {} : { size: runtime.pool_size });
  if (!config.security.namespace_isolation) {
    // SECURITY: the process backend only runs confined; it never starts plugins unconfined.
    throw new ForgeError('FO_CONFIG_INVALID', 'runtime.backend: process needs security.namespace_isolation: true (the process backend runs plugins only inside namespaces)', {
      details: { issues: [{ path: 'plugin_manager.security.namespace_isolation', message: 'must be true with runtime.backend: process' }] },
    });
  }
  const sandbox = config.sandbox;
  return ProcessBackend.create(host, {
    groupBy: runtime.process.group_by,
    warm: runtime.process.warm,
    limits: {
      memoryBytes: sandbox.memory_limit + runtime.process.runtime_memory,
      cpuCores: sandbox.cpu_limit,
      pids: runtime.process.pids_limit,
      // The runtime's own descriptors (Node, its threads, the FIFOs) on top of the plugins'.
      fileDescriptors: sandbox.file_descriptor_limit + 64,
    },
  });
};

/** A listener for events plugins emit with forge.emit_event. */
export type PluginEventListener = (plugin: string, name: string, payload: Uint8Array) => void;

/** What {@link HostServices} reaches. */
export interface HostServicesParts {
  /** A loaded plugin by id, if loaded. */
  readonly lookup: (id: string) => PluginRecord | undefined;
  readonly audit: AuditLog | undefined;
  readonly logger: Logger;
  readonly telemetry: TelemetryBus;
  /** `policy.anomaly.action`. */
  readonly anomalyAction: ForgeConfig['policy']['anomaly']['action'];
  readonly router: HostCallRouter;
  readonly observers: RegistryObservers;
}

/** The services a backend's plugins reach on the host thread. */
export class HostServices {
  readonly #parts: HostServicesParts;
  readonly #listeners: PluginEventListener[] = [];
  /** Each plugin's logger, tagged with its identity (made on its first record). */
  readonly #loggers = new WeakMap<PluginRecord, Logger>();
  #respond: ((anomaly: Anomaly) => void) | undefined;

  constructor(parts: HostServicesParts) {
    this.#parts = parts;
  }

  /** The host calls served on the host thread. */
  get router(): HostCallRouter {
    return this.#parts.router;
  }

  /** Records a gate's decision as the plugin's identity (the loader's, for this plugin). */
  audit(entry: Parameters<BackendHost['audit']>[0]): void {
    const record = this.#parts.lookup(entry.plugin);
    const audit = this.#parts.audit;
    if (record === undefined || audit === undefined) return;
    if (entry.data !== undefined) {
      // A summary of folded records (sandbox/audit-fold.ts): its counts are in data.
      const { who } = record;
      const decision = entry.allowed ? 'allow' : 'deny';
      audit.append({ principal: who.principal, ...(who.plugin === undefined ? {} : { plugin: who.plugin.digest }), action: entry.action, resource: entry.resource, decision, reason: entry.reason, data: entry.data });
      return;
    }
    audit.record({ identity: record.who, action: entry.action, resource: entry.resource, allowed: entry.allowed, reason: entry.reason, requested: entry.requested });
  }

  /**
   * A plugin's log record, to the registry's logger tagged with the plugin's identity
   * (`plugin: { id, publisher, name, version, digest }`), so a record names the signed
   * package that wrote it, not only a name any publisher could reuse.
   */
  log(plugin: string, record: Parameters<BackendHost['log']>[1]): void {
    const found = this.#parts.lookup(plugin);
    let logger = found === undefined ? undefined : this.#loggers.get(found);
    if (logger === undefined) {
      logger = this.#parts.logger.child({ plugin: found === undefined ? { id: plugin } : { ...found.observed } });
      if (found !== undefined) this.#loggers.set(found, logger);
    }
    logger[record.level](record.message, record.fields);
  }

  /** Host calls a plugin's gate decided, to the registry's observers. */
  hostCallCounts(plugin: string, counts: readonly HostCallCount[]): void {
    const found = this.#parts.lookup(plugin);
    if (found !== undefined) this.#parts.observers.hostCalls(found.observed, counts);
  }

  /** Subscribes to events plugins emit; returns an unsubscribe function. */
  onEvent(listener: PluginEventListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const at = this.#listeners.indexOf(listener);
      if (at !== -1) this.#listeners.splice(at, 1);
    };
  }

  /** Hands a plugin's event to every listener; a listener that throws is logged, not fatal. */
  event(plugin: string, name: string, payload: Uint8Array): void {
    for (const listener of this.#listeners) {
      try {
        listener(plugin, name, payload);
      } catch (error) {
        this.#parts.logger.warn('an event listener threw', { plugin, event: name, error: toForgeError(error).message });
      }
    }
  }

  /** Turns a plugin's anomaly into a security event, an audit record and, if configured, a quarantine. */
  anomaly(plugin: string, anomaly: Anomaly): void {
    const { lookup, audit } = this.#parts;
    this.#respond ??= anomalyResponder({
      telemetry: this.#parts.telemetry,
      ...(audit === undefined ? {} : { audit }),
      action: this.#parts.anomalyAction,
      principalOf: (key) => lookup(key)?.who.principal ?? `plugin:${key}`,
      quarantine: (key, found) => lookup(key)?.controller.quarantine(new ForgeError('FO_LIFECYCLE_QUARANTINED', `plugin ${key} quarantined: ${found.kind}: ${found.detail}`)),
    });
    const found = lookup(plugin);
    if (found !== undefined) this.#parts.observers.anomaly(found.observed, { kind: anomaly.kind, call: anomaly.call, detail: anomaly.detail });
    this.#respond({ ...anomaly, plugin });
  }
}

/**
 * The BackendHost a backend is created with, before the registry (and so its services)
 * exists: each callback asks `services()` when it is called.
 * @param services throws FO_REGISTRY_CLOSED until the registry is ready
 */
export function backendHost(services: () => HostServices): BackendHost {
  return {
    audit: (entry) => services().audit(entry),
    log: (plugin, record) => services().log(plugin, record),
    event: (plugin, event) => services().event(plugin, event.name, event.payload),
    anomaly: (plugin, anomaly) => services().anomaly(plugin, anomaly),
    hostCall: (plugin, name, request, fuel) => services().router.hostCall(plugin, name, request, fuel),
    // The backend's gate decides forge.call_plugin on its target plugin's name.
    hostCallResource: (_plugin, name, request) => services().router.hostCallResource(name, request),
    hostCallCounts: (plugin, counts) => services().hostCallCounts(plugin, counts),
  };
}
