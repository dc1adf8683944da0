/**
 * The process backend: plugins in confined Linux processes (bubblewrap: user, mount, pid,
 * ipc, uts and network namespaces, a read-only root of the runtime alone, the seccomp
 * filter, a cgroup with the memory, CPU and pids limits, RLIMIT_NOFILE), one sandbox per
 * plugin or per publisher (`groupBy`).
 *
 * Each sandbox is driven like a pool worker: a lane (pool-lane.ts) of its own, whose
 * thread is a relay (relay.ts) that passes jobs to the sandbox as frames and decides
 * what leaves it. So queueing, wall-clock limits, synchronous calls (forge.call_plugin),
 * recovery and the handles are the pool's, and a sandbox that dies, is killed for
 * memory (FO_SANDBOX_MEMORY_LIMIT) or breaks its protocol (FO_SANDBOX_PROTOCOL_VIOLATION)
 * fails the plugin whose job ran and has its others re-created in a fresh sandbox.
 *
 * Fail closed: {@link ProcessBackend.create} refuses (FO_SANDBOX_UNAVAILABLE) when
 * bubblewrap, user namespaces or the cgroups for the asked limits are missing; nothing
 * ever runs unconfined.
 */
import { ForgeError, silentLogger, toForgeError, type Logger } from '@forgeone/common';
import { HandleBook } from '../handle-state.js';
import { CgroupHost, probeIsolation, sweepStaleCgroups, type Cgroup, type ConfinedVolume, type ConfinementLimits } from '../linux/index.js';
import { adoptPolicy } from '../policy.js';
import { Job, LanePlugin } from '../pool-job.js';
import { Lane, type LaneEnv } from '../pool-lane.js';
import { DEFAULT_SLOT_BYTES, OP } from '../pool-protocol.js';
import type { BackendHost, IsolationBackend, PluginHandle, PluginSpec, PolicySpec } from '../spec.js';
import type { PoolHandle } from '../pool-handle.js';
import { SandboxSlot } from './freezer.js';
import { DirectPath, type DirectCounts } from './direct.js';
import { RingChannel, sharedMemory } from './ring.js';
import { ProcessHandle } from './handle.js';
import { mountsOf, sandboxRuntimePaths, startSandbox, type SandboxEnv } from './sandbox.js';

/** The group of a warm sandbox: started with nothing bound, waiting for a plugin that needs no directory. */
const WARM = 'warm';

/** The relay thread each sandbox's lane runs. */
export const RELAY_WORKER_URL = new URL('./relay-worker.js', import.meta.url);

/** Options for {@link ProcessBackend.create}. */
export interface ProcessOptions {
  /** One sandbox per plugin (default, strongest) or one per publisher, shared by its plugins. */
  readonly groupBy?: 'plugin' | 'publisher';
  /** Limits of each sandbox: its cgroup's memory, CPU and pids, and RLIMIT_NOFILE. */
  readonly limits?: ConfinementLimits;
  /** Where the sandboxes' cgroups are made; default: opened at create (and groups a dead host left are swept). */
  readonly cgroups?: CgroupHost;
  readonly logger?: Logger;
  /**
   * Sandboxes kept started ahead of need, with nothing bound (default 0; 0 to 64): a plugin
   * that needs no directory (no key-value store, volume or preopen) loads into one without
   * paying for bwrap, Node and the worker to start, and another is started behind it.
   */
  readonly warm?: number;
  /**
   * How frames cross between the host and a sandbox: `ring` (the default when
   * native/shared-memory.node was built), through memory shared with the sandbox (a sealed
   * memfd), where the host thread also sends plain calls itself, past the relay thread
   * (direct.ts); or `fifo` (the default without the module), over two FIFOs, every call
   * through the relay. docs/sandbox.md, "Transport".
   */
  readonly transport?: 'ring' | 'fifo';
  /**
   * TEST ONLY: the program each sandbox runs instead of the real one (child-main.js), to
   * play a compromised sandbox; it must lie inside ForgeOne's code (a runtime path).
   */
  readonly childScript?: string;
}

