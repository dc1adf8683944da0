/**
 * One unit of work for a pool worker (load, call, lifecycle step, unload, policy), and
 * the host-side record of a plugin placed on a worker.
 */
import { ForgeError } from '@forgeone/common';
import type { HandleBook } from './handle-state.js';
import { AnswerSizes } from './pool-answer.js';
import { OP } from './pool-protocol.js';
import type { CallProbe, PluginSpec, PolicySpec } from './spec.js';

/**
 * The least time a worker gets to instantiate a plugin, in ms: instantiation is not a
 * call or lifecycle step, and timing it out would take the worker's other plugins down
 * with it. (A start function cannot loop: it runs with no fuel.)
 */
export const MIN_LOAD_TIMEOUT_MS = 30_000;

/** A plugin as the host side of its worker keeps it. */
export class LanePlugin {
  /** The plugin's index in its worker. */
  readonly index: number;
  readonly book: HandleBook;
  /** The spec it was loaded from, with the newest policy (a restart re-loads it). */
  spec: PluginSpec;
  /** Export names sent to the current worker, by id. */
  readonly names = new Map<string, number>();
  /** Registered host call names, by the index the worker uses. */
  readonly registered: readonly string[];
  /** The sizes of its recent call answers, to prepare the next one's array (pool-answer.ts). */
  readonly answers = new AnswerSizes();
  /** Moving average of its jobs' time in the worker, in microseconds. */
  meanUs = 0;
  /** True once its instance exists in the current worker. */
  loaded = false;
  /** True once unloaded (or poisoned and dropped): no more jobs. */
  gone = false;

  constructor(index: number, spec: PluginSpec, book: HandleBook) {
    this.index = index;
    this.spec = spec;
    this.book = book;
    this.registered = spec.hostCalls.registered.map((entry) => (typeof entry === 'string' ? entry : entry.name));
  }

  get id(): string {
    return this.spec.id;
  }

  /** The wall-clock limit of loading it, in ms. */
  get loadTimeoutMs(): number {
    return Math.max(this.spec.timeoutMs, MIN_LOAD_TIMEOUT_MS);
  }
}

/** The plugins placed on one worker, by their index in it. */
export class PluginTable {
  readonly #byIndex = new Map<number, LanePlugin>();
  #next = 1;

  /** Every plugin placed and not forgotten. */
  all(): LanePlugin[] {
    return [...this.#byIndex.values()];
  }

  get(index: number): LanePlugin | undefined {
    return this.#byIndex.get(index);
  }

  /** Places the plugin `make` builds with a new index. */
  place(make: (index: number) => LanePlugin): LanePlugin {
    const plugin = make(this.#next);
    this.#next += 1;
    this.#byIndex.set(plugin.index, plugin);
    return plugin;
  }

  /** Forgets a plugin: it takes no more jobs. */
  forget(plugin: LanePlugin): void {
    plugin.gone = true;
    this.#byIndex.delete(plugin.index);
  }
}

/** What a job carries besides its kind. */
export interface JobInit {
  readonly plugin?: LanePlugin;
  /** CALL: the export. */
  readonly exportName?: string;
  /** CALL: the input. */
  readonly input?: Uint8Array;
  /** CALL: fuel its caller lends it, in units (forge.call_plugin); absent: its own budget. */
  readonly lent?: bigint;
  /** CALL: filled in with what the worker reports about the call (fuel, memory, traced host calls). */
  readonly probe?: CallProbe | undefined;
  /** LIFECYCLE: the step's index in ENTRY_POINT_NAMES. */
  readonly step?: number;
  /** POLICY: the new policy. */
  readonly policy?: PolicySpec;
  /** Wall-clock limit from dispatch, in ms. */
  readonly timeoutMs: number;
  /** Describes the job in errors: `call of "x" on plugin y`. */
  readonly what: string;
}

/** The error of a job asked for its outcome before it finished (a bug in the caller). */
const PENDING = new ForgeError('FO_INTERNAL_UNEXPECTED', 'a pool job was asked for its outcome before it finished');

/** A job and its outcome; settles once. */
export class Job {
  readonly op: number;
  readonly plugin: LanePlugin | undefined;
  readonly exportName: string;
  readonly input: Uint8Array | undefined;
  readonly lent: bigint | undefined;
  readonly probe: CallProbe | undefined;
  readonly step: number;
  readonly policy: PolicySpec | undefined;
  readonly timeoutMs: number;
  readonly what: string;
  /** performance.now() at dispatch; 0 until then. */
  startedAt = 0;
  /** Fuel the job used with its overshoot, in units, once the worker answered (what a lender is charged). */
  spent: bigint | undefined;
  timer: NodeJS.Timeout | undefined;
  /** CALL: the array its answer is copied into when it has this size, prepared at dispatch (pool-answer.ts). */
  answer: Uint8Array | undefined;
  /** Set once the job was cancelled in place (pool-cancel.ts): by then (performance.now() ms) the worker must have answered. */
  cancelUntil: number | undefined;
  #done = false;
  #ok = false;
  #value: unknown;
  #error: ForgeError = PENDING;
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((error: ForgeError) => void) | undefined;

  constructor(op: number, init: JobInit) {
    this.op = op;
    this.plugin = init.plugin;
    this.exportName = init.exportName ?? '';
    this.input = init.input;
    this.lent = init.lent;
    this.probe = init.probe;
    this.step = init.step ?? 0;
    this.policy = init.policy;
    this.timeoutMs = init.timeoutMs;
    this.what = init.what;
  }

  get done(): boolean {
    return this.#done;
  }

  /** True for jobs whose result usually comes back within the host's short synchronous wait. */
  get quick(): boolean {
    return this.op === OP.CALL || this.op === OP.LIFECYCLE;
  }

  resolve(value: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#ok = true;
    this.#value = value;
    this.#resolve?.(value);
  }

  reject(error: ForgeError): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#reject?.(error);
  }

  /** The outcome as a promise (already settled when the job finished synchronously). */
  promise<T>(): Promise<T> {
    if (this.#done) return this.#ok ? Promise.resolve(this.#value as T) : Promise.reject(this.#error);
    return new Promise<T>((resolve, reject) => {
      this.#resolve = resolve as (value: unknown) => void;
      this.#reject = reject;
    });
  }

  /**
   * The outcome of a finished job.
   * @throws ForgeError the job's error
   */
  outcome<T>(): T {
    if (!this.#ok) throw this.#error;
    return this.#value as T;
  }
}
