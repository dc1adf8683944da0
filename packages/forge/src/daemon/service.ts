/**
 * The daemon's plugins: the store it owns (plugin_directory), the registry that runs
 * them, and what each should be doing (desired state, persisted). Every operation of
 * the API on a plugin goes through here; operations on one plugin run one after
 * another (serial.ts), so a start and a stop sent at once never interleave.
 *
 * Start-up brings back what was running: every installed plugin is loaded (verified
 * again; one that no longer verifies is reported, not fatal to the others) and the
 * ones desired running or paused are started in dependency order.
 */
import { ForgeError, toForgeError, type Logger, type PluginIdentity } from '@forgeone/common';
import { PluginState, installPlan, type CallOptions, type InstallOptions, type InstallResult, type InstalledPlugin, type PlannedPlugin, type PermissionDiff, type PluginManager, type PluginInfo, type PluginStore, type PluginRegistry } from '@forgeone/plugin-manager';
import type { PluginLogs } from './logs.js';
import { Serial } from './serial.js';
import type { DaemonState, DesiredState } from './state.js';

/** A plugin as the API shows it: what is installed, what runs, what should run. */
export interface PluginView {
  readonly name: string;
  readonly version: string;
  readonly publisher: string;
  readonly attested: boolean;
  readonly digest: string;
  /** The registry's lifecycle state, or `not-loaded` when it is installed but not loaded (see loadError). */
  readonly state: PluginState | 'not-loaded';
  readonly desired: DesiredState;
  readonly restarts: number;
  readonly installedAt: string;
  readonly previousVersion: string | null;
  readonly permissions: InstalledPlugin['manifest']['permissions'];
  readonly dependencies: Readonly<Record<string, string>>;
  /** Why the last load failed (a revoked signer, a module that no longer prepares). */
  readonly loadError: { readonly code: string; readonly message: string } | null;
}

/** What an install or an upgrade did. */
export interface InstallOutcome {
  readonly action: 'installed' | 'upgraded' | 'downgraded' | 'unchanged';
  readonly from: string | null;
  readonly diff: PermissionDiff | null;
  readonly plugin: PluginView;
}

/** The lifecycle actions of the API. */
export type LifecycleAction = 'start' | 'stop' | 'pause' | 'resume' | 'restart' | 'unload' | 'load';

/** What the service is made of. */
export interface ServiceParts {
  readonly manager: PluginManager;
  readonly store: PluginStore;
  readonly state: DaemonState;
  readonly logs: PluginLogs;
  readonly logger: Logger;
  /** Asked with each package's verified identity before the store writes it (the marketplace's revocations); throwing refuses the install. */
  readonly admit?: (identity: PluginIdentity) => void;
}

const ACTIVE = new Set<PluginState>([PluginState.Running, PluginState.Paused]);

/** See the module comment. */
export class PluginService {
  readonly #registry: PluginRegistry;
  readonly #manager: PluginManager;
  readonly #store: PluginStore;
  readonly #state: DaemonState;
  readonly #logs: PluginLogs;
  readonly #logger: Logger;
  readonly #admit: ((identity: PluginIdentity) => void) | undefined;
  readonly #serial = new Serial();
  readonly #loadErrors = new Map<string, ForgeError>();

  constructor(parts: ServiceParts) {
    this.#manager = parts.manager;
    this.#registry = parts.manager.registry;
    this.#store = parts.store;
    this.#state = parts.state;
    this.#logs = parts.logs;
    this.#logger = parts.logger;
    this.#admit = parts.admit;
  }

