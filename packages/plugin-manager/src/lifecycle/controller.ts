/**
 * Drives one plugin through its lifecycle: each step runs the plugin's entry point (if
 * its manifest names one) under a time limit, moves the state machine (state.ts), and
 * reports every transition to an observer (telemetry and the audit log, wired by the
 * registry). Steps on one plugin are serialised: a second step waits for the first.
 *
 * Calls and a paused plugin: a call made while the plugin is Paused **waits** until it
 * is resumed, up to the call's time limit, then fails with FO_LIFECYCLE_PAUSED; a call
 * to a plugin in any other state but Running fails at once with FO_LIFECYCLE_NOT_RUNNING.
 */
import { ForgeError, toForgeError } from '@forgeone/common';
import type { EntryPointName } from '../plugin/index.js';
import { PluginState, assertTransition } from './state.js';

/** What a controller drives: a hosted plugin instance, or a native plugin. */
export interface LifecycleTarget {
  /**
   * Runs the entry point for `step`; resolves false when the plugin has none. A target
   * that {@link LifecycleTarget.preparesFirst | prepares first} calls `started` when the
   * entry point itself begins, after the host's own work for it (creating the instance).
   */
  lifecycle(step: EntryPointName, started: () => void): Promise<boolean>;
  /**
   * True when `lifecycle` may first do the host's work (create the plugin's instance: start
   * a sandbox, compile, instantiate) and calls `started` once the entry point begins. The
   * plugin's time limit then counts from `started`: a busy host's slow start is not the
   * plugin's fault. The preparation has its own, longer limit
   * ({@link LifecycleOptions.prepareTimeoutMs}). Default false: the limit counts from the request.
   */
  readonly preparesFirst?: boolean;
}

/** One transition, as reported to the observer. */
export interface Transition {
  readonly plugin: string;
  readonly from: PluginState;
  readonly to: PluginState;
  /** The lifecycle step that caused it, when one did. */
  readonly step?: EntryPointName;
  /** Why the plugin failed or was quarantined. */
  readonly error?: ForgeError;
}

/** Receives every transition (the registry turns them into telemetry events and audit records). */
export type TransitionObserver = (transition: Transition) => void;

/** Options for {@link LifecycleController}. */
export interface LifecycleOptions {
  /** Time limit for each entry point, in ms. */
  readonly timeoutMs: number;
  /**
   * Time limit, in ms, for a target that prepares first to get to the entry point (the
   * backend's own load limits normally end a stuck preparation sooner). Default
   * {@link PREPARE_TIMEOUT_MS}, and never less than `timeoutMs`.
   */
  readonly prepareTimeoutMs?: number;
  readonly observer?: TransitionObserver;
}

/** Default {@link LifecycleOptions.prepareTimeoutMs}: 60 s. */
export const PREPARE_TIMEOUT_MS = 60_000;

const S = PluginState;

/** One plugin's lifecycle. */
export class LifecycleController {
  readonly plugin: string;
  readonly #target: LifecycleTarget;
  readonly #options: LifecycleOptions;
  #state: PluginState = S.Created;
  #queue: Promise<unknown> = Promise.resolve();
  #resumed: (() => void)[] = [];
  /** Why the plugin was quarantined, for the refusals that follow. */
  #quarantinedFor: ForgeError | undefined;

  constructor(plugin: string, target: LifecycleTarget, options: LifecycleOptions) {
    this.plugin = plugin;
    this.#target = target;
    this.#options = options;
  }

  get state(): PluginState {
    return this.#state;
  }

