/**
 * The pool backend: plugin instances on a fixed set of worker threads, many per
 * worker, called through shared memory (pool-protocol.ts).
 *
 * - Workers start with the pool (default: one per core), so loading a plugin spawns
 *   nothing: its compiled module is posted to a worker (compiled code is shared, not
 *   recompiled) and instantiated there with its own gate, WASI and host functions.
 * - A plugin goes to the regular worker with the fewest plugins; a plugin that keeps
 *   exhausting its fuel, timing out or running long calls goes, when it is next
 *   (re)loaded, to an isolation worker kept apart from the others (pool-placement.ts).
 * - A plugin whose module can block its thread (a shared memory with atomic waits,
 *   permissions.threads) goes to a worker shared only with such plugins: a wait that
 *   never ends is stopped only by replacing its worker, which re-creates every plugin
 *   there, so that costs the state of plugins that can block, never of those that cannot.
 * - Each worker runs one call at a time; its queue takes one call per plugin in turn.
 * - A trap or fuel exhaustion fails that call and poisons that instance only. A call
 *   past its wall-clock limit, or a worker that dies, costs the worker: see pool-recovery.ts.
 * - Audit entries, logs, events and anomalies reach the {@link BackendHost} in batches,
 *   before the promise of the call that produced them settles. A worker cannot wait for
 *   the host's audit log to accept an entry, so a failing audit log is noticed after
 *   the call that hit it; from then on every worker refuses calls it must audit.
 */
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { ForgeError, silentLogger, toForgeError, type Logger } from '@forgeone/common';
import { HandleBook } from './handle-state.js';
import { Lane, type LaneEnv } from './pool-lane.js';
import { Job, LanePlugin } from './pool-job.js';
import { HeatMap, pickLane } from './pool-placement.js';
import { DEFAULT_SLOT_BYTES, ISOLATION_NICE, OP } from './pool-protocol.js';
import { adoptPolicy } from './policy.js';
import { threadBlockingReason } from '../runtime/index.js';
import { PoolHandle } from './pool-handle.js';
import { NICE_MAX, NICE_MIN, SLICE_MAX_US, SLICE_MIN_US, niceRefusal, sliceRefusal, type ThreadPriority } from './thread-priority.js';
import type { BackendHost, IsolationBackend, PluginHandle, PluginSpec, PolicySpec } from './spec.js';

