/**
 * What the outside world learns of a plugin's lifecycle: every load and transition is a
 * telemetry event (`plugin.loaded`, `plugin.lifecycle.<state>` labelled with the plugin,
 * the state it left, the step that moved it and the code of a failure), and every transition an
 * audit record `plugin.lifecycle.<step>` (a failure or quarantine as `deny`, recorded at
 * every audit level; the rest at `decisions` and above).
 */
import { MetricType, TelemetryEvent, type PluginIdentity, type TelemetryBus } from '@forgeone/common';
import type { AuditLog } from '@forgeone/microkernel';
import type { Transition } from './controller.js';
import { PluginState } from './state.js';

/** The plugin a transition happened to. */
export interface ObservedPlugin {
  readonly id: string;
  readonly identity: PluginIdentity;
}

/** Where lifecycle observations go. */
export interface LifecycleObserverOptions {
  readonly telemetry: TelemetryBus;
  readonly audit: AuditLog | undefined;
  /** The host's principal, the actor of lifecycle records. */
  readonly principal: string;
  /** Also receives every transition (the registry's observers). */
  readonly forward?: (plugin: ObservedPlugin, transition: Transition) => void;
}

/** See the module comment. */
export class LifecycleObserver {
  readonly #options: LifecycleObserverOptions;

  constructor(options: LifecycleObserverOptions) {
    this.#options = options;
  }

  /** A plugin was loaded (`kind`: wasm or native). */
  loaded(plugin: ObservedPlugin, kind: string): void {
    const { identity } = plugin;
    this.#options.telemetry.record(new TelemetryEvent('plugin.loaded', MetricType.Counter, 1, { plugin_id: plugin.id, plugin_name: identity.name, version: identity.version, kind }));
  }

  /** A plugin moved between states. */
  transition(plugin: ObservedPlugin, transition: Transition): void {
    const { identity } = plugin;
    this.#options.telemetry.record(
      new TelemetryEvent(`plugin.lifecycle.${transition.to}`, MetricType.Counter, 1, {
        plugin_id: plugin.id,
        plugin_name: identity.name,
        version: identity.version,
        from: transition.from,
        // Both bounded sets (the entry points, the error catalog): labels stay low-cardinality.
        ...(transition.step === undefined ? {} : { step: transition.step }),
        ...(transition.error === undefined ? {} : { error_code: transition.error.code }),
      }),
    );
    this.#options.forward?.(plugin, transition);
    const audit = this.#options.audit;
    if (audit !== undefined && audit.shouldRecord(transition.error === undefined ? 'decision' : 'denial')) {
      audit.append({
        principal: this.#options.principal,
        plugin: identity.digest,
        action: `plugin.lifecycle.${transition.step ?? transition.to}`,
        resource: plugin.id,
        decision: transition.to === PluginState.Failed || transition.to === PluginState.Quarantined ? 'deny' : 'allow',
        reason: `${transition.from} -> ${transition.to}${transition.error === undefined ? '' : `: ${transition.error.code}: ${transition.error.message}`}`,
      });
    }
  }
}