  /** Created or Failed -> Initializing -> (init) -> Ready; Failed when init fails or times out. */
  initialize(): Promise<void> {
    return this.#serial(async () => {
      this.#move(S.Initializing, 'init');
      await this.#run('init', S.Ready);
    });
  }

  /** Ready or Stopped -> (start) -> Running. */
  start(): Promise<void> {
    return this.#serial(async () => {
      assertTransition(this.plugin, this.#state, S.Running);
      await this.#run('start', S.Running);
    });
  }

  /** Running -> (pause) -> Paused. Calls made while Paused wait for resume. */
  pause(): Promise<void> {
    return this.#serial(async () => {
      assertTransition(this.plugin, this.#state, S.Paused);
      await this.#run('pause', S.Paused);
    });
  }

  /** Paused -> (resume) -> Running; waiting calls go ahead. */
  resume(): Promise<void> {
    return this.#serial(async () => {
      assertTransition(this.plugin, this.#state, S.Running);
      await this.#run('resume', S.Running);
      for (const wake of this.#resumed.splice(0)) wake();
    });
  }

  /** Running or Paused -> Stopping -> (stop) -> Stopped. */
  stop(): Promise<void> {
    return this.#serial(async () => {
      this.#move(S.Stopping, 'stop');
      try {
        await this.#run('stop', S.Stopped);
      } finally {
        this.#wakeWaiters();
      }
    });
  }

  /**
   * -> (unload) -> Unloaded, from Created, Ready, Stopped, Failed or Quarantined. A
   * failing unload entry point is reported but the plugin is unloaded anyway.
   */
  unload(): Promise<void> {
    return this.#serial(async () => {
      assertTransition(this.plugin, this.#state, S.Unloaded);
      const live = this.#state !== S.Failed && this.#state !== S.Quarantined;
      let error: ForgeError | undefined;
      if (live) {
        try {
          await this.#withTimeout('unload');
        } catch (caught) {
          error = toForgeError(caught);
        }
      }
      this.#move(S.Unloaded, 'unload', error);
    });
  }

  /** Marks the plugin Failed (a call trapped and poisoned its instance, a worker died). */
  fail(error: ForgeError): void {
    if (this.#state === S.Failed || this.#state === S.Unloaded || this.#state === S.Quarantined) return;
    this.#move(S.Failed, undefined, error);
    this.#wakeWaiters();
  }

  /** Quarantines the plugin (repeated crashes, an anomaly): it runs nothing until unloaded. */
  quarantine(error: ForgeError): void {
    if (this.#state === S.Quarantined || this.#state === S.Unloaded) return;
    this.#quarantinedFor = error;
    this.#move(S.Quarantined, undefined, error);
    this.#wakeWaiters();
  }

  /**
   * Resolves when a call may run: at once when Running; when Paused, after resume (or
   * FO_LIFECYCLE_PAUSED after `timeoutMs`).
   * @throws ForgeError FO_LIFECYCLE_NOT_RUNNING, FO_LIFECYCLE_PAUSED
   */
  async callable(timeoutMs: number): Promise<void> {
    if (this.#state === S.Running) return;
    if (this.#state !== S.Paused) throw this.#notRunning();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#resumed = this.#resumed.filter((wake) => wake !== done);
        reject(new ForgeError('FO_LIFECYCLE_PAUSED', `plugin ${this.plugin} stayed paused for the call's ${timeoutMs} ms limit`, { details: { plugin: this.plugin, timeoutMs } }));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        if (this.#state === S.Running) resolve();
        else reject(this.#notRunning());
      };
      this.#resumed.push(done);
    });
  }

  /** @throws ForgeError FO_LIFECYCLE_QUARANTINED, saying why, when the plugin is quarantined (it runs nothing until unloaded) */
  assertNotQuarantined(): void {
    if (this.#state === S.Quarantined) throw this.#notRunning();
  }

  #notRunning(): ForgeError {
    if (this.#state === S.Quarantined) {
      const why = this.#quarantinedFor === undefined ? '' : `: ${this.#quarantinedFor.message}`;
      return new ForgeError('FO_LIFECYCLE_QUARANTINED', `plugin ${this.plugin} is quarantined and runs nothing until it is unloaded${why}`, { details: { plugin: this.plugin, cause: this.#quarantinedFor?.code } });
    }
    return new ForgeError('FO_LIFECYCLE_NOT_RUNNING', `plugin ${this.plugin} is ${this.#state}, not running; start it first`, { details: { plugin: this.plugin, state: this.#state } });
  }

  #wakeWaiters(): void {
    for (const wake of this.#resumed.splice(0)) wake();
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(step, step);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #move(to: PluginState, step?: EntryPointName, error?: ForgeError): void {
    const from = this.#state;
    assertTransition(this.plugin, from, to);
    this.#state = to;
    this.#options.observer?.({ plugin: this.plugin, from, to, ...(step === undefined ? {} : { step }), ...(error === undefined ? {} : { error }) });
  }

  /** Runs an entry point; on success moves to `to`, on failure to Failed and rethrows. */
  async #run(step: EntryPointName, to: PluginState): Promise<void> {
    try {
      await this.#withTimeout(step);
    } catch (caught) {
      const error = toForgeError(caught);
      this.#move(S.Failed, step, error);
      throw error;
    }
    this.#move(to, step);
  }

  async #withTimeout(step: EntryPointName): Promise<boolean> {
    const { timeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    let fail: (error: ForgeError) => void = () => undefined;
    const deadline = new Promise<never>((_, reject) => (fail = reject));
    const limit = (ms: number, error: () => ForgeError): void => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(error()), ms);
    };
    const timedOut = (): ForgeError => new ForgeError('FO_LIFECYCLE_TIMEOUT', `plugin ${this.plugin}: the ${step} entry point did not finish within ${timeoutMs} ms`, { details: { plugin: this.plugin, step, timeoutMs } });
    let started = false;
    const start = (): void => {
      if (started) return;
      started = true;
      limit(timeoutMs, timedOut);
    };
    if (this.#target.preparesFirst === true) {
      const prepareMs = Math.max(timeoutMs, this.#options.prepareTimeoutMs ?? PREPARE_TIMEOUT_MS);
      limit(prepareMs, () => new ForgeError('FO_LIFECYCLE_TIMEOUT', `plugin ${this.plugin}: its instance was not ready for the ${step} entry point within ${prepareMs} ms`, { details: { plugin: this.plugin, step, timeoutMs: prepareMs } }));
    } else start();
    try {
      return await Promise.race([this.#target.lifecycle(step, start), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
