/**
 * One job across the slot, seen from the host thread: writing it for the worker
 * (posting first what the worker needs to read it: a spec, an export name, a policy, a
 * payload too large for the slot, the fuel a caller lends it), and settling it from the
 * worker's answer (the plugin's counters, the caller's probe, its heat, poisoning it when the worker says
 * its instance is unusable, a `restarted` event when the worker re-created it).
 */
import { copyBytes } from '../abi/bytes-copy.js';
import { prepareAnswer } from './pool-answer.js';
import { HEAT } from './pool-placement.js';
import type { Job, LanePlugin } from './pool-job.js';
import { FLAG, NO_FUEL, OP, STATE, STATUS, errorFrom, writePayload, type ToWorker } from './pool-protocol.js';
import type { WorkerHandle } from './pool-worker-handle.js';
import { spinAllowed } from './spin-governor.js';
import { currentCpu } from './thread-priority.js';

/** What settling a job needs from the pool. */
export interface SettleEnv {
  /** A job at least this long, in microseconds, makes its plugin warmer. */
  readonly busyCallUs: number;
  /** The host's synchronous wait for a quick job, in microseconds (PoolOptions.fastWaitUs): see {@link nextMeanUs}. */
  readonly fastWaitUs: number;
  /** Adds heat to a plugin (placement). */
  heat(plugin: LanePlugin, amount: number): void;
  /** Forgets a plugin whose instance the worker unloaded. */
  forget(plugin: LanePlugin): void;
}

const EMPTY = new Uint8Array(0);

/** Inputs at least this large are copied into the slot after the worker is woken, overlapping its wake-up (10-20 us, more under load) with the copy (at 64 KiB that measured slower). */
export const STREAM_FROM_BYTES = 256 * 1024;

/**
 * Writes `job` into the worker's slot and wakes the worker, or sends a plain call on the
 * worker's direct path (process/direct.ts). `waits`: the host thread waits for the answer
 * synchronously (spinning first), so the worker should keep off its CPU (RequestWords.cpu).
 */
export function dispatchJob(worker: WorkerHandle, job: Job, waits: boolean): void {
  const slot = worker.slot;
  const plugin = job.plugin;
  const post = (message: ToWorker, transfer: ArrayBuffer[] = []): void => worker.post(message, transfer);
  let length = 0;
  let name = 0;
  // A large input that fits the slot is copied after the worker is woken (pool-protocol.ts, WORD.INPUT_READY).
  let streamed: Uint8Array | undefined;
  // The host thread's CPU, for a job it waits for (RequestWords.cpu); -1 otherwise.
  const cpu = waits ? currentCpu() : -1;
  switch (job.op) {
    case OP.LOAD:
      if (plugin !== undefined) post({ type: 'load', plugin: plugin.index, spec: plugin.spec });
      break;
    case OP.CALL: {
      if (plugin === undefined) break;
      let id = plugin.names.get(job.exportName);
      // A plain call (nothing to post first, nothing traced) may go the host thread's own way.
      const direct = worker.direct;
      if (direct !== undefined && id !== undefined && job.probe?.traceHostCalls !== true && !slot.auditBroken) {
        const request = { op: OP.CALL, plugin: plugin.index, name: id, length: 0, fuel: job.lent ?? NO_FUEL, cpu };
        if (direct.send(slot, request, job.input ?? EMPTY)) {
          job.startedAt = performance.now();
          return;
        }
      }
      if (id === undefined) {
        id = plugin.names.size;
        plugin.names.set(job.exportName, id);
        post({ type: 'name', plugin: plugin.index, id, name: job.exportName });
      }
      name = id;
      const input = job.input ?? EMPTY;
      if (input.length >= STREAM_FROM_BYTES && input.length <= slot.data.length) {
        streamed = input;
        length = input.length;
      } else length = writePayload(slot, post, input);
      break;
    }
    case OP.LIFECYCLE: {
      name = job.step;
      // A lifecycle step goes the direct way too: pausing a confined plugin is a step then a
      // freeze, and the relay's two wake-ups cost more than the freeze (docs/sandbox.md).
      const direct = worker.direct;
      if (direct !== undefined && plugin !== undefined && !slot.auditBroken && direct.send(slot, { op: OP.LIFECYCLE, plugin: plugin.index, name, length: 0, fuel: job.lent ?? NO_FUEL, cpu }, EMPTY)) {
        job.startedAt = performance.now();
        return;
      }
      break;
    }
    case OP.POLICY:
      if (job.policy !== undefined) post({ type: 'policy', policy: job.policy });
      break;
  }
  slot.writeRequest({ op: job.op, plugin: plugin?.index ?? 0, name, length, fuel: job.lent ?? NO_FUEL, trace: job.probe?.traceHostCalls === true, park: !spinAllowed(performance.now()), cpu, streamed: streamed !== undefined });
  job.startedAt = performance.now();
  // A worker woken from its park takes a while to run: a spin running out on it says nothing of contention.
  worker.wokeForJob = slot.signal(STATE.REQUEST) > 0;
  if (streamed !== undefined) {
    copyBytes(slot.data, streamed);
    slot.publishInput(streamed.length);
  }
  // While the worker runs the call: the array for an answer the size of the last two (pool-answer.ts).
  const predicted = job.op === OP.CALL ? (plugin?.answers.predicted ?? 0) : 0;
  if (predicted > 0 && predicted <= slot.data.length) job.answer = prepareAnswer(predicted);
}