interface SandboxLane {
  readonly lane: Lane;
  /** `plugin:<id>`, `publisher:<name>`, or {@link WARM} for a started sandbox waiting for a plugin. */
  group: string;
  readonly mounts: readonly ConfinedVolume[];
  /** Its paused plugins and freezer state. */
  readonly slot: SandboxSlot;
  /** The host thread's direct path into its current sandbox process, when it has one. */
  direct?: DirectPath | undefined;
}

/** Plugins in confined processes. See the module comment. */
export class ProcessBackend implements IsolationBackend {
  readonly name = 'process';
  readonly #env: LaneEnv;
  readonly #sandbox: SandboxEnv;
  readonly #groupBy: 'plugin' | 'publisher';
  readonly #lanes = new Map<number, SandboxLane>();
  readonly #handles = new Set<PoolHandle>();
  readonly #ownCgroups: boolean;
  readonly #warm: number;
  #nextLane = 0;
  #nextSandbox = 0;
  #auditBroken = false;
  #closed = false;

  private constructor(host: BackendHost, options: ProcessOptions, cgroups: CgroupHost | undefined) {
    const logger = options.logger ?? silentLogger;
    this.#groupBy = options.groupBy ?? 'plugin';
    this.#warm = options.warm ?? 0;
    this.#ownCgroups = options.cgroups === undefined;
    this.#sandbox = { cgroups, limits: options.limits ?? {}, logger, transport: options.transport ?? (sharedMemory() === undefined ? 'fifo' : 'ring'), runtimePaths: sandboxRuntimePaths(), ...(options.childScript === undefined ? {} : { script: options.childScript }) };
    this.#sandbox.runtimePaths.catch(() => undefined); // reported by the first start
    const auditBroken = (): boolean => this.#auditBroken;
    this.#env = {
      host,
      logger,
      workerUrl: RELAY_WORKER_URL,
      slotBytes: DEFAULT_SLOT_BYTES,
      fastWaitMs: 0.05,
      workerSpinUs: 50,
      busyCallUs: 10_000,
      resourceLimits: undefined,
      heat: () => undefined,
      get auditBroken() {
        return auditBroken();
      },
      auditFailed: () => this.#setAuditBroken(true),
      auditRestored: () => this.#setAuditBroken(false),
      prepare: async (id) => {
        const entry = this.#lanes.get(id);
        if (entry === undefined) throw new ForgeError('FO_SANDBOX_CLOSED', `sandbox lane ${id} is gone`);
        this.#nextSandbox += 1;
        const channel = await startSandbox(`sandbox-${this.#nextSandbox}`, entry.mounts, this.#sandbox);
        entry.slot.started(channel.cgroup);
        // With a ring, the host thread also sends plain calls itself (direct.ts), sharing the relay's positions.
        const cursor = channel.ring === undefined ? undefined : new SharedArrayBuffer(RingChannel.cursorBytes);
        const direct = channel.ring === undefined || cursor === undefined ? undefined : DirectPath.open(channel.ring, channel.fromSandbox, channel.toSandbox, cursor);
        entry.direct = direct;
        return {
          data: { fromSandbox: channel.fromSandbox, toSandbox: channel.toSandbox, ...(channel.ring === undefined ? {} : { ring: channel.ring, cursor }) },
          ended: channel.ended,
          cause: () => channel.memoryCause(),
          stop: () => channel.kill(),
          ...(direct === undefined ? {} : { direct }),
          ...(channel.ledger === undefined ? {} : { ledger: channel.ledger }),
        };
      },
    };
  }

