/**
 * The worker side of the pool: hosts many plugins and runs one job at a time from its
 * slot (pool-protocol.ts). The thread never returns to its event loop: it blocks in
 * Atomics.wait between jobs and reads its port synchronously, so a job starts within
 * microseconds of the host's notify and nothing else runs between jobs.
 */
import { isMainThread, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ForgeError, toForgeError } from '@forgeone/common';
import { ENTRY_POINT_NAMES } from '../plugin/entry-points.js';
import { createIoBridge } from '../syscall/index.js';
import { HostedPlugin, type ThreadResources } from './hosted-plugin.js';
import { PolicyCache, checkPolicyFor } from './policy.js';
import { SpecInterner } from './spec-intern.js';
import { WorkerCancel } from './pool-worker-cancel.js';
import { HostCpuAvoider, SliceSwitch, applyThreadPriority } from './thread-priority.js';
import { spinOn } from './spin-governor.js';
import { WorkerOutbox } from './pool-worker-outbox.js';
import { openLedger } from './pool-ledger.js';
import { workerResources, workerSinks, type Ask } from './pool-worker-sinks.js';
import {
  FLAG,
  NO_FUEL,
  OP,
  STATE,
  STATUS,
  Slot,
  WORD,
  errorBytes,
  errorFrom,
  writePayload,
  type PoolWorkerData,
  type ToWorker,
  type WorkerPort,
} from './pool-protocol.js';
import type { CallerFuel, PluginSpec, PolicySpec } from './spec.js';
import { copyBytes, copyOut } from '../abi/bytes-copy.js';

/** Hooks: a test's, or those of a loop that has no host thread (a sandbox process's). */
export interface PoolWorkerHooks {
  /** Runs before each call job, with the plugin's id and the export's name. */
  readonly beforeCall?: (plugin: string, exportName: string) => void;
  /**
   * Waits for the STATE word to leave `state` (default: Atomics.wait, for a host thread
   * to write it). A loop serving its host some other way brings the host's next step
   * into the slot here (sandbox.ts: the next frame).
   */
  readonly park?: (state: number) => void;
  /** Runs after the loop signalled `state` (DONE, HOST_REQUEST): such a loop sends it on. */
  readonly signalled?: (state: number) => void;
  /** Runs after a batch of telemetry was posted mid-job: such a loop sends it on now (what a killed job had posted is not lost). */
  readonly telemetry?: () => void;
}

const EMPTY = new Uint8Array(0);

interface WorkerPlugin {
  readonly plugin: HostedPlugin;
  /** Export names by the id the host gave them. */
  readonly names: string[];
}

/** The state of one pool worker. */
class PoolWorker {
  readonly #slot: Slot;
  readonly #port: WorkerPort;
  readonly #hooks: PoolWorkerHooks;
  readonly #cancel: WorkerCancel;
  readonly #resources: ThreadResources;
  readonly #plugins = new Map<number, WorkerPlugin>();
  readonly #specs = new Map<number, PluginSpec>();
  /** Equal parts of the plugins' specs, held once (spec-intern.ts). */
  readonly #interner = new SpecInterner();
  readonly #names: { plugin: number; id: number; name: string }[] = [];
  readonly #payloads: Uint8Array[] = [];
  readonly #spinMs: number;
  /** The last job's host does not spin (RequestWords.park): neither does this worker then. */
  #hostParks = false;
  /** The CPU the host thread wrote the last job on (RequestWords.cpu), -1 when unknown. */
  #hostCpu = -1;
  readonly #cpus = new HostCpuAvoider();
  /** The short time slice, taken while this worker parks between jobs (thread-priority.ts). */
  readonly #slice: SliceSwitch;
  readonly #forwardHttp: boolean;
  #policy: PolicySpec | undefined;
  readonly #outbox: WorkerOutbox;
  readonly #asker: Ask = (op, index, name, request, fuel) => this.#ask(op, index, name, request, fuel);
  /** The instances this worker hosts (made only when counts are shipped). */
  readonly #hosted = (): HostedPlugin[] => [...this.#plugins.values()].map(({ plugin }) => plugin);

