/**
 * PluginManager: the registration modes of the original design on top of a registry.
 *
 * - **Dynamic registration**: `register(plugin)` adds a native TypeScript plugin with the
 *   same lifecycle as a wasm plugin.
 * - **Static loading**: `loadInstalled()` loads every plugin installed in
 *   plugin_directory (the store), verified again as it loads.
 * - **Dynamic loading**: `load(path)` loads a `.forgepkg` at run time.
 * - **Lazy initialisation**: any of them with `{ lazy: true }` initialises and starts the
 *   plugin on its first call.
 */
import type { LoadOptions, NativeOptions, PluginRegistry } from './registry.js';
import type { NativePlugin } from './native.js';
import { PluginState } from '../lifecycle/index.js';
import { startOrder } from './resolver.js';
import type { PluginStore } from './store/index.js';

/** See the module comment. */
export class PluginManager {
  readonly registry: PluginRegistry;
  readonly store: PluginStore | undefined;

  constructor(registry: PluginRegistry, store?: PluginStore) {
    this.registry = registry;
    this.store = store;
  }

  /**
   * Adds a native plugin.
   * @returns its id
   * @throws ForgeError FO_REGISTRY_CLOSED, FO_REGISTRY_INVALID_PLUGIN, FO_REGISTRY_DUPLICATE, FO_REGISTRY_FULL
   */
  register(plugin: NativePlugin, options: NativeOptions = {}): string {
    return this.registry.registerNative(plugin, options);
  }

  /**
   * Loads a `.forgepkg` at run time (`registry.loadPlugin`; a refusal is audited).
   * @returns its id
   * @throws ForgeError the codes of `PluginRegistry.loadPlugin`
   */
  load(source: string | Uint8Array, options: LoadOptions = {}): Promise<string> {
    return this.registry.loadPlugin(source, options);
  }

  /**
   * Loads every installed plugin (static loading at start-up), in dependency order.
   * @returns their ids
   * @throws ForgeError FO_DEPS_CYCLE, FO_STORE_CORRUPT, FO_IO_*, and the load codes of the
   *   first plugin that fails (its refusal is audited; the plugins loaded before it stay loaded)
   */
  async loadInstalled(options: LoadOptions = {}): Promise<string[]> {
    if (this.store === undefined) return [];
    const installed = await this.store.list();
    const ordered = startOrder(installed.map((plugin) => ({ name: plugin.name, version: plugin.version, dependencies: plugin.manifest.dependencies, plugin })));
    const ids: string[] = [];
    for (const entry of ordered) ids.push(await this.load(entry.plugin.paths.package, options));
    return ids;
  }

  /**
   * Starts every loaded plugin that is not lazy, dependencies first.
   * @throws ForgeError the codes of `PluginRegistry.startPlugin` for the first that fails
   */
  async startAll(): Promise<void> {
    for (const info of this.registry.list()) {
      if (info.lazy) continue;
      const state = this.registry.get(info.id).state;
      if (state !== PluginState.Running && state !== PluginState.Paused) await this.registry.startPlugin(info.id);
    }
  }

  /**
   * Stops every running plugin, dependents first.
   * @throws ForgeError the codes of `PluginRegistry.stopPlugin` for the first that fails
   */
  async stopAll(): Promise<void> {
    const running = this.registry.list().filter((info) => info.state === PluginState.Running || info.state === PluginState.Paused);
    for (const info of startOrder(running.map((plugin) => ({ name: plugin.id, version: plugin.version, dependencies: plugin.dependencies }))).reverse()) {
      const state = this.registry.get(info.name).state;
      if (state === PluginState.Running || state === PluginState.Paused) await this.registry.stopPlugin(info.name);
    }
  }

  /** Stops and unloads everything and closes the registry; a plugin failing to unload is logged, not thrown. */
  async close(): Promise<void> {
    await this.registry.close();
  }
}
