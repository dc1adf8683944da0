/**
 * The wire between the pool's host thread and one worker: a SharedArrayBuffer slot
 * (a header of 32-bit words and a data area) driven by Atomics.wait/notify, plus a
 * MessagePort for what does not fit in the slot or is not on the call path.
 *
 * ```
 * host thread                                   worker
 *   write op, plugin, name, payload,
 *     fuel lent (forge.call_plugin)
 *   STATE = REQUEST, notify          ->          wakes; runs the job
 *                                                 (needs the host:) write request and
 *                                                 the asking plugin's fuel left,
 *   wakes; serves the host call      <-           STATE = HOST_REQUEST, notify; waits
 *   write reply and the fuel the
 *     plugins it called used,
 *     STATE = HOST_REPLY             ->           wakes; takes that fuel; STATE = BUSY
 *                                                 write status, output, fuel used
 *   wakes; settles the job; IDLE     <-           STATE = DONE, notify; waits for REQUEST
 * ```
 *
 * While the worker waits for a host reply it also accepts a REQUEST: a nested job the
 * host runs synchronously while serving (a plugin calling another plugin of the same
 * worker through the host). Payloads up to the data area's size travel in the slot;
 * larger ones as a transferred ArrayBuffer on the port, with LENGTH = -1. A large input
 * may be streamed: copied after the REQUEST wakes the worker, which waits for INPUT_READY.
 * Everything the worker reports outside the call path (audit entries, logs, events, anomalies)
 * goes on the port in batches posted before the worker moves to HOST_REQUEST or DONE,
 * with FLAGS.MESSAGES set, so the host reads them before it acts on the state.
 */
import type { LogRecord } from '@forgeone/common';
import type { Anomaly, HostCallCount } from '@forgeone/microkernel';
import type { MessagePort } from 'node:worker_threads';
import type { PluginEvent } from '../syscall/index.js';
import type { FoldProgress } from './audit-fold.js';
import type { BackendAuditEntry } from './plugin-gate.js';
import type { HostCallRecord, PluginSpec, PolicySpec } from './spec.js';
import { copyBytes } from '../abi/bytes-copy.js';

export { errorBytes, errorFrom, text, utf8 } from './pool-text.js';

/** Values of the STATE word. */
export const STATE = Object.freeze({ IDLE: 0, REQUEST: 1, BUSY: 2, HOST_REQUEST: 3, HOST_REPLY: 4, DONE: 5, DEAD: 6 });

/**
 * Jobs the host gives a worker (the OP word with STATE = REQUEST). ADOPT, for a sandbox's
 * relay only: the host thread sent this call to the sandbox itself (process/direct.ts);
 * read its frames from where the host thread stopped.
 */
export const OP = Object.freeze({ LOAD: 1, CALL: 2, LIFECYCLE: 3, UNLOAD: 4, POLICY: 5, ADOPT: 6 });

/** What a worker asks the host (the OP word with STATE = HOST_REQUEST). */
export const HOST_OP = Object.freeze({ CALL: 1, RESOURCE: 2, HTTP: 3 });

/** The STATUS word of a reply. */
export const STATUS = Object.freeze({ OK: 0, ERROR: 1, NONE: 2 });

/**
 * Bits of the FLAGS word the worker sets. POISONED: the job's instance is unusable.
 * RECREATED: the job's instance ran out of fuel its caller lent it and was re-created
 * (not the plugin's failure).
 */
export const FLAG = Object.freeze({ MESSAGES: 1, POISONED: 2, RECREATED: 4 });

/** Indices of the header's 32-bit words. */
export const WORD = Object.freeze({
  STATE: 0,
  OP: 1,
  /** The plugin's index in its worker. */
  PLUGIN: 2,
  /** The export name's id (CALL), the step's index (LIFECYCLE), the registered call's index (HOST_OP). */
  NAME: 3,
  /** Payload bytes in the data area; -1: the payload is a message on the port. */
  LENGTH: 4,
  STATUS: 5,
  FLAGS: 6,
  /** Set by the host while BackendHost.audit fails (cleared once it takes a record again): the worker refuses audited calls. */
  AUDIT_BROKEN: 7,
  /** Time the worker spent on the job, in microseconds. */
  ELAPSED_US: 8,
  /** Set to 1 (and notified) by the worker once it is ready for jobs. */
  READY: 9,
  /** REQUEST (CALL): bit 1 to record the host calls the call makes (tracing); bit 2, see RequestWords.park; bits 8 and up, RequestWords.cpu + 1. */
  TRACE: 10,
  /** DONE (CALL, LIFECYCLE): the instance's linear memory after the job, in 64 KiB pages. */
  MEMORY_PAGES: 11,
  /** REQUEST: payload bytes in the data area: LENGTH, or 0 for a streamed request until the host publishes it (Slot.publishInput). Word 16: bytes 48-63 hold the 64-bit words. */
  INPUT_READY: 16,
});

