/**
 * What a registry reports to its observers (`PluginRegistry.observe`): every plugin call
 * with its numbers, every lifecycle transition, every anomaly, and the host calls its
 * plugins' gates decided. The metrics and tracing in this folder are observers; so can
 * be a host's own code. Observers run synchronously on the host thread and must be
 * quick; one that throws is logged and the others still run.
 */
import type { HostCallCount } from '@forgeone/microkernel';
import type { Transition } from '../lifecycle/index.js';
import type { HostCallRecord } from '../sandbox/index.js';

/** Who a report is about: the plugin's registry id and its signed identity. */
export interface ObservedPlugin {
  readonly id: string;
  readonly publisher: string;
  readonly name: string;
  readonly version: string;
  /** The package digest (`sha256:...`). */
  readonly digest: string;
}

/** One plugin call, reported when it settled. */
export interface CallReport {
  readonly plugin: ObservedPlugin;
  /** The export called. The plugin chooses its export names: do not use them as metric labels. */
  readonly export: string;
  /** The calling plugin's id for a call made with forge.call_plugin; undefined for a call of the host (API, host code). */
  readonly caller: string | undefined;
  /** When the call started, in ms since the epoch (fractional). */
  readonly startTime: number;
  /** How long it took, in seconds: from the registry taking it (waiting for a paused plugin included) to its answer. */
  readonly durationSeconds: number;
  /** `ok`, or the ForgeError code it failed with (a catalog code). */
  readonly outcome: string;
  /** Fuel it used, in units (0 when not metered or native). */
  readonly fuelUsed: bigint;
  /** The plugin's linear memory after the call, in bytes; undefined for a native plugin or a call that did not reach the instance. */
  readonly memoryBytes: number | undefined;
  /** The host calls it made, when it was traced (at most MAX_TRACED_HOST_CALLS). */
  readonly hostCalls: readonly HostCallRecord[];
  /** Host calls made beyond those recorded. */
  readonly droppedHostCalls: number;
}

/** An anomaly the plugin's detector found (microkernel/anomaly). */
export interface ObservedAnomaly {
  /** `rate_spike`, `denial_burst` or `first_use`. */
  readonly kind: string;
  readonly call: string;
  readonly detail: string;
}

/** Receives what a registry reports. Every method is optional. */
export interface RegistryObserver {
  /** A plugin call settled (from the API, host code, or another plugin). */
  call?(report: CallReport): void;
  /** A plugin moved between lifecycle states. */
  transition?(plugin: ObservedPlugin, transition: Transition): void;
  /** A plugin's anomaly detector reported. */
  anomaly?(plugin: ObservedPlugin, anomaly: ObservedAnomaly): void;
  /** Host calls a plugin's gate decided since the last report, by call and decision (increments). */
  hostCalls?(plugin: ObservedPlugin, counts: readonly HostCallCount[]): void;
}