  /**
   * Checks that this host can confine plugins as asked, then makes the backend.
   * @throws FO_SANDBOX_UNAVAILABLE naming what is missing; FO_SANDBOX_BAD_OPTION
   */
  static async create(host: BackendHost, options: ProcessOptions = {}): Promise<ProcessBackend> {
    const problems: string[] = [];
    if (options.groupBy !== undefined && options.groupBy !== 'plugin' && options.groupBy !== 'publisher') problems.push(`groupBy must be plugin or publisher, found ${JSON.stringify(options.groupBy)}`);
    if (options.transport !== undefined && options.transport !== 'ring' && options.transport !== 'fifo') problems.push(`transport must be ring or fifo, found ${JSON.stringify(options.transport)}`);
    if (options.warm !== undefined && !(Number.isInteger(options.warm) && options.warm >= 0 && options.warm <= 64)) problems.push(`warm must be an integer from 0 to 64, found ${JSON.stringify(options.warm)}`);
    if (problems.length > 0) throw new ForgeError('FO_SANDBOX_BAD_OPTION', `process options: ${problems.join('; ')}`, { details: { problems } });
    const probe = await probeIsolation();
    const missing = probe.capabilities.filter((capability) => !capability.ok).map((capability) => `${capability.name} (${capability.detail})`);
    if (!probe.ready) throw new ForgeError('FO_SANDBOX_UNAVAILABLE', `cannot confine plugins on this host: ${missing.join('; ')}`, { details: { missing } });
    if (options.transport === 'ring' && sharedMemory() === undefined) {
      throw new ForgeError('FO_SANDBOX_UNAVAILABLE', 'the ring transport needs native/shared-memory.node, which was not built (npm run build with a C compiler)', { details: { missing: ['shared-memory module'] } });
    }
    let cgroups = options.cgroups;
    if (cgroups === undefined) {
      await sweepStaleCgroups().catch(() => undefined);
      cgroups = await CgroupHost.open();
    }
    const backend = new ProcessBackend(host, options, cgroups);
    backend.#refill();
    return backend;
  }