/**
 * A plugin's moving average of its jobs' time (LanePlugin.meanUs), which decides whether
 * the host waits for its next call synchronously (pool-lane.ts: under `fastWaitUs`), after
 * a job of `elapsedUs`. A job counts as at most twice the fast wait: on a busy machine the
 * worker is now and then descheduled mid-call for a whole time slice (a millisecond or
 * more), and one such job counted in full kept the plugin's next several calls off the
 * fast wait, each a trip through the event loop (measured: about 1% of the calls beside two
 * CPU-bound processes, right at the p99). Calls that really take longer than the fast wait
 * leave it after four.
 */
export function nextMeanUs(meanUs: number, elapsedUs: number, fastWaitUs: number): number {
  const counted = Math.min(elapsedUs, 2 * fastWaitUs);
  return meanUs === 0 ? counted : meanUs * 0.8 + counted * 0.2;
}

/**
 * Reads the finished job's answer from the slot, hands the slot back (IDLE), and
 * settles `job` (undefined: an answer nobody waits for any more).
 */
export function settleJob(worker: WorkerHandle, job: Job | undefined, env: SettleEnv): void {
  const slot = worker.slot;
  worker.drainIfFlagged();
  const { status, length, fuel, charge } = slot.readAnswer();
  const flags = slot.flags;
  const elapsedUs = slot.elapsedUs;
  const memoryBytes = slot.memoryBytes;
  const payload = worker.takePayload(length, job?.answer);
  // Taken whatever happens, so a trace never outlives the answer it came with.
  const trace = worker.takeTrace();
  slot.settle(STATE.IDLE);
  if (job === undefined) return;
  clearTimeout(job.timer);
  job.spent = charge;
  const plugin = job.plugin;
  const error = status === STATUS.ERROR ? errorFrom(payload) : undefined;
  if (plugin !== undefined && (job.op === OP.CALL || job.op === OP.LIFECYCLE)) {
    plugin.book.ran(error === undefined, fuel, memoryBytes);
    const probe = job.probe;
    if (probe !== undefined) {
      probe.fuelUsed = fuel;
      probe.memoryBytes = memoryBytes;
      if (trace !== undefined) {
        probe.hostCalls = trace.records;
        probe.droppedHostCalls = trace.dropped;
      }
    }
    plugin.meanUs = nextMeanUs(plugin.meanUs, elapsedUs, env.fastWaitUs);
    if (elapsedUs >= env.busyCallUs) env.heat(plugin, HEAT.slowCall);
    // Running out of lent fuel is the caller's budget running out: no heat, no poison.
    if (error !== undefined && (flags & FLAG.RECREATED) !== 0) plugin.book.restarted(error);
    else if (error?.code === 'FO_SANDBOX_CPU_LIMIT') env.heat(plugin, HEAT.fault);
    if (error !== undefined && (flags & FLAG.POISONED) !== 0) plugin.book.poison(error);
  }
  if (plugin !== undefined && job.op === OP.LOAD && error === undefined) plugin.loaded = true;
  if (plugin !== undefined && job.op === OP.UNLOAD) env.forget(plugin);
  job.answer = undefined;
  if (error !== undefined) job.reject(error);
  else if (job.op === OP.CALL) {
    plugin?.answers.record(payload.length);
    job.resolve(payload);
  }
  else if (job.op === OP.LIFECYCLE) job.resolve(status !== STATUS.NONE);
  else job.resolve(undefined);
}