  /** `options` with the service's admission check added (before the caller's own, if any). */
  #admitting<T extends InstallOptions>(options: T): T {
    const own = this.#admit;
    if (own === undefined) return options;
    const theirs = options.admit;
    const admit = (identity: PluginIdentity): void => {
      own(identity);
      theirs?.(identity);
    };
    return { ...options, admit };
  }

  /** The registry the plugins run in (for observers: events, telemetry). */
  get registry(): PluginRegistry {
    return this.#registry;
  }

  /** Loads every installed plugin and starts those desired running or paused; never throws for one plugin. */
  async restore(): Promise<{ readonly started: string[]; readonly failed: { readonly plugin: string; readonly code: string }[] }> {
    const installed = await this.#store.list();
    const desired = this.#state.desired();
    const failed: { plugin: string; code: string }[] = [];
    for (const plugin of installed) {
      try {
        await this.#load(plugin);
      } catch (error) {
        failed.push({ plugin: plugin.name, code: toForgeError(error).code });
      }
    }
    const started: string[] = [];
    for (const plugin of installed) {
      const want = desired.get(plugin.name) ?? 'stopped';
      if (want === 'stopped' || !this.#isLoaded(plugin.name)) continue;
      try {
        await this.#registry.startPlugin(plugin.name);
        if (want === 'paused') await this.#registry.pausePlugin(plugin.name);
        started.push(plugin.name);
      } catch (error) {
        const failure = toForgeError(error);
        this.#logger.warn('a plugin could not be brought back to its desired state', { plugin: plugin.name, desired: want, code: failure.code, error: failure.message });
        failed.push({ plugin: plugin.name, code: failure.code });
      }
    }
    return { started, failed };
  }

  /** Every installed plugin. */
  async list(): Promise<PluginView[]> {
    const loaded = new Map(this.#registry.list().map((info) => [info.id, info]));
    const desired = this.#state.desired();
    return (await this.#store.list()).map((plugin) => this.#view(plugin, loaded.get(plugin.name), desired.get(plugin.name)));
  }

  /** One installed plugin. @throws ForgeError FO_STORE_NOT_INSTALLED, FO_STORE_INVALID_NAME */
  async get(name: string): Promise<PluginView> {
    const plugin = await this.#store.get(name);
    return this.#view(plugin, this.#loadedInfo(name), this.#state.desiredOf(name));
  }

  /**
   * Runs a lifecycle action and records the state the plugin should come back to.
   * @throws ForgeError FO_STORE_NOT_INSTALLED, FO_LIFECYCLE_*, FO_DEPS_*, the load and backend codes
   */
  lifecycle(name: string, action: LifecycleAction): Promise<PluginView> {
    return this.#serial.run(name, async () => {
      const plugin = await this.#store.get(name);
      const registry = this.#registry;
      switch (action) {
        case 'load':
          await this.#ensureLoaded(plugin);
          break;
        case 'start':
          await this.#ensureLoaded(plugin);
          await registry.startPlugin(name);
          this.#state.setDesired(name, 'running');
          this.#keepDependenciesRunning(name);
          break;
        case 'stop':
          if (this.#isLoaded(name)) await registry.stopPlugin(name);
          this.#state.setDesired(name, 'stopped');
          break;
        case 'pause':
          await registry.pausePlugin(name);
          this.#state.setDesired(name, 'paused');
          break;
        case 'resume':
          await registry.resumePlugin(name);
          this.#state.setDesired(name, 'running');
          break;
        case 'restart':
          await this.#ensureLoaded(plugin);
          if (ACTIVE.has(registry.get(name).state)) await registry.stopPlugin(name);
          await registry.startPlugin(name);
          this.#state.setDesired(name, 'running');
          this.#keepDependenciesRunning(name);
          break;
        case 'unload':
          if (this.#isLoaded(name)) await registry.unloadPlugin(name);
          this.#state.setDesired(name, 'stopped');
          break;
      }
      return this.get(name);
    });
  }

  /**
   * Calls an export of a running plugin; `options` carries the caller's W3C trace context.
   * @throws ForgeError FO_REGISTRY_NOT_FOUND (not loaded), FO_LIFECYCLE_NOT_RUNNING, the call's codes
   */
  call(name: string, exportName: string, input: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    return this.#registry.call(name, exportName, input, options);
  }

  /**
   * Installs or upgrades from a package (its bytes, or a path on the daemon's host), then
   * loads the new version in place of the old; a plugin that was running runs the new
   * version, and `start` starts a plugin that was not.
   * @throws ForgeError the store's codes (FO_STORE_APPROVAL_REQUIRED with the diff, FO_VERIFY_*, ...), the load codes
   */
  async install(source: string | Uint8Array, options: InstallOptions & { readonly start?: boolean } = {}): Promise<InstallOutcome> {
    return this.#loadInstalled(await this.#store.install(source, this.#admitting(options)), options.start === true);
  }

  /**
   * Installs plugins pulled from a registry (dependencies first, the plugin asked for last:
   * planFromRegistry's order) through the same store install as an upload; if any is
   * refused, the ones this call installed are removed again (installPlan). Then each is
   * loaded, and `start` starts the last. @returns one outcome per plugin, in `plan`'s order
   * @throws ForgeError the codes of {@link install}
   */
  async installPlan(plan: readonly PlannedPlugin[], options: InstallOptions & { readonly start?: boolean } = {}): Promise<InstallOutcome[]> {
    const results = await installPlan(this.#store, plan, this.#admitting(options));
    const outcomes: InstallOutcome[] = [];
    for (const [position, result] of results.entries()) outcomes.push(await this.#loadInstalled(result, options.start === true && position === results.length - 1));
    return outcomes;
  }

  /** Loads what the store just installed in place of the loaded version (see {@link install}). */
  #loadInstalled(result: InstallResult, start: boolean): Promise<InstallOutcome> {
    const name = result.plugin.name;
    return this.#serial.run(name, async () => {
      if (result.action !== 'unchanged' || !this.#isLoaded(name)) await this.#reload(result.plugin, start);
      else if (start) await this.#start(name);
      return { action: result.action, from: result.from ?? null, diff: result.diff ?? null, plugin: await this.get(name) };
    });
  }

  /**
   * Switches back to the version the last upgrade replaced and runs it as the newer one ran.
   * @throws ForgeError FO_STORE_NOT_INSTALLED, FO_STORE_NO_PREVIOUS, the load codes
   */
  rollback(name: string): Promise<PluginView> {
    return this.#serial.run(name, async () => {
      const plugin = await this.#store.rollback(name);
      await this.#reload(plugin, false);
      return this.get(name);
    });
  }

  /**
   * Stops, unloads and removes a plugin and what the daemon kept about it.
   * @throws ForgeError FO_STORE_NOT_INSTALLED, FO_STORE_INVALID_NAME, FO_LIFECYCLE_*
   */
  uninstall(name: string): Promise<{ readonly name: string; readonly version: string | null }> {
    return this.#serial.run(name, async () => {
      if (this.#isLoaded(name)) await this.#registry.unloadPlugin(name);
      const removed = await this.#store.uninstall(name);
      this.#state.forget(name);
      this.#logs.forget(name);
      this.#loadErrors.delete(name);
      return { name: removed.name, version: removed.version ?? null };
    });
  }

  /** Waits for every operation in progress, then stops every plugin (dependents first) and closes the registry. Desired states are kept. */
  async close(): Promise<void> {
    await this.#serial.idle();
    try {
      await this.#manager.stopAll();
    } catch (error) {
      this.#logger.warn('stopping the plugins failed; unloading them anyway', { error: toForgeError(error).message });
    }
    await this.#manager.close();
  }

  /**
   * Records the plugins `name` depends on, which starting it started, as desired running:
   * what the operator sees (and a restart brings back) matches what runs.
   */
  #keepDependenciesRunning(name: string, seen = new Set<string>()): void {
    for (const dependency of Object.keys(this.#loadedInfo(name)?.dependencies ?? {})) {
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      const info = this.#loadedInfo(dependency);
      if (info === undefined || !ACTIVE.has(info.state)) continue;
      const desired = this.#state.desiredOf(dependency);
      if (desired === undefined || desired === 'stopped') this.#state.setDesired(dependency, 'running');
      this.#keepDependenciesRunning(dependency, seen);
    }
  }

  /** The loaded plugin `name`, if it is loaded: one lookup, not the whole list (restore asks once per installed plugin). */
  #loadedInfo(name: string): PluginInfo | undefined {
    try {
      return this.#registry.get(name);
    } catch (error) {
      if (ForgeError.is(error, 'FO_REGISTRY_NOT_FOUND')) return undefined;
      throw error;
    }
  }

  #isLoaded(name: string): boolean {
    return this.#loadedInfo(name) !== undefined;
  }

  async #ensureLoaded(plugin: InstalledPlugin): Promise<void> {
    if (!this.#isLoaded(plugin.name)) await this.#load(plugin);
  }

  async #load(plugin: InstalledPlugin): Promise<void> {
    try {
      await this.#registry.loadPlugin(plugin.paths.package);
      this.#loadErrors.delete(plugin.name);
    } catch (error) {
      const failure = toForgeError(error);
      this.#loadErrors.set(plugin.name, failure);
      this.#logger.warn('an installed plugin could not be loaded', { plugin: plugin.name, code: failure.code, error: failure.message });
      throw failure;
    }
  }

  async #start(name: string): Promise<void> {
    await this.#registry.startPlugin(name);
    this.#state.setDesired(name, 'running');
  }

  /** Replaces the loaded version with the installed one, keeping it running if it ran. */
  async #reload(plugin: InstalledPlugin, start: boolean): Promise<void> {
    const name = plugin.name;
    const desired = this.#state.desiredOf(name) ?? 'stopped';
    if (this.#isLoaded(name)) await this.#registry.unloadPlugin(name);
    await this.#load(plugin);
    if (start || desired !== 'stopped') await this.#start(name);
    if (!start && desired === 'paused') {
      await this.#registry.pausePlugin(name);
      this.#state.setDesired(name, 'paused');
    }
  }

  #view(plugin: InstalledPlugin, loaded: PluginInfo | undefined, desired: DesiredState | undefined): PluginView {
    const error = this.#loadErrors.get(plugin.name);
    return {
      name: plugin.name,
      version: loaded?.version ?? plugin.version,
      publisher: plugin.identity.publisher,
      attested: plugin.identity.attested,
      digest: loaded?.digest ?? plugin.identity.digest,
      state: loaded?.state ?? 'not-loaded',
      desired: desired ?? 'stopped',
      restarts: loaded?.restarts ?? 0,
      installedAt: plugin.installedAt,
      previousVersion: plugin.previous?.version ?? null,
      permissions: plugin.manifest.permissions,
      dependencies: plugin.manifest.dependencies,
      loadError: error === undefined ? null : { code: error.code, message: error.message },
    };
  }
}
