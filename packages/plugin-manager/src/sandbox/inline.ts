/**
 * The inline backend: plugin instances on the host thread.
 *
 * The cheapest place to run a plugin (a call costs what the forge/1 ABI costs, well
 * under a microsecond) and the least isolated: a plugin shares the host's thread, heap
 * limits and event loop. Each call runs synchronously inside the promise `call` returns,
 * so the host's event loop waits for it.
 *
 * Fuel is the only bound on a call's CPU: JavaScript cannot preempt synchronous wasm on
 * its own thread, so the wall-clock limit (`timeoutMs`) cannot stop a call here. A
 * plugin that sleeps in WASI poll_oneoff or blocks in a host call holds the host thread
 * for as long as that takes. A call that returns after its deadline still returns its
 * result: its effects (key-value writes, files, events) have happened, so refusing the
 * result would only hide them from the caller. The overrun is logged as a warning for
 * the plugin instead. Hosts that need wall-clock limits use the pool backend.
 *
 * For the same reason it refuses a module that can block its thread by itself (a shared
 * memory and memory.atomic.wait32/wait64, which permissions.threads allows): such a
 * wait spends no fuel, and on this backend it would hold the host thread.
 */
import { ForgeError, silentLogger, toForgeError, type Logger, type LogRecord } from '@forgeone/common';
import type { EntryPointName } from '../plugin/index.js';
import { threadBlockingReason } from '../runtime/index.js';
import { createIoBridge, type SyncBridge } from '../syscall/index.js';
import { lentFuel } from './call-fuel.js';
import { auditUnavailable } from './plugin-gate.js';
import { HandleBook } from './handle-state.js';
import { HostedPlugin, type PluginSinks, type ThreadResources } from './hosted-plugin.js';
import { PolicyCache, catalogWith, operatorPolicy } from './policy.js';
import type { BackendHost, CallProbe, CallerFuel, HandleEvent, HandleState, HandleStats, IsolationBackend, PluginHandle, PluginSpec, PolicySpec } from './spec.js';

/** Options for {@link InlineBackend}. */
export interface InlineBackendOptions {
  /** Where the backend reports its own trouble (a listener that threw). Default: silent. */
  readonly logger?: Logger;
}

/** Plugin instances on the host thread. See the module comment. */
export class InlineBackend implements IsolationBackend {
  readonly name = 'inline';
  readonly #host: BackendHost;
  readonly #logger: Logger;
  readonly #resources: ThreadResources & { readonly ioBridge: SyncBridge };
  readonly #handles = new Set<InlineHandle>();
  #closed = false;
  /** Set while BackendHost.audit throws (cleared once it takes a record again): folded records are refused. */
  #auditBroken = false;

  constructor(host: BackendHost, options: InlineBackendOptions = {}) {
    this.#host = host;
    this.#logger = options.logger ?? silentLogger;
    this.#resources = { policies: new PolicyCache(), ioBridge: createIoBridge('forge-io-inline') };
  }

