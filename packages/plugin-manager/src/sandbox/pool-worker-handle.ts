/**
 * The host's handle on one pool worker thread: starting it with its shared slot and its
 * port, knowing when it is ready, reading what it posted (telemetry, payloads too large
 * for the slot), keeping the event loop alive only while work is pending, and
 * terminating it. It knows nothing of jobs or plugins (pool-lane.ts does).
 */
import { ForgeError } from '@forgeone/common';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { CancelControl } from './pool-cancel.js';
import { FLAG, STATE, Slot, WORD, type PoolWorkerData, type TelemetryItem, type ToHost, type ToWorker, type TraceMessage } from './pool-protocol.js';
import { copyOut } from '../abi/bytes-copy.js';
import { takeInto } from './pool-answer.js';
import type { MirroredRecord } from './pool-audit-mirror.js';
import type { TallyRead } from './fold-tally.js';
import { LedgerReader, allocateLedger } from './pool-ledger.js';
import { spinOn } from './spin-governor.js';
import type { ThreadPriority } from './thread-priority.js';
import type { DirectCalls } from './pool-direct-calls.js';

export type { DirectCalls, DirectSink } from './pool-direct-calls.js';

/** Atomics.waitAsync (ES2024; in Node since 16), typed locally: the workspace builds against ES2023. */
type WaitAsyncResult = { readonly async: false; readonly value: 'not-equal' | 'timed-out' } | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };
const atomics = Atomics as unknown as { waitAsync(this: void, array: Int32Array, index: number, value: number): WaitAsyncResult };

const waitAsync = atomics.waitAsync;

const EMPTY = new Uint8Array(0);

/** How to start a worker. */
export interface WorkerStart {
  readonly url: URL;
  /** The thread's name (`forge-pool-<lane>`). */
  readonly name: string;
  readonly slotBytes: number;
  /** How long the worker spins for its next request before parking, in microseconds. */
  readonly spinUs: number;
  /** The nice value the worker's thread takes (PoolWorkerData.nice); default the process's. */
  readonly nice?: number;
  /** The time slice the worker's thread asks for (PoolWorkerData.slice); default the kernel's. */
  readonly slice?: ThreadPriority['slice'];
  readonly resourceLimits: ResourceLimits | undefined;
  /** True when BackendHost.audit already failed: the new worker refuses audited calls from the start. */
  readonly auditBroken: boolean;
  /**
   * Sets up what the thread serves before it starts (the process backend: a confined
   * sandbox process); the thread starts once it resolves, with its `data` added to the
   * workerData. A rejection is the worker's death.
   */
  readonly prepare?: () => Promise<PreparedWorker>;
}

/** What {@link WorkerStart.prepare} set up for a worker. */
export interface PreparedWorker {
  /** Added to the worker's workerData. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Settles with why it ended (then the worker is dead). */
  readonly ended: Promise<unknown>;
  /** Why it ended, when that can be told now (a memory cgroup's OOM kill). */
  cause(): unknown;
  /** Tears it down; called once the worker is stopped. */
  stop(): Promise<void>;
  /** The host thread's own way to what the worker serves, for plain calls (a sandbox's ring: process/direct.ts). */
  readonly direct?: DirectCalls;
  /** The host's mapping of what it serves writes for a host that stops it (a sandbox's ledger, pool-ledger.ts). */
  readonly ledger?: ArrayBufferLike;
}

/** What the worker tells its owner, on the host thread. */
export interface WorkerEvents {
  /** The thread raised an error or exited; `why` is the Error or the exit code. */
  died(why: unknown): void;
  /** The worker is ready for jobs. */
  ready(): void;
  /** Audit entries, logs, events and anomalies the worker batched. */
  telemetry(items: readonly TelemetryItem[]): void;
}