  constructor(data: Omit<PoolWorkerData, 'port'>, port: WorkerPort, hooks: PoolWorkerHooks) {
    this.#slot = new Slot(data.slot);
    this.#cancel = new WorkerCancel(data.cancel);
    this.#resources = { policies: new PolicyCache(), ioBridge: this.#cancel.bridge(createIoBridge('forge-io-pool')), sleep: this.#cancel.sleep };
    this.#port = port;
    this.#outbox = new WorkerOutbox(port, hooks.telemetry, data.ledger === undefined ? {} : openLedger(data.ledger));
    this.#spinMs = data.spinUs / 1000;
    this.#slice = new SliceSwitch(data.slice?.us);
    this.#forwardHttp = data.forwardHttp === true;
    this.#hooks = hooks;
  }

  /** Serves jobs until the thread is terminated. */
  serve(): never {
    this.#slot.markReady();
    for (;;) {
      const state = this.#spin(STATE.REQUEST, STATE.REQUEST);
      if (state === STATE.REQUEST) this.#job();
      else {
        // Going idle: the host gets the counts of the last calls now, not at the next call.
        this.#outbox.shipCounts(this.#hosted, true, performance.now());
        this.#park(state);
      }
    }
  }

  #park(state: number): void {
    this.#slice.parking(true);
    if (this.#hooks.park !== undefined) this.#hooks.park(state);
    else Atomics.wait(this.#slot.header, WORD.STATE, state);
  }

  /**
   * Reads the STATE word until it is `a` or `b`, for at most the spin budget: the next
   * request usually follows within microseconds, and a parked thread takes 10-20 us to
   * wake on a virtual machine.
   * @returns the last state read
   */
  #spin(a: number, b: number): number {
    const header = this.#slot.header;
    const state = Atomics.load(header, WORD.STATE);
    if (state === a || state === b || this.#cpus.sharing(this.#hostCpu) || this.#spinMs <= 0 || this.#hostParks) return state;
    this.#slice.parking(false);
    return spinOn(header, WORD.STATE, a, b, b, performance.now() + this.#spinMs, false);
  }


  /** Marks the slot dead so a host blocked on it wakes (best effort: not after a hard crash). */
  died(): void {
    this.#slot.signal(STATE.DEAD);
  }

  #job(): void {
    const slot = this.#slot;
    this.#drain();
    const { op, plugin: index, name, length, fuel: lentWord, trace, park, cpu } = slot.readRequest();
    this.#hostParks = park;
    this.#hostCpu = cpu;
    if (cpu < 0) this.#cpus.release();
    const lent = lentWord === NO_FUEL ? undefined : lentWord;
    // Take the job's input before anything can fail, so a large one never stays queued
    // to be mistaken for a later job's.
    const input = length < 0 ? (this.#payloads.shift() ?? EMPTY) : slot.input(length);
    const started = performance.now();
    this.#cancel.enter();
    let status: number = STATUS.OK;
    let flags = 0;
    let reply = -2; // -2: nothing written yet
    let target: WorkerPlugin | undefined;
    // The instance that ran (target.plugin changes when a re-creation replaces it).
    let ran: HostedPlugin | undefined;
    try {
      switch (op) {
        case OP.LOAD:
          this.#load(index);
          reply = 0;
          break;
        case OP.CALL: {
          target = this.#plugin(index);
          ran = target.plugin;
          this.#cancel.running(ran);
          const exportName = target.names[name] ?? '';
          this.#hooks.beforeCall?.(target.plugin.spec.id, exportName);
          // An output too large for the slot is posted only once the call has fully
          // succeeded (forge_free may still trap after the output was read).
          let large: Uint8Array | undefined;
          const recorder = trace ? ran.gate.recorder : undefined;
          recorder?.begin();
          try {
            reply = ran.callWith(
              exportName,
              input,
              (output) => {
                if (output.length <= slot.data.length) {
                  copyBytes(slot.data, output);
                  return output.length;
                }
                large = output.slice();
                return -1;
              },
              lent,
            );
          } finally {
            if (recorder !== undefined) this.#outbox.postTrace(recorder);
          }
          if (large !== undefined) this.#outbox.post({ type: 'payload', bytes: large }, [large.buffer as ArrayBuffer]);
          break;
        }
        case OP.LIFECYCLE: {
          target = this.#plugin(index);
          ran = target.plugin;
          this.#cancel.running(ran);
          const step = ENTRY_POINT_NAMES[name];
          if (step === undefined) throw new ForgeError('FO_INTERNAL_UNEXPECTED', `pool worker: no lifecycle step ${name}`);
          if (!target.plugin.lifecycle(step)) status = STATUS.NONE;
          reply = 0;
          break;
        }
        case OP.UNLOAD: {
          const leaving = this.#plugins.get(index)?.plugin;
          if (leaving !== undefined) this.#outbox.queueCounts(leaving);
          leaving?.close();
          this.#plugins.delete(index);
          reply = 0;
          break;
        }
        case OP.POLICY:
          this.#setPolicy();
          reply = 0;
          break;
        default:
          throw new ForgeError('FO_INTERNAL_UNEXPECTED', `pool worker: unknown job ${op}`);
      }
      // SECURITY: a cancelled job fails even when its guest caught the unwinding exception.
      const cancelled = this.#cancel.fired;
      if (cancelled !== undefined) throw cancelled;
    } catch (error) {
      status = STATUS.ERROR;
      const cancelled = this.#cancel.fired;
      reply = this.#payload(errorBytes(guestSafe(cancelled ?? error)));
      if (cancelled !== undefined && ran !== undefined) {
        // SECURITY: the instance was stopped mid-call and never runs again; its neighbours are untouched.
        flags |= FLAG.POISONED;
        if (this.#plugins.get(index)?.plugin === ran) this.#plugins.delete(index);
        this.#outbox.queueCounts(ran);
        ran.close();
      } else if (ran?.fault !== undefined && target !== undefined) flags |= ran.ranOutOfLentFuel && this.#recreate(index, target) ? FLAG.RECREATED : FLAG.POISONED;
    }
    const finished = performance.now();
    slot.elapsedUs = (finished - started) * 1000;
    if (ran !== undefined) {
      slot.memoryBytes = ran.memoryBytes;
      this.#outbox.jobDone(ran);
    }
    this.#outbox.shipCounts(this.#hosted, false, finished);
    slot.writeAnswer({ status, length: reply === -2 ? 0 : reply, fuel: ran?.lastFuelUsed ?? 0n, charge: ran?.lastFuelSpent ?? 0n });
    // SECURITY: nothing a job was sent may outlive it (it would be read as the next one's).
    this.#payloads.length = 0;
    this.#cancel.leave();
    this.#finish(flags, STATE.DONE);
  }

  /** Posts pending telemetry, sets FLAGS and moves to `state`. */
  #finish(flags: number, state: number): void {
    this.#outbox.flush();
    this.#slot.flags = flags | (this.#outbox.takePosted() ? FLAG.MESSAGES : 0);
    this.#slot.signal(state);
    this.#hooks.signalled?.(state);
  }

  /** Writes a job's output or error payload; returns the LENGTH word. */
  #payload(bytes: Uint8Array): number {
    return writePayload(this.#slot, (message, transfer) => this.#outbox.post(message, transfer), bytes);
  }

  #plugin(index: number): WorkerPlugin {
    const found = this.#plugins.get(index);
    if (found === undefined) throw new ForgeError('FO_SANDBOX_UNLOADED', `the plugin in slot ${index} of this worker was unloaded`, { details: { index } });
    return found;
  }

  /** Applies every message the host posted for the job (or reply) at hand. */
  #drain(): void {
    for (let message = this.#port.receive(); message !== undefined; message = this.#port.receive()) {
      switch (message.type) {
        case 'load':
          this.#specs.set(message.plugin, this.#interner.intern(message.spec));
          break;
        case 'name':
          this.#names.push(message);
          break;
        case 'policy':
          this.#policy = message.policy;
          break;
        case 'payload':
          this.#payloads.push(message.bytes);
          break;
      }
    }
    for (const { plugin, id, name } of this.#names.splice(0)) {
      const target = this.#plugins.get(plugin);
      if (target !== undefined) target.names[id] = name;
    }
  }