/** Bytes of a wasm page. */
const PAGE_BYTES = 65_536;

/** Indices of the header's 64-bit words (bytes 48-55 and 56-63), read and written as bigints. */
const BIG = Object.freeze({
  /**
   * REQUEST: fuel the caller lends the job (it runs on at most that), {@link NO_FUEL}
   * for its own budget. HOST_REQUEST: fuel the asking plugin has left, NO_FUEL when it
   * is not metered. DONE: fuel the job used, at most its budget.
   */
  FUEL: 6,
  /** DONE: fuel the job used with its overshoot (what a lender is charged). HOST_REPLY: fuel to take from the asking plugin. */
  CHARGE: 7,
});

/** The FUEL word's "none": no fuel lent, or a plugin that is not metered. */
export const NO_FUEL = -(2n ** 63n);

/** Bytes before the data area (the header's words, padded to a cache line). */
export const HEADER_BYTES = 128;

/** Default size of a slot's data area: 1 MiB. */
export const DEFAULT_SLOT_BYTES = 1024 * 1024;

/** The words of a request: a job (host to worker) or a host request (worker to host). */
export interface RequestWords {
  readonly op: number;
  /** The plugin's index in its worker (0 for jobs of no plugin). */
  readonly plugin: number;
  /** See {@link WORD}.NAME. */
  readonly name: number;
  /** Payload bytes in the data area; -1: the payload is a message on the port. */
  readonly length: number;
  /** See BIG.FUEL; default {@link NO_FUEL}. */
  readonly fuel?: bigint;
  /** See {@link WORD}.TRACE; default false. */
  readonly trace?: boolean;
  /**
   * REQUEST: the host's spinning is off (its CPU is contended, spin-governor.ts), so the
   * worker should not spin either once the job is done; default false. Bit 2 of the TRACE word.
   */
  readonly park?: boolean;
  /**
   * REQUEST: the CPU the host thread wrote it on when it waits for the answer synchronously
   * (thread-priority.ts HostCpuAvoider), -1 (the default) when it does not or cannot tell.
   */
  readonly cpu?: number;
  /** REQUEST: the payload is not in the data area yet; the writer copies it after signalling and calls Slot.publishInput. Default false. */
  readonly streamed?: boolean;
}

/** The words of an answer: a finished job (worker to host) or a host reply (host to worker). */
export interface AnswerWords {
  readonly status: number;
  /** As {@link RequestWords.length}. */
  readonly length: number;
  /** DONE: fuel the job used, at most its budget. Not written when absent. */
  readonly fuel?: bigint;
  /** See BIG.CHARGE; default 0. */
  readonly charge?: bigint;
}

/**
 * Views over one slot. Every write to a header word goes through a method here that
 * names it, so the two sides cannot disagree on which word means what.
 */
