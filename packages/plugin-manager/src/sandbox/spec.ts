/**
 * The contract between the registry and the isolation backends that host plugin
 * instances (inline on the host thread, pooled on worker threads, confined processes).
 *
 * A {@link PluginSpec} is plain, structured-clonable data (plus a compiled
 * `WebAssembly.Module`, which can be posted to a worker without recompiling): a backend
 * rebuilds everything a plugin needs inside its own thread or process from it: the
 * policy gate, the WASI context, the forge.* host functions, the fuel budget. What must
 * stay on the host thread (the audit log, the host application's own host calls, event
 * listeners, the logger, anomaly responses) is reached through {@link BackendHost}.
 */
import type { AuditData, AuditDecisionReport, AuditLevel, CallSpec, Ceiling, CedarMode, HostCallCount, PluginGrant } from '@forgeone/microkernel';
import type { ForgeError, LogRecord, PluginIdentity } from '@forgeone/common';
import type { AbiLimits, EntryPoints } from '../abi/index.js';
import type { EntryPointName } from '../plugin/index.js';
import type { CompiledModule } from '../runtime/index.js';
import type { HostCallLimitsInput, PluginConfig, PluginEvent, VolumeMapping } from '../syscall/index.js';
import type { Anomaly, AnomalyOptions } from '@forgeone/microkernel';

/** The operator policy as data: grants by plugin name, network access and Cedar source. */
export interface PolicySpec {
  readonly networkAccess: 'none' | 'restricted' | 'full';
  readonly grants: Readonly<Record<string, PluginGrant>>;
  readonly cedar?: { readonly text: string; readonly mode: CedarMode; readonly source: string };
}

/** Everything a backend needs to host one plugin instance. */
export interface PluginSpec {
  /** Unique among the plugins a registry has loaded. */
  readonly id: string;
  readonly identity: PluginIdentity;
  /** The host identity's name (IdentityContext.host). */
  readonly host: string;
  /** The prepared (analysed, instrumented) module, compiled once. */
  readonly module: CompiledModule;
  /**
   * The prepared module's bytes (what `module` was compiled from): the process backend
   * sends them to its sandbox, which compiles them there. Optional for the others.
   */
  readonly moduleBytes?: Uint8Array;
  /** The fuel counter's export, when the module is metered. */
  readonly fuelExport: string | undefined;
  /** True when the module imports any wasi_snapshot_preview1 function. */
  readonly usesWasi: boolean;
  readonly entryPoints: EntryPoints;
  /** Fuel per call and per lifecycle step, in units. */
  readonly fuelPerCall: bigint;
  /** Wall-clock limit per call and lifecycle step, in ms (the last resort behind fuel). */
  readonly timeoutMs: number;
  /** The plugin's signed permissions. */
  readonly ceiling: Ceiling;
  readonly policy: PolicySpec;
  readonly auditLevel: AuditLevel;
  /**
   * Allowed audit records one call (an export or a lifecycle step) writes one by one;
   * the rest are counted into one `audit.folded` record when the call ends
   * (`audit.max_call_records`, audit-fold.ts). Denials are never folded. Absent: none
   * are folded.
   */
  readonly auditMaxCallRecords?: number;
  /** Anomaly detection for the plugin's calls (`policy.anomaly`); absent: on, with the defaults. */
  readonly anomaly?: { readonly enabled: boolean; readonly options: Partial<AnomalyOptions> };
  readonly wasi: {
    readonly args: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    readonly preopens: readonly { readonly host: string; readonly guest: string; readonly readOnly: boolean }[];
    readonly maxOpenFiles: number;
  };
  readonly hostCalls: {
    readonly config: PluginConfig;
    /** `<plugin_directory>/<name>/data`; absent: no key-value store. */
    readonly kvDirectory?: string;
    readonly explicitHosts: readonly string[];
    readonly volumes: readonly VolumeMapping[];
    readonly limits?: HostCallLimitsInput;
    /**
     * Host calls served on the host thread by {@link BackendHost.hostCall}: the host
     * application's and the registry's own. A name alone stands for a call already in
     * the built-in catalog, or else one that needs listing in permissions.syscalls and
     * touches nothing nameable (SyscallBridge.register's defaults); give the CallSpec
     * (`registeredCallSpecs(bridge)`) when the call names a resource, so the backend's
     * gate decides it like the host's would.
     */
    readonly registered: readonly (string | CallSpec)[];
  };
  readonly abiLimits?: Partial<AbiLimits>;
  /**
   * Build the instance so that its host calls can be recorded for tracing (a
   * {@link CallProbe} with `traceHostCalls`): each import is wrapped to time it.
   * Default false: imports are bound as they are and no call records host calls.
   */
  readonly traceHostCalls?: boolean;
  /**
   * Count the plugin's host calls by call and decision, reported through
   * {@link BackendHost.hostCallCounts} (telemetry.metrics_enabled). Default false.
   */
  readonly countHostCalls?: boolean;
}