/** One worker thread and its slot. See the module comment. */
export class WorkerHandle {
  readonly slot: Slot;
  /**
   * The worker's cancel buffer (pool-cancel.ts); undefined for a worker that relays to
   * a sandbox process, whose waits happen in another process.
   */
  readonly cancel: CancelControl | undefined;
  /** What the worker holds that must outlive it (pool-ledger.ts): a pool worker's, or its sandbox's once prepared (written by the sandbox: untrusted). */
  #ledger: { readonly reader: LedgerReader; readonly untrusted: boolean } | undefined;
  /** The last job's request woke the worker from its park (pool-dispatch.ts): a spin that runs out then is no miss (spin-governor.ts). */
  wokeForJob = false;
  /** The number of the last telemetry batch received from the worker's mirror. */
  #receivedBatch = 0;
  #worker: Worker | undefined;
  #prepared: PreparedWorker | Promise<PreparedWorker | undefined> | undefined;
  /** Why the worker said it was lost (a sandbox relay: its sandbox ended or broke its protocol). */
  #lost: unknown;
  readonly #port: MessagePort;
  readonly #events: WorkerEvents;
  /** Payloads the worker posted (LENGTH = -1), oldest first. */
  readonly #payloads: Uint8Array[] = [];
  /** The host calls of the traced call that finished last, until its answer is settled. */
  #trace: TraceMessage | undefined;
  /** True once the worker has loaded its modules and waits for jobs: job timers start then. */
  ready = false;
  /** The host thread's own path for plain calls, when what was prepared offers one (and once the worker is ready). */
  #direct: DirectCalls | undefined;
  /** True while an asynchronous wait is registered on the STATE word. */
  #waiting = false;
  #referenced = false;
  #stopped = false;
  /** The sandbox process this worker's thread relays to has ended (its ledger changes no more). */
  #ended = false;