/** Options for {@link PoolBackend}. */
export interface PoolOptions {
  /** Regular worker threads (default `os.availableParallelism()`); 1 to 256. */
  readonly size?: number;
  /**
   * Bytes of each worker's shared slot (default 1 MiB, 4 KiB to 256 MiB): payloads up to
   * this size cross in shared memory; larger ones as a transferred message.
   */
  readonly slotBytes?: number;
  /**
   * Longest time the host thread blocks waiting for a call whose plugin usually answers
   * sooner, in microseconds (default 50; 0 to 10,000; 0 never blocks). Answers a small call
   * in a few microseconds instead of a trip through the event loop (~50 us here).
   */
  readonly fastWaitUs?: number;
  /**
   * How long a worker spins on its slot after a job before parking, in microseconds
   * (default 50; 0 to 10,000). The next call of a busy plugin then starts at once instead
   * of after the 10-20 us a parked thread takes to wake; an idle worker costs nothing.
   */
  readonly workerSpinUs?: number;
  /**
   * The nice value of the regular workers' threads (Linux; -20 to 19; default: the
   * process's own, unchanged). A value below the process's own makes a call's wake-up
   * preempt other programs' CPU-bound work instead of queueing behind it (the pool's tail
   * latency when every core is busy: docs/sandbox.md, "Waiting under contention"), and
   * gives the plugins' code that priority over them too. Lowering it needs CAP_SYS_NICE
   * or an RLIMIT_NICE soft limit of at least 20 - workerNice: without either the pool
   * refuses to start (FO_SANDBOX_BAD_OPTION), and a worker whose thread is still refused
   * (a user namespace) fails to start, so its loads fail with FO_SANDBOX_WORKER_FAILED. The
   * isolation worker runs at the larger of this and ISOLATION_NICE (10).
   */
  readonly workerNice?: number;
  /**
   * The time slice the regular workers' threads ask the kernel for while they park, in
   * microseconds (0, or 100 to 100,000; default 100 where it can be set, else 0: the
   * kernel's, 1.4 ms on two cores; while a worker spins it has the kernel's). A woken thread
   * with a shorter slice than the running one preempts it, where it would otherwise wait for
   * that one's slice to end: a call's wake-up beside other programs' CPU-bound work. The
   * threads' share of the CPU is unchanged (no privilege needed); a call started from a park
   * runs in shorter turns while the CPU is contended. Needs Linux
   * 6.12 or later and the native module thread-sched.node: a value other than 0 given where
   * either is missing is refused (FO_SANDBOX_BAD_OPTION); the default then stays 0.
   */
  readonly workerSliceUs?: number;
  /** Keep plugins that exhaust fuel, time out or run long calls on an isolation worker when they are (re)loaded (default true). */
  readonly isolateBusy?: boolean;
  /** A call at least this long makes its plugin warmer, in ms (default 10). */
  readonly busyCallMs?: number;
  /** Time for a plugin's heat to halve, in ms (default 600,000). */
  readonly heatHalfLifeMs?: number;
  /** V8 heap limits of each worker (default: Node's). */
  readonly resourceLimits?: ResourceLimits;
  /** Where the pool reports its own trouble (default: silent). */
  readonly logger?: Logger;
  /** The worker module (default: pool-worker.js). For tests that inject faults. */
  readonly workerUrl?: URL;
}

/** Per-worker numbers, for benchmarks and diagnostics. */
export interface PoolWorkerInfo {
  readonly id: number;
  readonly isolation: boolean;
  /** The worker of the plugins whose module can block its thread. */
  readonly blocking: boolean;
  readonly plugins: number;
  readonly restarts: number;
}

/** The regular workers' time slice where it can be set (PoolOptions.workerSliceUs), in microseconds. */
export const DEFAULT_SLICE_US = 100;

/** The worker module every lane runs. */
export const POOL_WORKER_URL = new URL('./pool-worker.js', import.meta.url);

function checkOptions(options: PoolOptions): string[] {
  const problems: string[] = [];
  const integer = (name: string, value: number | undefined, min: number, max: number): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) problems.push(`${name}: expected an integer from ${min} to ${max}, found ${String(value)}`);
  };
  integer('size', options.size, 1, 256);
  integer('slotBytes', options.slotBytes, 4096, 256 * 1024 * 1024);
  integer('fastWaitUs', options.fastWaitUs, 0, 10_000);
  integer('workerSpinUs', options.workerSpinUs, 0, 10_000);
  integer('workerNice', options.workerNice, NICE_MIN, NICE_MAX);
  const slice = options.workerSliceUs;
  if (slice !== undefined && slice !== 0) {
    integer('workerSliceUs', slice, SLICE_MIN_US, SLICE_MAX_US);
    const refusal = sliceRefusal();
    if (refusal !== undefined) problems.push(`workerSliceUs: ${slice} cannot be set: ${refusal}`);
  }
  const nice = options.workerNice;
  if (nice !== undefined && Number.isInteger(nice) && nice >= NICE_MIN && nice <= NICE_MAX) {
    const refusal = niceRefusal(nice);
    if (refusal !== undefined) problems.push(`workerNice: ${nice} is not permitted: ${refusal}`);
  }
  if (options.busyCallMs !== undefined && !(options.busyCallMs > 0)) problems.push(`busyCallMs: expected a positive number, found ${String(options.busyCallMs)}`);
  if (options.heatHalfLifeMs !== undefined && !(options.heatHalfLifeMs > 0)) problems.push(`heatHalfLifeMs: expected a positive number, found ${String(options.heatHalfLifeMs)}`);
  return problems;
}