/** Host calls recorded per call at most; later ones are only counted ({@link CallProbe.droppedHostCalls}). */
export const MAX_TRACED_HOST_CALLS = 64;

/** One host call a plugin made during a traced call. */
export interface HostCallRecord {
  /** The import's name, `wasi_snapshot_preview1.fd_write` or `forge.kv_get`. */
  readonly call: string;
  /** What the gate decided (`deny` also for a refusal made outside policy). */
  readonly decision: 'allow' | 'deny';
  /** The kind of resource the call touches in the policy catalog (`path`, `host`, `kv`, `plugin`, `none`). */
  readonly resourceKind: string;
  /** When the host call started and ended, in ms since the epoch (fractional). */
  readonly start: number;
  readonly end: number;
}

/**
 * What a backend reports about one call when its caller asks: pass a probe to
 * {@link PluginHandle.call} and read it once the call settled (fulfilled or rejected).
 * Without a probe a call costs nothing more.
 */
export interface CallProbe {
  /** Set by the caller: record the host calls the plugin makes (needs a spec built with traceHostCalls). */
  readonly traceHostCalls: boolean;
  /** Fuel the call used, in units, at most its budget (0 when not metered). */
  fuelUsed: bigint;
  /** The plugin's linear memory after the call, in bytes (0 when unknown: the call did not run). */
  memoryBytes: number;
  /** The first {@link MAX_TRACED_HOST_CALLS} host calls, in order, when traced. */
  hostCalls: readonly HostCallRecord[];
  /** Host calls made beyond those recorded. */
  droppedHostCalls: number;
}

/** A fresh probe. */
export function callProbe(traceHostCalls = false): CallProbe {
  return { traceHostCalls, fuelUsed: 0n, memoryBytes: 0, hostCalls: [], droppedHostCalls: 0 };
}

/**
 * The fuel of a plugin that calls another plugin through a host call
 * (forge.call_plugin), in units: what it has left, and the account the nested call is
 * charged to. A nested call runs on at most min(its own fuelPerCall, remaining), and
 * what it used is taken from the caller, so a chain of plugin calls never uses more fuel
 * than its first caller was given (plus the bounded overshoot of each fuel check).
 */
export interface CallerFuel {
  /** Fuel the caller has left, in units; 0 or less: none (a nested call is refused). */
  readonly remaining: bigint;
  /**
   * Takes `units` (what a nested call used) from the caller. It may take the caller below
   * zero: the caller then stops with FO_SANDBOX_CPU_LIMIT at its next fuel check, or when
   * its call returns.
   */
  charge(units: bigint): void;
}

/**
 * What a backend reaches on the host thread. From a worker or another process, `audit`,
 * `log`, `event` and `anomaly` arrive in batches, after the plugin acted and before the
 * promise of the call that produced them settles; `hostCall` and `hostCallResource`
 * run while the plugin waits for them. A throwing `audit` makes the backend refuse every
 * later call that must be audited (fail closed; see docs/sandbox.md).
 */
