/**
 * A plugin hosted on a lane (pool-lane.ts): on a pool worker thread, or in a confined
 * sandbox process behind a relay thread (the process backend). Every call is a job on
 * the lane; see {@link PluginHandle} for what each method promises.
 */
import { ForgeError, toForgeError } from '@forgeone/common';
import { ENTRY_POINT_NAMES, type EntryPointName } from '../plugin/entry-points.js';
import { lentFuel } from './call-fuel.js';
import type { Lane } from './pool-lane.js';
import { Job, type LanePlugin } from './pool-job.js';
import { OP } from './pool-protocol.js';
import type { CallProbe, CallerFuel, HandleEvent, HandleState, HandleStats, PluginHandle } from './spec.js';

/** A plugin on a pool worker. */
export class PoolHandle implements PluginHandle {
  readonly record: LanePlugin;
  readonly lane: Lane;
  readonly #forget: (handle: PoolHandle) => void;

  constructor(record: LanePlugin, lane: Lane, forget: (handle: PoolHandle) => void) {
    this.record = record;
    this.lane = lane;
    this.#forget = forget;
  }

  get id(): string {
    return this.record.id;
  }

  get state(): HandleState {
    return this.record.book.state;
  }

  get fault(): ForgeError | undefined {
    return this.record.book.fault;
  }

  call(exportName: string, input: Uint8Array, probe?: CallProbe): Promise<Uint8Array> {
    const what = `call of ${JSON.stringify(exportName)} on plugin ${this.id}`;
    try {
      this.record.book.assertCallable(what);
    } catch (error) {
      return Promise.reject(toForgeError(error));
    }
    const job = new Job(OP.CALL, { plugin: this.record, exportName, input, timeoutMs: this.record.spec.timeoutMs, what, probe });
    this.lane.submit(job);
    return job.promise<Uint8Array>();
  }

  /**
   * Calls an export and blocks the host thread until it answers (see Lane.runSync), on
   * fuel its caller lends (see {@link PluginHandle.callSync}).
   * @throws ForgeError as {@link PluginHandle.call}
   */
  callSync(exportName: string, input: Uint8Array, fuel?: CallerFuel, probe?: CallProbe): Uint8Array {
    const what = `call of ${JSON.stringify(exportName)} on plugin ${this.id}`;
    this.record.book.assertCallable(what);
    const lent = lentFuel(fuel, what);
    const job = new Job(OP.CALL, { plugin: this.record, exportName, input, timeoutMs: this.record.spec.timeoutMs, what, ...(lent === undefined ? {} : { lent }), probe });
    try {
      return this.lane.runSync<Uint8Array>(job);
    } finally {
      // What it used; all it was lent when its worker was lost mid-call; nothing when it never started.
      fuel?.charge(job.spent ?? (job.startedAt > 0 ? (lent ?? 0n) : 0n));
    }
  }

  lifecycle(step: EntryPointName): Promise<boolean> {
    const what = `lifecycle step ${step} of plugin ${this.id}`;
    try {
      this.record.book.assertCallable(what);
    } catch (error) {
      return Promise.reject(toForgeError(error));
    }
    const job = new Job(OP.LIFECYCLE, { plugin: this.record, step: ENTRY_POINT_NAMES.indexOf(step), timeoutMs: this.record.spec.timeoutMs, what });
    this.lane.submit(job);
    return job.promise<boolean>();
  }

  async unload(): Promise<void> {
    const record = this.record;
    if (!record.book.unload()) return;
    this.#forget(this);
    this.lane.dropQueued(record, (job) => new ForgeError('FO_SANDBOX_UNLOADED', `the ${job.what} did not run: the plugin was unloaded`, { details: { plugin: record.id } }));
    if (record.gone) return;
    const job = new Job(OP.UNLOAD, { plugin: record, timeoutMs: record.spec.timeoutMs, what: `unload of plugin ${record.id}` });
    this.lane.submit(job);
    try {
      await job.promise();
    } catch {
      // The worker was lost meanwhile; the instance went with it.
    } finally {
      this.lane.forget(record);
    }
  }

  stats(): HandleStats {
    return this.record.book.stats();
  }

  onEvent(listener: (event: HandleEvent) => void): () => void {
    return this.record.book.onEvent(listener);
  }
}