  /** Starts the thread. Nothing runs on it before {@link WorkerEvents.ready}. */
  constructor(start: WorkerStart, events: WorkerEvents) {
    this.#events = events;
    const { port1, port2 } = new MessageChannel();
    this.slot = new Slot(Slot.allocate(start.slotBytes));
    if (start.auditBroken) this.slot.setAuditBroken(true);
    this.cancel = start.prepare === undefined ? new CancelControl() : undefined;
    const cancel = this.cancel === undefined ? {} : { cancel: this.cancel.buffer };
    const ledger = start.prepare === undefined ? allocateLedger() : undefined;
    if (ledger !== undefined) this.#ledger = { reader: new LedgerReader(ledger), untrusted: false };
    this.#port = port1;
    const launch = (data: Readonly<Record<string, unknown>>): void => {
      const worker = new Worker(start.url, {
        name: start.name,
        workerData: { ...data, ...cancel, ...(ledger === undefined ? {} : { ledger }), slot: this.slot.buffer, port: port2, spinUs: start.spinUs, ...(start.nice === undefined ? {} : { nice: start.nice }), ...(start.slice === undefined ? {} : { slice: start.slice }) } satisfies PoolWorkerData,
        transferList: [port2],
        ...(start.resourceLimits === undefined ? {} : { resourceLimits: start.resourceLimits }),
      });
      this.#worker = worker;
      // Without listeners an 'error' event would crash the host.
      worker.on('error', (error) => events.died(error));
      worker.on('exit', (code) => events.died(this.cause() ?? code));
      // An idle pool must not keep the process alive; a pending job's timer does.
      if (this.#referenced) worker.ref();
      else worker.unref();
    };
    if (start.prepare === undefined) launch({});
    else {
      this.#prepared = start.prepare().then(
        (prepared) => {
          this.#prepared = prepared;
          if (this.#stopped) {
            void prepared.stop();
            return undefined;
          }
          void prepared.ended.then((why) => {
            this.#ended = true;
            events.died(why);
          });
          this.#direct = prepared.direct;
          if (prepared.ledger !== undefined) this.#ledger = { reader: new LedgerReader(prepared.ledger), untrusted: true };
          launch(prepared.data);
          return prepared;
        },
        (error: unknown) => {
          this.#prepared = undefined;
          if (!this.#stopped) events.died(error);
          return undefined;
        },
      );
    }
    port1.on('message', (message: ToHost) => this.#receive(message));
    port1.unref();
    // Booting a worker (loading its modules) takes tens of milliseconds; no job and no
    // timer starts before it is ready.
    const booted = waitAsync(this.slot.header, WORD.READY, 0);
    const ready = (): void => {
      this.ready = true;
      if (!this.#stopped) events.ready();
    };
    if (booted.async) void booted.value.then(ready);
    else ready();
  }

  /** Posts a message the worker reads before the job or reply that needs it. */
  post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.#port.postMessage(message, transfer);
  }

  /** Blocks until the worker is ready, or `deadline` (performance.now() ms) passes, or it is stopped. */
  awaitReady(deadline: number): boolean {
    while (!this.slot.ready) {
      const left = deadline - performance.now();
      if (left <= 0 || this.#stopped) return false;
      Atomics.wait(this.slot.header, WORD.READY, 0, left);
    }
    this.ready = true;
    return true;
  }

  /**
   * Keeps the event loop alive while work is pending (Atomics.waitAsync alone does
   * not), and lets an idle pool go.
   */
  reference(busy: boolean): void {
    if (busy === this.#referenced) return;
    this.#referenced = busy;
    if (busy) this.#worker?.ref();
    else this.#worker?.unref();
  }

  /** The direct path, when the worker is ready for it to be used. */
  get direct(): DirectCalls | undefined {
    return this.ready && !this.#stopped ? this.#direct : undefined;
  }

  /**
   * Tells the worker that BackendHost.audit fails (`true`) or takes records again
   * (`false`). A sandbox learns it from its relay, before the next job the relay is given.
   */
  setAuditBroken(broken: boolean): void {
    this.slot.setAuditBroken(broken);
    this.#direct?.relayNext();
  }

  /** Keeps `payload` as the answer of the job at hand (a direct answer: LENGTH -1). */
  stash(payload: Uint8Array): void {
    this.#payloads.length = 0;
    this.#payloads.push(payload);
  }

  /**
   * Reads the STATE word until it shows something for the host (a host request, a
   * finished job, a dead worker) or `until` (performance.now() ms) passes. A call in
   * flight on the direct path is polled there first, and handed to the worker when it
   * needs it, or at `until` unless `keep` (the caller then waits with {@link whenChanged})
   * or a `deadline` is given: a synchronous wait for it then goes on, blocking, until that
   * deadline (performance.now() ms), before it is handed over.
   * @returns the last state read
   */
  spinForHost(until: number, keep = false, deadline?: number): number {
    const direct = this.#direct;
    if (direct?.inFlight === true) {
      if (direct.poll(this, until, keep || deadline !== undefined)) return STATE.DONE;
      if (deadline !== undefined && direct.inFlight && direct.waitSync(this, deadline)) return STATE.DONE;
    }
    return spinOn(this.slot.header, WORD.STATE, STATE.HOST_REQUEST, STATE.DONE, STATE.DEAD, until, !this.wokeForJob);
  }


  /**
   * Calls `wake` once the STATE word shows something for the host (at once if it does
   * already), without blocking the event loop. One wait at a time: a call while one is
   * registered does nothing. A stopped worker wakes nobody. A call in flight on the
   * direct path is waited for there, until it is answered or handed to the worker.
   */
  whenChanged(wake: () => void): void {
    if (this.#waiting) return;
    if (this.#direct?.inFlight === true) {
      this.#waiting = true;
      this.#direct.whenAnswered(this, () => {
        this.#waiting = false;
        if (!this.#stopped) wake();
      });
      return;
    }
    const state = this.slot.state;
    if (state === STATE.HOST_REQUEST || state === STATE.DONE || state === STATE.DEAD) {
      wake();
      return;
    }
    const waited = waitAsync(this.slot.header, WORD.STATE, state);
    if (!waited.async) {
      wake();
      return;
    }
    this.#waiting = true;
    void waited.value.then(() => {
      this.#waiting = false;
      if (!this.#stopped) wake();
    });
  }

  /** Reads what the worker posted (telemetry, large payloads), when it says it did. */
  drainIfFlagged(): void {
    if ((this.slot.flags & FLAG.MESSAGES) !== 0) this.drain();
  }

  /** Reads everything the worker posted and the event loop has not delivered yet (before it is stopped: stop() drops it). */
  drain(): void {
    for (let received = receiveMessageOnPort(this.#port); received !== undefined; received = receiveMessageOnPort(this.#port)) this.#receive(received.message as ToHost);
  }

  /** Halts the worker that is to be stopped (ledger-gate.ts): it records nothing more, so what is read next is whole. */
  haltLedger(): void {
    // A sandbox that has ended records nothing more: no wait on a busy word it left up (a crash mid-record).
    this.#ledger?.reader.halt(this.#ended);
  }

  /**
   * The audit records the worker queued and did not post (call after {@link haltLedger}
   * and {@link drain}, when the worker is to be stopped): those of its mirror's batch
   * unless it was received.
   */
  unpostedAudits(): MirroredRecord[] {
    return this.#ledger?.reader.unposted(this.#receivedBatch) ?? [];
  }

  /** The counts of the folding call of the plugin at `index` on the worker, as the worker kept them (fold-tally.ts), if it has one. */
  foldTally(index: number): TallyRead | undefined {
    return this.#ledger?.reader.tally(index);
  }

  /** True when what {@link unpostedAudits} and {@link foldTally} read was written by a sandbox process: to be checked as its frames are. */
  get ledgerUntrusted(): boolean {
    return this.#ledger?.untrusted === true;
  }

  /**
   * The payload of the request or answer at hand: from the data area, or the message
   * the worker posted for it (LENGTH = -1), copied into `prepared` when it fits exactly
   * (pool-answer.ts). Forgets every other posted payload.
   */
  takePayload(length: number, prepared?: Uint8Array): Uint8Array {
    const payload = length < 0 ? (this.#payloads.shift() ?? EMPTY) : (takeInto(this.slot.data, length, prepared) ?? copyOut(this.slot.data, length));
    // SECURITY: nothing the worker sent may outlive the request it came with.
    this.#payloads.length = 0;
    return payload;
  }

  /** The host calls the finished call recorded (when it was traced), and forgets them. */
  takeTrace(): TraceMessage | undefined {
    const trace = this.#trace;
    this.#trace = undefined;
    return trace;
  }

  /**
   * Why the worker was lost, when it can be told now: what was prepared for it says (a
   * sandbox killed for memory), else what the worker posted before it signalled DEAD.
   */
  cause(): unknown {
    const prepared = this.#prepared;
    const known = prepared !== undefined && !(prepared instanceof Promise) ? prepared.cause() : undefined;
    if (known !== undefined) return known;
    this.drain();
    return this.#lost;
  }

  /** Terminates the thread (and what was prepared for it); waiters on its slot wake and find it stopped. @returns when it is gone */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#direct?.close();
    this.#payloads.length = 0;
    this.#port.close();
    // Wakes host-side waiters on the old slot; their owner sees the worker replaced, so they stop.
    Atomics.notify(this.slot.header, WORD.STATE);
    const prepared = await this.#prepared;
    // A relay blocked reading its sandbox wakes when the sandbox is gone, and only then can be terminated.
    const stopping = prepared?.stop();
    await this.#worker?.terminate().catch(() => undefined);
    await stopping?.catch(() => undefined);
  }

  #receive(message: ToHost): void {
    if (message.type === 'lost') this.#lost = ForgeError.fromJSON(message.error);
    else if (message.type === 'payload') this.#payloads.push(message.bytes);
    else if (message.type === 'trace') this.#trace = message;
    else {
      if (message.batch !== undefined) this.#receivedBatch = Math.max(this.#receivedBatch, message.batch);
      this.#events.telemetry(message.items);
    }
  }
}