export interface BackendHost {
  /** Records an audit decision (the bridge's AuditPort on the host thread). */
  audit(entry: Omit<AuditDecisionReport, 'identity'> & { readonly plugin: string; readonly data?: AuditData }): void;
  /** A log record from the plugin (forge.log, WASI stdout/stderr lines, host-function failures). */
  log(plugin: string, record: LogRecord): void;
  /** An event the plugin emitted with forge.emit_event. */
  event(plugin: string, event: PluginEvent): void;
  /** An anomaly the plugin's detector found. */
  anomaly(plugin: string, anomaly: Anomaly): void;
  /**
   * Runs a host call the host application registered, for `plugin`, synchronously from
   * the plugin's point of view (a worker blocks until the host thread answers).
   * @param fuel the calling plugin's fuel, when it is metered: pass it to
   *   {@link PluginHandle.callSync} for a call into another plugin made for this request
   *   (forge.call_plugin), so that the callee draws on it; valid only until this returns
   * @returns the UTF-8 JSON response bytes; throws a ForgeError to refuse
   */
  hostCall(plugin: string, name: string, request: Uint8Array, fuel?: CallerFuel): Uint8Array;
  /**
   * Names the resource a registered host call's request touches (`kv:<key>`, a plugin
   * name), so the backend's gate can decide the call before {@link hostCall} runs it.
   * Asked only for calls whose CallSpec has a resource kind other than `none`; absent,
   * the gate decides without a resource. Throw a ForgeError to refuse a malformed
   * request (the plugin receives it; the call does not run).
   */
  hostCallResource?(plugin: string, name: string, request: Uint8Array): string | undefined;
  /**
   * Host calls the plugin's gate decided since the last report, by call and decision
   * (increments). Backends report them at least once a second while the plugin is
   * called, and when {@link IsolationBackend.flushCounts} asks.
   */
  hostCallCounts?(plugin: string, counts: readonly HostCallCount[]): void;
}

/** Counters a handle keeps. */
export interface HandleStats {
  /** Calls and lifecycle steps that ran (successful or not). */
  readonly calls: number;
  /** Of those, the ones that failed (the guest's own errors included). */
  readonly failures: number;
  /** Fuel the last call or step used, in units (0 when the module is not metered). */
  readonly lastFuelUsed: bigint;
  /**
   * Times the instance was re-created through no fault of its own (state lost each
   * time): its worker was replaced, or it ran out of fuel a caller lent it.
   */
  readonly restarts: number;
  /** The plugin's linear memory after its last call or step, in bytes (0 before the first). */
  readonly memoryBytes: number;
}

/**
 * Where a handle stands. `poisoned`: a trap, fuel exhaustion or wall-clock timeout left
 * the instance unusable; every later call rejects with FO_ABI_INSTANCE_POISONED, and the
 * owner should unload it and load a fresh one (its restart policy). `unloaded`: freed.
 */
export type HandleState = 'ready' | 'poisoned' | 'unloaded';

/**
 * What happens to an instance outside the caller's view.
 * - `poisoned`: the instance takes no more calls; `fault` says why.
 * - `restarted`: the instance was re-created through no fault of the plugin, and `reason`
 *   says what happened: a neighbour's timeout or crash took the old worker down (the
 *   instance is on a fresh worker; calls that were queued for it were rejected with
 *   FO_SANDBOX_RESTARTED, and a call of it that was running, waiting for the host while
 *   the neighbour's call ran nested, with FO_SANDBOX_WORKER_REPLACED), or the call it
 *   ran out of fuel its caller lent it (FO_SANDBOX_CPU_LIMIT; see
 *   {@link PluginHandle.callSync}). Its in-memory state is gone and no lifecycle entry
 *   point ran on the new instance. An owner that keeps a crash count must not count it;
 *   it decides what to re-run (init, start).
 */
