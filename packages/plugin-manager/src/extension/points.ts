/**
 * Extension points: a plugin (or the host) offers a named point; plugins implement it,
 * declared in their manifest (`extensions = [{ point, export }]`) or registered at run
 * time with `forge.register_extension`. The host lists and invokes the implementations
 * of Running plugins; unloading a plugin removes what it offered, declared and
 * registered. The table is private to its owner: others read it through methods.
 */
import { ForgeError, toForgeError } from '@forgeone/common';
import { POINT } from './codec.js';

/** One implementation of an extension point. */
export interface ExtensionImplementation {
  readonly point: string;
  /** The implementing plugin's id. */
  readonly plugin: string;
  readonly export: string;
  /** `manifest` (declared) or `runtime` (forge.register_extension). */
  readonly source: 'manifest' | 'runtime';
}

/** What a plugin's manifest says about extension points. */
export interface DeclaredExtensions {
  /** Points it offers. */
  readonly offers: readonly string[];
  /** Points it implements, with the export that implements each. */
  readonly implements: readonly { readonly point: string; readonly export: string }[];
}

/** One invocation's outcome: the output, or the error it failed with. */
export interface InvocationResult {
  readonly plugin: string;
  readonly output?: Uint8Array;
  readonly error?: ForgeError;
}

interface Entry {
  readonly declared: DeclaredExtensions;
  readonly runtime: ExtensionImplementation[];
}

/** The extension points and implementations of one registry's plugins and host. */
export class ExtensionPoints {
  readonly #hostPoints = new Set<string>();
  /** By plugin id, in load order (which is the order implementations are listed in). */
  readonly #plugins = new Map<string, Entry>();

  /**
   * Declares a point the host itself offers (plugins may implement it).
   * @throws ForgeError FO_ABI_BAD_REQUEST for a name that is not an extension point name
   */
  declareHostPoint(point: string): void {
    if (!POINT.test(point)) throw new ForgeError('FO_ABI_BAD_REQUEST', `extension point names are 1-128 of a-z 0-9 . _ / -, found ${JSON.stringify(point)}`);
    this.#hostPoints.add(point);
  }

  /** The points the host offers, sorted. */
  hostPoints(): string[] {
    return [...this.#hostPoints].sort();
  }

  /** True when the host or any loaded plugin offers `point`. */
  offered(point: string): boolean {
    if (this.#hostPoints.has(point)) return true;
    for (const entry of this.#plugins.values()) if (entry.declared.offers.includes(point)) return true;
    return false;
  }

  /** Adds a loaded plugin's declarations. */
  add(plugin: string, declared: DeclaredExtensions): void {
    this.#plugins.set(plugin, { declared, runtime: [] });
  }

  /** Forgets everything of `plugin` (on unload). */
  remove(plugin: string): void {
    this.#plugins.delete(plugin);
  }

  /**
   * Records a runtime registration by `plugin` (forge.register_extension); registering
   * the same pair twice is a no-op.
   * @throws ForgeError FO_EXTENSION_UNKNOWN_POINT when neither the host nor a loaded plugin offers `point`
   */
  register(plugin: string, point: string, exportName: string): void {
    if (!this.offered(point)) throw new ForgeError('FO_EXTENSION_UNKNOWN_POINT', `no loaded plugin or the host offers extension point ${point}`, { details: { point } });
    const entry = this.#plugins.get(plugin);
    if (entry === undefined) return;
    if (!entry.runtime.some((known) => known.point === point && known.export === exportName)) entry.runtime.push({ point, plugin, export: exportName, source: 'runtime' });
  }

  /** The implementations of `point` among plugins `running` says are Running: declared first, then registered, plugin by plugin in load order. */
  implementations(point: string, running: (plugin: string) => boolean): ExtensionImplementation[] {
    const out: ExtensionImplementation[] = [];
    for (const [plugin, entry] of this.#plugins) {
      if (!running(plugin)) continue;
      for (const declared of entry.declared.implements) if (declared.point === point) out.push({ point, plugin, export: declared.export, source: 'manifest' });
      for (const registered of entry.runtime) if (registered.point === point) out.push(registered);
    }
    return out;
  }
}

/** Calls every implementation in turn; one failing does not stop the others. */
export async function invokeEach(
  implementations: readonly ExtensionImplementation[],
  input: Uint8Array,
  call: (plugin: string, exportName: string, input: Uint8Array) => Promise<Uint8Array>,
): Promise<InvocationResult[]> {
  const results: InvocationResult[] = [];
  for (const implementation of implementations) {
    try {
      results.push({ plugin: implementation.plugin, output: await call(implementation.plugin, implementation.export, input) });
    } catch (error) {
      results.push({ plugin: implementation.plugin, error: toForgeError(error) });
    }
  }
  return results;
}