export class Slot {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly data: Uint8Array;
  readonly #big: BigInt64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#big = new BigInt64Array(buffer, 0, HEADER_BYTES / 8);
    this.data = new Uint8Array(buffer, HEADER_BYTES);
  }

  /** A new slot buffer with a data area of `dataBytes`. */
  static allocate(dataBytes: number): SharedArrayBuffer {
    return new SharedArrayBuffer(HEADER_BYTES + dataBytes);
  }

  get state(): number {
    return Atomics.load(this.header, WORD.STATE);
  }

  /** Moves to `state` and wakes whoever waits on the STATE word. @returns how many it woke */
  signal(state: number): number {
    Atomics.store(this.header, WORD.STATE, state);
    return Atomics.notify(this.header, WORD.STATE);
  }

  /** Moves to `state` without waking anyone (the side that moves is the one that waits next). */
  settle(state: number): void {
    Atomics.store(this.header, WORD.STATE, state);
  }

  /** Writes the OP, PLUGIN, NAME, LENGTH and FUEL words of a request (before signalling it). */
  writeRequest(words: RequestWords): void {
    const header = this.header;
    header[WORD.OP] = words.op;
    header[WORD.PLUGIN] = words.plugin;
    header[WORD.NAME] = words.name;
    header[WORD.LENGTH] = words.length;
    header[WORD.TRACE] = (words.trace === true ? 1 : 0) | (words.park === true ? 2 : 0) | (((words.cpu ?? -1) + 1) << 8);
    this.#big[BIG.FUEL] = words.fuel ?? NO_FUEL;
    Atomics.store(header, WORD.INPUT_READY, words.streamed === true ? 0 : Math.max(0, words.length));
  }

  /** A streamed request's payload (`length` bytes) is in the data area: wakes a worker waiting for it. */
  publishInput(length: number): void {
    Atomics.store(this.header, WORD.INPUT_READY, length);
    Atomics.notify(this.header, WORD.INPUT_READY);
  }

  /**
   * The request's first `length` bytes of payload, once the host has copied them into the
   * data area (at once unless it was streamed): spinning up to 200 us, the host being mid-copy,
   * then waiting.
   */
  input(length: number): Uint8Array {
    const header = this.header;
    let ready = Atomics.load(header, WORD.INPUT_READY);
    if (ready < length) {
      const until = performance.now() + 0.2;
      while (ready < length && performance.now() < until) ready = Atomics.load(header, WORD.INPUT_READY);
      while (ready < length) {
        Atomics.wait(header, WORD.INPUT_READY, ready, 10);
        ready = Atomics.load(header, WORD.INPUT_READY);
      }
    }
    return this.data.subarray(0, length);
  }

  /** The request the other side wrote. */
  readRequest(): Required<RequestWords> {
    const header = this.header;
    return {
      op: header[WORD.OP] ?? 0,
      plugin: header[WORD.PLUGIN] ?? 0,
      name: header[WORD.NAME] ?? 0,
      length: header[WORD.LENGTH] ?? 0,
      fuel: this.#big[BIG.FUEL] ?? NO_FUEL,
      trace: ((header[WORD.TRACE] ?? 0) & 1) === 1,
      park: ((header[WORD.TRACE] ?? 0) & 2) !== 0,
      cpu: ((header[WORD.TRACE] ?? 0) >>> 8) - 1,
      streamed: Atomics.load(header, WORD.INPUT_READY) < (header[WORD.LENGTH] ?? 0),
    };
  }

  /** Writes the STATUS, LENGTH, FUEL (when given) and CHARGE words of an answer (before signalling it). */
  writeAnswer(words: AnswerWords): void {
    this.header[WORD.STATUS] = words.status;
    this.header[WORD.LENGTH] = words.length;
    if (words.fuel !== undefined) this.#big[BIG.FUEL] = words.fuel;
    this.#big[BIG.CHARGE] = words.charge ?? 0n;
  }

  /** The answer the other side wrote. */
  readAnswer(): Required<AnswerWords> {
    return { status: this.header[WORD.STATUS] ?? STATUS.OK, length: this.header[WORD.LENGTH] ?? 0, fuel: this.#big[BIG.FUEL] ?? 0n, charge: this.#big[BIG.CHARGE] ?? 0n };
  }

  /** The FLAGS word (bits of {@link FLAG}). */
  get flags(): number {
    return this.header[WORD.FLAGS] ?? 0;
  }

  set flags(value: number) {
    this.header[WORD.FLAGS] = value;
  }

  /** Time the worker spent on the finished job, in microseconds (capped at 2^31 - 1). */
  get elapsedUs(): number {
    return this.header[WORD.ELAPSED_US] ?? 0;
  }

  set elapsedUs(value: number) {
    this.header[WORD.ELAPSED_US] = Math.min(2 ** 31 - 1, Math.round(value));
  }

  /** The instance's linear memory after the finished job, in bytes (a whole number of pages). */
  get memoryBytes(): number {
    return (this.header[WORD.MEMORY_PAGES] ?? 0) * PAGE_BYTES;
  }

  set memoryBytes(bytes: number) {
    this.header[WORD.MEMORY_PAGES] = Math.floor(bytes / PAGE_BYTES);
  }

  /** True while the host says that BackendHost.audit fails. */
  get auditBroken(): boolean {
    return Atomics.load(this.header, WORD.AUDIT_BROKEN) !== 0;
  }

  /** Tells the worker that BackendHost.audit failed (`true`), or takes records again (`false`). */
  setAuditBroken(broken: boolean): void {
    Atomics.store(this.header, WORD.AUDIT_BROKEN, broken ? 1 : 0);
  }

  /** True once the worker is ready for jobs. */
  get ready(): boolean {
    return Atomics.load(this.header, WORD.READY) !== 0;
  }

  /** The worker says it is ready for jobs and wakes whoever waits for that. */
  markReady(): void {
    Atomics.store(this.header, WORD.READY, 1);
    Atomics.notify(this.header, WORD.READY);
  }
}

/**
 * An audit entry, log record, event, anomaly, host-call counts, or the running counts of
 * a call that folds its allowed records (kept by the host for the summary of a call it
 * kills: pool-fold-progress.ts), on its way to the host thread.
 */