export type HandleEvent = { readonly type: 'poisoned'; readonly fault: ForgeError } | { readonly type: 'restarted'; readonly reason: ForgeError };

/** One plugin instance hosted by a backend. All methods may be called from the host thread only. */
export interface PluginHandle {
  readonly id: string;
  /**
   * Calls a forge/1 export. Rejects with FO_SANDBOX_CPU_LIMIT (fuel), FO_SANDBOX_TIMEOUT
   * (wall clock; backends that cannot preempt the call log an overrun instead),
   * FO_ABI_* (the guest's errors and traps; FO_ABI_INSTANCE_POISONED once poisoned),
   * FO_SANDBOX_UNLOADED, FO_SANDBOX_WORKER_FAILED (the thread or process hosting the
   * plugin died during the call), FO_SANDBOX_RESTARTED (queued when a neighbour's
   * failure replaced the worker; the call did not run), FO_SANDBOX_WORKER_REPLACED
   * (running, waiting for the host, when a neighbour's failure replaced the worker; it
   * may have had effects). The last two are not failures of this plugin.
   * With a `probe`, the backend fills it in (fuel, memory, traced host calls) before the
   * promise settles.
   */
  call(exportName: string, input: Uint8Array, probe?: CallProbe): Promise<Uint8Array>;
  /**
   * Calls an export synchronously, blocking the calling thread until it answers: for
   * forge.call_plugin, where one plugin's host call calls another. Optional: a backend
   * that cannot answer synchronously leaves it out (the call is then refused).
   *
   * With `fuel` (the caller's, from {@link BackendHost.hostCall}), the call runs on at
   * most min(fuelPerCall, fuel.remaining) units and what it used is charged to `fuel`
   * (all it was lent when its worker was lost mid-call). A caller with nothing left gets
   * FO_SANDBOX_CPU_LIMIT and the call does not run. A call that runs out of fuel its
   * caller capped (less than its own budget) fails with FO_SANDBOX_CPU_LIMIT too, but it
   * was the caller's budget that ran out: the instance is re-created (a `restarted`
   * event), not poisoned.
   * @param probe as {@link call}'s
   * @throws ForgeError as {@link call}
   */
  callSync?(exportName: string, input: Uint8Array, fuel?: CallerFuel, probe?: CallProbe): Uint8Array;
  /** Runs a lifecycle entry point if the manifest names one; false when it names none. */
  lifecycle(step: EntryPointName): Promise<boolean>;
  /** Frees the instance; later calls reject with FO_SANDBOX_UNLOADED. Idempotent. */
  unload(): Promise<void>;
  stats(): HandleStats;
  readonly state: HandleState;
  /** Why the instance is poisoned; undefined while it takes calls. */
  readonly fault: ForgeError | undefined;
  /**
   * Subscribes to {@link HandleEvent}s, delivered on the host thread (a `restarted`
   * event before any later call reaches the new instance). Returns an unsubscribe function.
   */
  onEvent(listener: (event: HandleEvent) => void): () => void;
}

/** A place plugin instances run: one interface, one shared conformance suite. */
export interface IsolationBackend {
  readonly name: 'inline' | 'pool' | 'process';
  /** Instantiates a plugin. Rejects with the instantiation's ForgeError (missing exports, link errors). */
  load(spec: PluginSpec): Promise<PluginHandle>;
  /** Replaces the operator policy of every hosted plugin (all cached decisions are dropped). */
  updatePolicy(policy: PolicySpec): Promise<void>;
  /**
   * Hands the host-call counts gathered so far to {@link BackendHost.hostCallCounts}.
   * Backends whose threads report on their own schedule (the pool: at least once a
   * second while busy, and when a worker goes idle) may report what they have received.
   */
  flushCounts?(): void;
  /** Unloads everything and releases threads and processes. Idempotent. */
  close(): Promise<void>;
}