  /**
   * Places a plugin in a sandbox (a new one, or its publisher's when grouped and the
   * sandbox has the plugin's directories bound with the same rights) and instantiates it there.
   * @throws ForgeError FO_SANDBOX_CLOSED, FO_SANDBOX_UNAVAILABLE, FO_SANDBOX_BAD_OPTION (no
   *   moduleBytes), FO_SANDBOX_TIMEOUT, FO_SANDBOX_WORKER_FAILED, and what instantiation throws
   */
  async load(spec: PluginSpec): Promise<PluginHandle> {
    if (this.#closed) throw new ForgeError('FO_SANDBOX_CLOSED', `the process backend is closed; cannot load ${spec.id}`, { details: { plugin: spec.id } });
    if (spec.moduleBytes === undefined) throw new ForgeError('FO_SANDBOX_BAD_OPTION', `plugin ${spec.id}: the process backend needs the module's bytes (PluginSpec.moduleBytes)`, { details: { plugin: spec.id } });
    const entry = this.#laneFor(spec);
    const lane = entry.lane;
    const logger = this.#env.logger;
    const record = lane.place((index) => new LanePlugin(index, spec, new HandleBook(spec.id, (error) => logger.warn('a plugin handle listener threw', { plugin: spec.id, error: toForgeError(error).message }))));
    // The first load also waits for the sandbox to start.
    const job = new Job(OP.LOAD, { plugin: record, timeoutMs: record.loadTimeoutMs + 30_000, what: `load of plugin ${spec.id}` });
    lane.submit(job);
    try {
      await job.promise();
    } catch (error) {
      lane.forget(record);
      this.#closeIfEmpty(entry);
      throw toForgeError(error);
    } finally {
      // The warm sandbox taken is replaced after the load, not during it: starting bwrap and
      // Node beside the load would take the CPU the load needs (measured with bench/process.mjs on two cores: 18 -> 8 ms).
      this.#refill();
    }
    const handle = new ProcessHandle(
      [
        record,
        lane,
        (closed) => {
          this.#handles.delete(closed);
          this.#closeIfEmpty(entry);
        },
      ],
      entry.slot,
    );
    this.#handles.add(handle);
    return handle;
  }

  /** Replaces every plugin's policy, in each sandbox and in its relay (checked here first). @throws ForgeError FO_TRUST_POLICY_INVALID */
  async updatePolicy(policy: PolicySpec): Promise<void> {
    adoptPolicy(policy, [...this.#handles].map((handle) => handle.record));
    await Promise.all(
      [...this.#lanes.values()].map(async ({ lane, slot }) => {
        // A frozen sandbox takes its new policy thawed, and is frozen again.
        await slot.thaw();
        const job = new Job(OP.POLICY, { policy, timeoutMs: 60_000, what: 'policy update' });
        lane.submit(job);
        await job.promise();
        await slot.freezeIfAllPaused();
      }),
    );
  }

  /** Unloads everything, kills every sandbox and removes the cgroups. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const handle of this.#handles) handle.record.book.unload();
    this.#handles.clear();
    const lanes = [...this.#lanes.values()];
    this.#lanes.clear();
    await Promise.all(lanes.map(({ lane }) => lane.close()));
    if (this.#ownCgroups) await this.#sandbox.cgroups?.close().catch((error: unknown) => this.#env.logger.warn('could not remove the sandboxes cgroups', { error: toForgeError(error).message }));
  }

  /**
   * The sandboxes: their group, how many plugins each holds, and how many calls the host
   * thread sent its current process itself (direct.ts) and answered, or handed to the relay.
   */
  sandboxes(): { readonly id: number; readonly group: string; readonly plugins: number; readonly restarts: number; readonly frozen: boolean; readonly cgroup: Cgroup | undefined; readonly direct: DirectCounts | undefined }[] {
    return [...this.#lanes].map(([id, { lane, group, slot, direct }]) => ({ id, group, plugins: lane.plugins.length, restarts: lane.restarts, frozen: slot.frozen, cgroup: slot.cgroup, direct: direct?.counts }));
  }

  /** Marks every sandbox as refusing (or taking again) audited calls. @returns true when that changed */
  #setAuditBroken(broken: boolean): boolean {
    if (this.#auditBroken === broken) return false;
    this.#auditBroken = broken;
    for (const { lane } of this.#lanes.values()) lane.setAuditBroken(broken);
    return true;
  }

  #laneFor(spec: PluginSpec): SandboxLane {
    const mounts = mountsOf(spec);
    const group = this.#groupBy === 'publisher' ? `publisher:${spec.identity.publisher}` : `plugin:${spec.id}`;
    if (this.#groupBy === 'publisher') {
      for (const entry of this.#lanes.values()) {
        if (entry.group === group && mounts.every((mount) => entry.mounts.some((bound) => bound.host === mount.host && bound.readOnly === mount.readOnly))) return entry;
      }
    }
    const warm = mounts.length === 0 ? [...this.#lanes.values()].find((entry) => entry.group === WARM) : undefined;
    const entry = warm ?? this.#newLane(group, mounts);
    entry.group = group;
    return entry;
  }

  /** Starts warm sandboxes until there are as many as asked. */
  #refill(): void {
    let warm = [...this.#lanes.values()].filter((entry) => entry.group === WARM).length;
    for (; warm < this.#warm && !this.#closed; warm += 1) this.#newLane(WARM, []);
  }

  #newLane(group: string, mounts: readonly ConfinedVolume[]): SandboxLane {
    const id = this.#nextLane;
    this.#nextLane += 1;
    const entry = { group, mounts } as unknown as { lane: Lane; slot: SandboxSlot } & Omit<SandboxLane, 'lane' | 'slot'>;
    entry.slot = new SandboxSlot(() => entry.lane.plugins);
    this.#lanes.set(id, entry);
    // The lane starts its sandbox at once (through prepare, which finds the entry above).
    entry.lane = new Lane(id, false, this.#env);
    return entry;
  }

  /** A sandbox with no plugin left is ended (with group_by publisher, when its last plugin goes). */
  #closeIfEmpty(entry: SandboxLane): void {
    if (entry.lane.plugins.length > 0) return;
    for (const [id, known] of this.#lanes) if (known === entry) this.#lanes.delete(id);
    void entry.lane.close();
  }
}