  #load(index: number): void {
    const spec = this.#specs.get(index);
    this.#specs.delete(index);
    if (spec === undefined) throw new ForgeError('FO_INTERNAL_UNEXPECTED', `pool worker: no spec for plugin slot ${index}`);
    this.#plugins.get(index)?.plugin.close();
    const plugin = HostedPlugin.create(spec, workerSinks(index, spec, this.#slot, this.#outbox, this.#asker), workerResources(this.#resources, this.#forwardHttp, index, this.#asker));
    this.#plugins.set(index, { plugin, names: [] });
  }

  /**
   * Re-creates a plugin whose instance ran out of the fuel its caller lent it (the
   * caller's budget ran out, not the plugin's), keeping its export names.
   * @returns false when that failed: the old instance stays, poisoned
   */
  #recreate(index: number, entry: WorkerPlugin): boolean {
    const spec = entry.plugin.spec;
    let fresh: HostedPlugin;
    try {
      fresh = HostedPlugin.create(spec, workerSinks(index, spec, this.#slot, this.#outbox, this.#asker), workerResources(this.#resources, this.#forwardHttp, index, this.#asker));
    } catch {
      return false;
    }
    entry.plugin.close();
    this.#plugins.set(index, { plugin: fresh, names: entry.names });
    return true;
  }

  /** Switches every plugin to the posted policy, or none of them when it does not load for one. */
  #setPolicy(): void {
    const policy = this.#policy;
    if (policy === undefined) throw new ForgeError('FO_INTERNAL_UNEXPECTED', 'pool worker: no policy was posted');
    checkPolicyFor(policy, [...this.#plugins.values()].map(({ plugin }) => plugin.spec));
    for (const { plugin } of this.#plugins.values()) plugin.setPolicy(policy);
  }

  /**
   * Asks the host thread and blocks until it answers. Nested jobs the host starts
   * meanwhile run here. With `fuel` (the asking plugin's), the host may lend it to the
   * plugins the request calls; what they used is taken from it when the answer comes.
   * @returns the answer, or undefined for STATUS.NONE
   * @throws ForgeError the host's refusal
   */
  #ask(op: number, index: number, name: number, request: Uint8Array, fuel?: CallerFuel): Uint8Array | undefined {
    const slot = this.#slot;
    this.#cancel.beforeAsk();
    slot.writeRequest({ op, plugin: index, name, length: this.#payload(request), fuel: fuel?.remaining ?? NO_FUEL });
    this.#finish(0, STATE.HOST_REQUEST);
    // Set after HOST_REQUEST: until then a cancel finds the worker busy (and terminates it).
    this.#cancel.asking(true);
    for (;;) {
      const state = this.#spin(STATE.HOST_REPLY, STATE.REQUEST);
      if (state === STATE.HOST_REPLY) break;
      if (state === STATE.REQUEST) {
        this.#cancel.asking(false);
        this.#job();
        this.#cancel.asking(true);
      } else this.#park(state);
    }
    this.#drain();
    const { status, length, charge } = slot.readAnswer();
    const answer = length < 0 ? (this.#payloads.shift() ?? EMPTY) : copyOut(slot.data, length);
    this.#payloads.length = 0;
    slot.settle(STATE.BUSY);
    this.#cancel.afterReply();
    this.#cancel.asking(false);
    if (charge !== 0n) fuel?.charge(charge);
    if (status === STATUS.ERROR) throw errorFrom(answer);
    return status === STATUS.NONE ? undefined : answer;
  }
}

/**
 * What a failure looks like once it leaves the worker: ForgeErrors as they are,
 * anything else (a bug) as FO_INTERNAL_UNEXPECTED without host details.
 */
function guestSafe(error: unknown): ForgeError {
  if (error instanceof ForgeError) return error;
  const forge = toForgeError(error);
  return new ForgeError('FO_INTERNAL_UNEXPECTED', `a pool worker failed: ${forge.message}`);
}

/**
 * Runs the pool worker's loop on this thread, for a host that is not a thread: `hooks.park`
 * brings each of the host's steps into the slot, `hooks.signalled` sends the loop's on.
 * Never returns (but by throwing from a hook).
 */
export function servePoolWorker(data: Omit<PoolWorkerData, 'port'>, port: WorkerPort, hooks: PoolWorkerHooks & Required<Pick<PoolWorkerHooks, 'park' | 'signalled'>>): never {
  return new PoolWorker(data, port, hooks).serve();
}

/**
 * Runs this thread as a pool worker. Never returns.
 * @throws Error when not started by the pool
 */
export function runPoolWorker(hooks: PoolWorkerHooks = {}): void {
  const data = workerData as Partial<PoolWorkerData> | undefined;
  if (isMainThread || !(data?.slot instanceof SharedArrayBuffer) || data.port === undefined) {
    throw new Error('runPoolWorker runs inside a worker started by the pool backend');
  }
  applyThreadPriority(data);
  const port = (data as PoolWorkerData).port;
  const worker = new PoolWorker(data as PoolWorkerData, { postMessage: (message, transfer) => port.postMessage(message, transfer), receive: () => receiveMessageOnPort(port)?.message as ToWorker | undefined }, hooks);
  process.once('exit', () => worker.died());
  worker.serve();
}
