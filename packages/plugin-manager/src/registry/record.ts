/**
 * What the registry keeps for each loaded plugin, and what it reports about one.
 */
import type { IdentityContext, PluginIdentity } from '@forgeone/common';
import type { CrashHistory, LifecycleController, PluginState } from '../lifecycle/index.js';
import type { PluginHandle, PluginSpec } from '../sandbox/index.js';
import type { ObservedPlugin } from '../metrics/index.js';
import type { NativePlugin } from './native.js';

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

/** One loaded plugin: its identity, its lifecycle, and its instance when it has one. */
export interface PluginRecord {
  readonly id: string;
  readonly identity: PluginIdentity;
  /** Its id and identity as observers see them (made once). */
  readonly observed: ObservedPlugin;
  /** The identity its host calls act as (the loader's IdentityContext, for this plugin). */
  readonly who: IdentityContext;
  readonly kind: 'wasm' | 'native';
  readonly dependencies: Readonly<Record<string, string>>;
  readonly controller: LifecycleController;
  readonly crashes: CrashHistory;
  readonly lazy: boolean;
  /** Time limit of each lifecycle step and of waiting for a paused plugin, in ms. */
  readonly timeoutMs: number;
  readonly spec?: PluginSpec;
  readonly native?: NativePlugin;
  handle: PluginHandle | undefined;
  restartTimer: NodeJS.Timeout | undefined;
}

/** The report of one plugin. */
export function pluginInfo(record: PluginRecord): PluginInfo {
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
