/**
 * The registry's table of loaded plugins: admission (one plugin per name, at most
 * `max_plugins`), the record of each with its lifecycle controller wired to the
 * observer and the supervisor, and the creation of a plugin's instance on the backend
 * when its first lifecycle step runs.
 */
import { ForgeError, type IdentityContext, type PluginIdentity } from '@forgeone/common';
import type { DeclaredExtensions, ExtensionPoints } from '../extension/index.js';
import { LifecycleController, type LifecycleObserver, type Supervisor } from '../lifecycle/index.js';
import type { EntryPointName } from '../plugin/index.js';
import type { Tracing } from '../metrics/index.js';
import type { IsolationBackend, PluginHandle } from '../sandbox/index.js';
import { observedPlugin } from './observers.js';
import { runNativeStep } from './native.js';
import type { PluginRecord } from './record.js';
import { replay, replaySteps } from './replay.js';
import type { Candidate } from './resolver.js';

/** What a new plugin is made of. */
export interface NewPlugin extends Pick<PluginRecord, 'id' | 'identity' | 'kind' | 'dependencies' | 'lazy' | 'timeoutMs' | 'spec' | 'native'> {
  /** The loader's identity; the plugin's host calls act as it, for this plugin. */
  readonly loader: IdentityContext;
  readonly declared: DeclaredExtensions;
}

/** What the table wires each plugin to. */
export interface PluginTableParts {
  readonly backend: IsolationBackend;
  readonly supervisor: Supervisor;
  readonly observer: LifecycleObserver;
  readonly extensions: ExtensionPoints;
  /** `max_plugins`. */
  readonly maxPlugins: number;
  /** Puts each lifecycle step in a span, when tracing. */
  readonly tracing: Tracing | undefined;
}

/** See the module comment. */
export class PluginTable {
  readonly #parts: PluginTableParts;
  readonly #plugins = new Map<string, PluginRecord>();
  /** Instances whose lifecycle steps are being re-run after their backend re-created them. */
  readonly #replays = new WeakMap<PluginHandle, Promise<unknown>>();

  constructor(parts: PluginTableParts) {
    this.#parts = parts;
  }

  /**
   * Refuses a plugin the registry cannot take.
   * @throws ForgeError FO_REGISTRY_DUPLICATE, FO_REGISTRY_FULL
   */
  admit(name: string): void {
    if (this.#plugins.has(name)) throw new ForgeError('FO_REGISTRY_DUPLICATE', `a plugin named ${name} is already loaded`, { details: { plugin: name } });
    const limit = this.#parts.maxPlugins;
    if (this.#plugins.size >= limit) throw new ForgeError('FO_REGISTRY_FULL', `the registry already holds max_plugins (${limit}) plugins`, { details: { limit } });
  }

  /** The plugin loaded as `id`, if any. */
  find(id: string): PluginRecord | undefined {
    return this.#plugins.get(id);
  }

  /**
   * The plugin loaded as `id`.
   * @throws ForgeError FO_REGISTRY_NOT_FOUND
   */
  get(id: string): PluginRecord {
    const record = this.#plugins.get(id);
    if (record === undefined) throw new ForgeError('FO_REGISTRY_NOT_FOUND', `no plugin ${JSON.stringify(id.slice(0, 80))} is loaded`, { details: { plugin: id } });
    return record;
  }

  /** Every loaded plugin, in load order. */
  values(): PluginRecord[] {
    return [...this.#plugins.values()];
  }

  /** The versions of `name` available to the dependency resolver: the loaded one, if any. */
  candidates(name: string): Candidate[] {
    const record = this.#plugins.get(name);
    return record === undefined ? [] : [{ name, version: record.identity.version, dependencies: record.dependencies }];
  }

  /** Adds an admitted plugin, in state Created. */
  add(plugin: NewPlugin): PluginRecord {
    const { supervisor, observer } = this.#parts;
    const identity: PluginIdentity = plugin.identity;
    const record: PluginRecord = {
      id: plugin.id,
      identity,
      observed: observedPlugin(plugin.id, identity),
      who: plugin.loader.forPlugin(identity),
      kind: plugin.kind,
      dependencies: plugin.dependencies,
      crashes: supervisor.history(),
      lazy: plugin.lazy,
      timeoutMs: plugin.timeoutMs,
      handle: undefined,
      restartTimer: undefined,
      ...(plugin.spec === undefined ? {} : { spec: plugin.spec }),
      ...(plugin.native === undefined ? {} : { native: plugin.native }),
      controller: new LifecycleController(plugin.id, { preparesFirst: true, lifecycle: (step, started) => this.#step(record, step, started) }, { timeoutMs: plugin.timeoutMs, observer: (transition) => observer.transition(record, transition) }),
    };
    this.#plugins.set(record.id, record);
    this.#parts.extensions.add(record.id, plugin.declared);
    observer.loaded(record, record.kind);
    return record;
  }

  /** Removes an unloaded plugin and what it offered, declared and registered. */
  remove(record: PluginRecord): void {
    if (this.#plugins.get(record.id) !== record) return;
    this.#parts.extensions.remove(record.id);
    this.#plugins.delete(record.id);
  }

  /** True while `handle`'s lifecycle steps are being re-run on a re-created instance (calls into it are refused meanwhile). */
  replaying(handle: PluginHandle): boolean {
    return this.#replays.has(handle);
  }

  /** Runs a lifecycle step, in a span when tracing. */
  #step(record: PluginRecord, step: EntryPointName, started: () => void): Promise<boolean> {
    const tracing = this.#parts.tracing;
    return tracing === undefined ? this.#runStep(record, step, started) : tracing.lifecycle(record.observed, step, () => this.#runStep(record, step, started));
  }

  /**
   * Runs a lifecycle step on the plugin's instance, creating the instance first if needed
   * (under the backend's load limit, not the plugin's: `started` marks where the entry
   * point's own time begins).
   */
  async #runStep(record: PluginRecord, step: EntryPointName, started: () => void): Promise<boolean> {
    if (record.native !== undefined) {
      started();
      return runNativeStep(record.native, step);
    }
    if (record.spec === undefined) return false;
    if (record.handle === undefined) {
      const handle = await this.#parts.backend.load(record.spec);
      record.handle = handle;
      // A poisoned instance is a crash of this plugin; an instance its backend re-created
      // through no fault of the plugin (a neighbour replaced their worker) is not (replay.ts).
      handle.onEvent((event) => {
        if (record.handle !== handle) return;
        if (event.type === 'poisoned') this.#parts.supervisor.crashed(record, event.fault);
        else this.#replay(record, handle);
      });
    }
    started();
    return record.handle.lifecycle(step);
  }

  /** Re-runs the entry points that brought the plugin to its state on a re-created instance; a failure of its own is a crash. */
  #replay(record: PluginRecord, handle: PluginHandle): void {
    const replaying = replay(handle, replaySteps(record.controller.state));
    this.#replays.set(handle, replaying);
    void replaying.then((failure) => {
      if (this.#replays.get(handle) === replaying) this.#replays.delete(handle);
      if (failure !== undefined && record.handle === handle) this.#parts.supervisor.crashed(record, failure);
    });
  }
}