/** What each worker thread sets on itself at start (thread-priority.ts), by kind (the isolation worker or another). */
function workerPriority(options: PoolOptions): (isolation: boolean) => ThreadPriority {
  const nice = options.workerNice;
  // The default slice where it can be set; a slice the options ask for is required.
  const us = options.workerSliceUs ?? (sliceRefusal() === undefined ? DEFAULT_SLICE_US : 0);
  const regular: ThreadPriority = { ...(nice === undefined ? {} : { nice }), ...(us === 0 ? {} : { slice: { us, required: options.workerSliceUs !== undefined } }) };
  const isolation: ThreadPriority = { nice: Math.max(ISOLATION_NICE, nice ?? ISOLATION_NICE) };
  return (isolated) => (isolated ? isolation : regular);
}

/**
 * `spec` without the module's bytes: a worker gets the compiled module, so neither the
 * pool's record (kept while the plugin is loaded) nor the copy posted to the worker needs
 * them (idle plugins by the thousand would each hold a copy on both threads).
 */
function withoutBytes(spec: PluginSpec): PluginSpec {
  if (spec.moduleBytes === undefined) return spec;
  const { moduleBytes: dropped, ...rest } = spec;
  void dropped;
  return rest;
}

/** Plugins on worker threads. See the module comment. */
export class PoolBackend implements IsolationBackend {
  readonly name = 'pool';
  readonly #lanes: Lane[] = [];
  #isolation: Lane | undefined;
  /** Plugins whose module can block its thread (pool-placement.ts: laneKind). */
  #blocking: Lane | undefined;
  /** The isolation and blocking workers, in the order they were started (their ids follow the regular ones). */
  readonly #extra: Lane[] = [];
  readonly #env: LaneEnv;
  readonly #heat: HeatMap;
  readonly #isolateBusy: boolean;
  readonly #handles = new Set<PoolHandle>();
  #auditBroken = false;
  #closed = false;