  /**
   * Instantiates a plugin on the host thread.
   * @throws ForgeError FO_SANDBOX_CLOSED, FO_SANDBOX_INLINE_MAY_BLOCK (a module that can
   *   block its thread), and what instantiation throws (see HostedPlugin.create)
   */
  load(spec: PluginSpec): Promise<PluginHandle> {
    try {
      if (this.#closed) throw new ForgeError('FO_SANDBOX_CLOSED', `the inline backend is closed; cannot load ${spec.id}`, { details: { plugin: spec.id } });
      const blocking = threadBlockingReason(spec.module);
      if (blocking !== undefined) {
        // SECURITY: nothing can preempt a wait on the host thread; the pool's timeout can.
        throw new ForgeError('FO_SANDBOX_INLINE_MAY_BLOCK', `plugin ${spec.id}: expected a module that cannot block the host thread, found one that can (${blocking}); host it on the pool backend, whose call timeout replaces a stuck worker`, {
          details: { plugin: spec.id, reason: blocking },
        });
      }
      const sinks = this.#sinks(spec.id);
      const plugin = HostedPlugin.create(spec, sinks, this.#resources);
      const recreate = (current: HostedPlugin): HostedPlugin => HostedPlugin.create(current.spec, sinks, this.#resources);
      const handle = new InlineHandle(plugin, recreate, this.#host, this.#logger, (closed) => this.#handles.delete(closed));
      this.#handles.add(handle);
      return Promise.resolve(handle);
    } catch (error) {
      return Promise.reject(toForgeError(error));
    }
  }

  /**
   * Replaces the policy of every plugin. The policy is checked against every plugin's
   * catalog first, so either all plugins switch or none does.
   * @throws ForgeError FO_TRUST_POLICY_INVALID
   */
  updatePolicy(policy: PolicySpec): Promise<void> {
    try {
      for (const handle of this.#handles) operatorPolicy(policy, catalogWith(handle.plugin.spec.hostCalls.registered));
      for (const handle of this.#handles) handle.plugin.setPolicy(policy);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(toForgeError(error));
    }
  }

  /** Hands every plugin's host-call counts since the last flush to BackendHost.hostCallCounts (on the host thread, at once). */
  flushCounts(): void {
    for (const handle of this.#handles) handle.flushCounts();
  }

  /** Unloads every plugin and stops the I/O worker. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const handle of [...this.#handles]) await handle.unload();
    await this.#resources.ioBridge.close();
  }

  #quietly(what: string, plugin: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#logger.warn(`BackendHost.${what} threw`, { plugin, error: toForgeError(error).message });
    }
  }

  #sinks(plugin: string): PluginSinks {
    const host = this.#host;
    return {
      audit: (entry) => {
        try {
          host.audit(entry);
          // The host's audit log takes records again (it recovered from a full disk).
          this.#auditBroken = false;
        } catch (error) {
          // SECURITY: the bridge refuses the call being decided; records folded into a
          // summary are refused too (auditCheck) until the host takes a record again.
          this.#auditBroken = true;
          throw error;
        }
      },
      auditCheck: () => {
        if (this.#auditBroken) throw auditUnavailable(plugin);
      },
      // A throwing log or anomaly sink must not fail the plugin's call (it would in the
      // middle of a policy decision); the pool backend behaves the same.
      anomaly: (anomaly) => this.#quietly('anomaly', plugin, () => host.anomaly(plugin, anomaly)),
      log: (record) => this.#quietly('log', plugin, () => host.log(plugin, record)),
      // An event sink's failure reaches the plugin as FO_INTERNAL_UNEXPECTED (EventSink's contract).
      event: (event) => host.event(plugin, event),
      call: (name, request, fuel) => host.hostCall(plugin, name, request, fuel),
      resource: (name, request) => host.hostCallResource?.(plugin, name, request),
    };
  }
}

/** A plugin on the host thread. */
class InlineHandle implements PluginHandle {
  /** The instance; replaced when it runs out of fuel a caller lent it. */
  plugin: HostedPlugin;
  readonly #recreate: (current: HostedPlugin) => HostedPlugin;
  readonly #book: HandleBook;
  readonly #host: BackendHost;
  readonly #forget: (handle: InlineHandle) => void;

  constructor(plugin: HostedPlugin, recreate: (current: HostedPlugin) => HostedPlugin, host: BackendHost, logger: Logger, forget: (handle: InlineHandle) => void) {
    this.plugin = plugin;
    this.#recreate = recreate;
    this.#host = host;
    this.#forget = forget;
    this.#book = new HandleBook(plugin.spec.id, (error) => logger.warn('a plugin handle listener threw', { plugin: plugin.spec.id, error: toForgeError(error).message }));
  }

  get id(): string {
    return this.#book.id;
  }

  get state(): HandleState {
    return this.#book.state;
  }

  get fault(): ForgeError | undefined {
    return this.#book.fault;
  }

  call(exportName: string, input: Uint8Array, probe?: CallProbe): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.callSync(exportName, input, undefined, probe));
    } catch (error) {
      return Promise.reject(toForgeError(error));
    }
  }

  /**
   * Calls an export synchronously on the host thread, on fuel its caller lends (see
   * {@link PluginHandle.callSync}).
   * @throws ForgeError as {@link PluginHandle.call}
   */
  callSync(exportName: string, input: Uint8Array, fuel?: CallerFuel, probe?: CallProbe): Uint8Array {
    const what = `call of ${JSON.stringify(exportName)}`;
    const lent = lentFuel(fuel, `${what} on plugin ${this.id}`);
    return this.#run(what, (plugin) => {
      const recorder = probe?.traceHostCalls === true ? plugin.gate.recorder : undefined;
      recorder?.begin();
      try {
        return plugin.call(exportName, input, lent);
      } finally {
        fuel?.charge(plugin.lastFuelSpent);
        if (probe !== undefined) {
          recorder?.finish(probe);
          probe.fuelUsed = plugin.lastFuelUsed;
          probe.memoryBytes = plugin.memoryBytes;
        }
      }
    });
  }

  /** Hands the plugin's host-call counts since the last flush to the host. */
  flushCounts(): void {
    const deltas = this.plugin.gate.counts?.takeDeltas();
    if (deltas !== undefined && deltas.length > 0) this.#host.hostCallCounts?.(this.id, deltas);
  }

  lifecycle(step: EntryPointName): Promise<boolean> {
    try {
      return Promise.resolve(this.#run(`lifecycle step ${step}`, (plugin) => plugin.lifecycle(step)));
    } catch (error) {
      return Promise.reject(toForgeError(error));
    }
  }

  unload(): Promise<void> {
    if (this.#book.unload()) {
      this.flushCounts();
      this.plugin.close();
      this.#forget(this);
    }
    return Promise.resolve();
  }

  stats(): HandleStats {
    // The memory as it is now: reading it after every call would cost the calls nobody observes.
    return { ...this.#book.stats(), memoryBytes: this.#book.state === 'unloaded' ? 0 : this.plugin.memoryBytes };
  }

  onEvent(listener: (event: HandleEvent) => void): () => void {
    return this.#book.onEvent(listener);
  }

  #run<T>(what: string, run: (plugin: HostedPlugin) => T): T {
    this.#book.assertCallable(what);
    const plugin = this.plugin;
    const started = performance.now();
    let ok = false;
    try {
      const value = run(plugin);
      ok = true;
      return value;
    } catch (error) {
      const fault = plugin.fault;
      if (fault !== undefined) {
        const reason = ForgeError.is(error, 'FO_SANDBOX_CPU_LIMIT') ? error : fault;
        if (plugin.ranOutOfLentFuel) this.#replace(plugin, reason);
        else this.#book.poison(reason);
      }
      throw error;
    } finally {
      this.#book.ran(ok, plugin.lastFuelUsed);
      this.#overrun(what, performance.now() - started);
    }
  }

  /**
   * Re-creates an instance that ran out of the fuel its caller lent it: the caller's
   * budget ran out, not the plugin's, so it is not poisoned (a `restarted` event).
   */
  #replace(plugin: HostedPlugin, reason: ForgeError): void {
    let fresh: HostedPlugin;
    try {
      fresh = this.#recreate(plugin);
    } catch (error) {
      this.#book.poison(toForgeError(error));
      return;
    }
    this.flushCounts();
    plugin.close();
    this.plugin = fresh;
    this.#book.restarted(reason);
  }

  /** Logs a call that ran past the wall-clock limit, which the inline backend cannot enforce. */
  #overrun(what: string, elapsedMs: number): void {
    const limit = this.plugin.spec.timeoutMs;
    if (!(elapsedMs > limit)) return;
    const record: LogRecord = {
      level: 'warn',
      message: `${what} ran ${Math.round(elapsedMs)} ms, past the plugin's ${limit} ms limit; the inline backend cannot stop a call on the host thread (fuel bounds its CPU, not its waits)`,
      fields: { source: 'sandbox', backend: 'inline', elapsedMs: Math.round(elapsedMs), timeoutMs: limit },
      time: Date.now(),
    };
    this.#host.log(this.id, record);
  }
}