export type TelemetryItem =
  | { readonly kind: 'audit'; readonly plugin: string; readonly entry: BackendAuditEntry }
  | { readonly kind: 'log'; readonly plugin: string; readonly record: LogRecord }
  | { readonly kind: 'event'; readonly plugin: string; readonly event: PluginEvent }
  | { readonly kind: 'anomaly'; readonly plugin: string; readonly anomaly: Anomaly }
  | { readonly kind: 'counts'; readonly plugin: string; readonly counts: readonly HostCallCount[] }
  | { readonly kind: 'fold'; readonly plugin: string; readonly progress: FoldProgress };

/** The host calls a traced call made (posted just before its DONE). */
export interface TraceMessage {
  readonly type: 'trace';
  readonly records: readonly HostCallRecord[];
  readonly dropped: number;
}

/** Messages to a worker, posted just before the job (or reply) that needs them. */
export type ToWorker =
  | { readonly type: 'load'; readonly plugin: number; readonly spec: PluginSpec }
  | { readonly type: 'name'; readonly plugin: number; readonly id: number; readonly name: string }
  | { readonly type: 'policy'; readonly policy: PolicySpec }
  | { readonly type: 'payload'; readonly bytes: Uint8Array };

/** Messages to the host thread. */
export type ToHost =
  /** `batch`: the number of the worker's audit mirror batch it empties (pool-audit-mirror.ts), when it has one. */
  | { readonly type: 'telemetry'; readonly items: readonly TelemetryItem[]; readonly batch?: number }
  | { readonly type: 'payload'; readonly bytes: Uint8Array }
  | TraceMessage
  /** A sandbox relay's last word before it signals DEAD: why (a ForgeError as JSON). */
  | { readonly type: 'lost'; readonly error: unknown };

/**
 * A pool worker loop's end of its port: a MessagePort in a pool worker thread (read with
 * receiveMessageOnPort: pool-worker-loop.ts runPoolWorker), an in-thread pair of queues in a
 * sandbox process (process/child.ts), which so never loads node:worker_threads.
 */
export interface WorkerPort {
  postMessage(message: ToHost, transfer?: ArrayBuffer[]): void;
  /** The next message the host posted, or undefined. */
  receive(): ToWorker | undefined;
}
/** What a pool worker receives as workerData. */
export interface PoolWorkerData {
  readonly slot: SharedArrayBuffer;
  readonly port: MessagePort;
  /** How long the worker spins on its slot before parking, in microseconds. */
  readonly spinUs: number;
  /**
   * True inside a confined sandbox (process backend): forge.http_request hops are not
   * made here but asked of the host (HOST_OP.HTTP, the hop as JSON), which decides them
   * under its own policy and makes them. Default false: the worker's own I/O bridge.
   */
  readonly forwardHttp?: boolean;
  /**
   * The lane's cancel buffer (pool-cancel.ts): a job blocked in a wait the worker
   * controls is stopped there at its deadline. Absent: no job is cancelled in place (the
   * lane terminates the worker).
   */
  readonly cancel?: SharedArrayBuffer;
  /** Where the worker keeps what a host stopping it must not lose (pool-ledger.ts). Absent: nothing is kept. */
  readonly ledger?: ArrayBufferLike;
  /**
   * The nice value the worker gives its own thread at start (Linux; elsewhere nothing): the
   * isolation worker's {@link ISOLATION_NICE}, the pool's `workerNice` for the others. Absent: the process's own.
   */
  readonly nice?: number;
  /** The time slice the worker asks for at start (thread-priority.ts), and whether failing to get it fails the worker. Absent: the kernel's. */
  readonly slice?: { readonly us: number; readonly required: boolean };
}

/**
 * The nice value of the pool's isolation worker thread, where the plugins that ran out of
 * fuel, timed out or ran long calls are kept: when the CPUs are contended, the kernel gives
 * it about a tenth of the share of a normal thread (CFS weights 110 against 1024), so a
 * spinning plugin there slows its well-behaved neighbours on other workers little; with a
 * CPU to spare, it runs at full speed.
 */
export const ISOLATION_NICE = 10;

/**
 * Puts `bytes` where the other side will look for them: into the data area when they
 * fit (returns the length), else on the port as a transferred copy (returns -1).
 */
export function writePayload(slot: Slot, post: (message: { type: 'payload'; bytes: Uint8Array }, transfer: ArrayBuffer[]) => void, bytes: Uint8Array): number {
  if (bytes.length <= slot.data.length) {
    copyBytes(slot.data, bytes);
    return bytes.length;
  }
  const copy = bytes.slice();
  post({ type: 'payload', bytes: copy }, [copy.buffer]);
  return -1;
}