  /**
   * Starts the workers.
   * @throws ForgeError FO_SANDBOX_BAD_OPTION listing every bad option
   */
  constructor(host: BackendHost, options: PoolOptions = {}) {
    const problems = checkOptions(options);
    if (problems.length > 0) throw new ForgeError('FO_SANDBOX_BAD_OPTION', `pool options: ${problems.join('; ')}`, { details: { problems } });
    this.#heat = new HeatMap(options.heatHalfLifeMs ?? 600_000);
    this.#isolateBusy = options.isolateBusy ?? true;
    const auditBroken = (): boolean => this.#auditBroken;
    this.#env = {
      host,
      logger: options.logger ?? silentLogger,
      workerUrl: options.workerUrl ?? POOL_WORKER_URL,
      slotBytes: options.slotBytes ?? DEFAULT_SLOT_BYTES,
      fastWaitMs: (options.fastWaitUs ?? 50) / 1000,
      workerSpinUs: options.workerSpinUs ?? 50,
      threadPriority: workerPriority(options),
      busyCallUs: (options.busyCallMs ?? 10) * 1000,
      resourceLimits: options.resourceLimits,
      heat: (plugin, amount) => this.#heat.add(plugin.id, amount),
      get auditBroken() {
        return auditBroken();
      },
      auditFailed: () => this.#setAuditBroken(true),
      auditRestored: () => this.#setAuditBroken(false),
    };
    const size = options.size ?? availableParallelism();
    for (let i = 0; i < size; i += 1) this.#lanes.push(new Lane(i, false, this.#env));
  }

  /**
   * Places a plugin on a worker and instantiates it there.
   * @throws ForgeError FO_SANDBOX_CLOSED, FO_SANDBOX_TIMEOUT, FO_SANDBOX_WORKER_FAILED,
   *   and what instantiation throws (FO_ABI_*, FO_TRUST_POLICY_INVALID, FO_WASI_*, ...)
   */
  async load(spec: PluginSpec): Promise<PluginHandle> {
    if (this.#closed) throw new ForgeError('FO_SANDBOX_CLOSED', `the pool backend is closed; cannot load ${spec.id}`, { details: { plugin: spec.id } });
    const lane = this.#laneFor(spec);
    const logger = this.#env.logger;
    const kept = withoutBytes(spec);
    const record = lane.place((index) => new LanePlugin(index, kept, new HandleBook(spec.id, (error) => logger.warn('a plugin handle listener threw', { plugin: spec.id, error: toForgeError(error).message }))));
    const job = new Job(OP.LOAD, { plugin: record, timeoutMs: record.loadTimeoutMs, what: `load of plugin ${spec.id}` });
    lane.submit(job);
    try {
      await job.promise();
    } catch (error) {
      lane.forget(record);
      throw toForgeError(error);
    }
    const handle = new PoolHandle(record, lane, (closed) => this.#handles.delete(closed));
    this.#handles.add(handle);
    return handle;
  }

  /**
   * Replaces the policy of every plugin on every worker. The policy is checked here
   * first (against each distinct set of registered calls), so a policy that does not
   * load changes nothing anywhere.
   * @throws ForgeError FO_TRUST_POLICY_INVALID
   */
  async updatePolicy(policy: PolicySpec): Promise<void> {
    adoptPolicy(policy, [...this.#handles].map((handle) => handle.record));
    const jobs = this.#allLanes().map((lane) => {
      const job = new Job(OP.POLICY, { policy, timeoutMs: 60_000, what: 'policy update' });
      lane.submit(job);
      return job.promise();
    });
    await Promise.all(jobs);
  }

  /** Unloads every plugin and stops every worker. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const handle of this.#handles) handle.record.book.unload();
    this.#handles.clear();
    await Promise.all(this.#allLanes().map((lane) => lane.close()));
  }

  /** The workers and how many plugins each holds. */
  workers(): PoolWorkerInfo[] {
    return this.#allLanes().map((lane) => ({ id: lane.id, isolation: lane.isolation, blocking: lane === this.#blocking, plugins: lane.plugins.length, restarts: lane.restarts }));
  }

  /** The worker hosting `handle`'s plugin (an index into {@link workers}), or undefined for a handle of another backend. */
  workerOf(handle: PluginHandle): number | undefined {
    return handle instanceof PoolHandle ? handle.lane.id : undefined;
  }

  /** Marks every lane's worker as refusing (or taking again) audited calls. @returns true when that changed */
  #setAuditBroken(broken: boolean): boolean {
    if (this.#auditBroken === broken) return false;
    this.#auditBroken = broken;
    for (const lane of this.#allLanes()) lane.setAuditBroken(broken);
    return true;
  }

  #allLanes(): Lane[] {
    return [...this.#lanes, ...this.#extra];
  }

  /** A worker beside the regular ones, started now. */
  #extraLane(isolation: boolean): Lane {
    const lane = new Lane(this.#lanes.length + this.#extra.length, isolation, this.#env);
    this.#extra.push(lane);
    return lane;
  }

  #laneFor(spec: PluginSpec): Lane {
    const id = spec.id;
    if (this.#isolateBusy && this.#heat.hot(id)) return (this.#isolation ??= this.#extraLane(true));
    if (threadBlockingReason(spec.module) !== undefined) return (this.#blocking ??= this.#extraLane(false));
    const loads = this.#lanes.map((lane) => {
      const plugins = lane.plugins;
      return { plugins: plugins.length, hotPlugins: plugins.filter((plugin) => this.#heat.hot(plugin.id)).length };
    });
    return this.#lanes[pickLane(loads)] ?? (this.#lanes[0] as Lane);
  }
}
