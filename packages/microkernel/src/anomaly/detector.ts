/**
 * Anomaly detection over the stream of host-call decisions, per plugin and call:
 *
 * - **denial burst**: at least `denialBurst` denials for one plugin within
 *   `denialWindowMs` (a plugin probing what it may do);
 * - **rate spike**: in one `windowMs` window, more calls of one kind than
 *   `spikeFactor` times the call's baseline rate (an exponentially weighted moving
 *   average of past windows, never below `minBaseline` calls per window);
 * - **first use**: a call the plugin had never made before, once `warmupMs` has
 *   passed since the plugin started (new behaviour after it settled).
 *
 * Every rule fires at most once per window (first use: once per call), so an attack
 * cannot flood the audit log through the detector. The detector is pure bookkeeping:
 * it reports anomalies to a callback and never blocks the call it observes.
 */

/** Which rule fired. */
export type AnomalyKind = 'denial_burst' | 'rate_spike' | 'first_use';

/** One finding. */
export interface Anomaly {
  readonly kind: AnomalyKind;
  /** The plugin key the host uses (its package digest). */
  readonly plugin: string;
  readonly call: string;
  /** A sentence for operators: what was seen against what was expected. */
  readonly detail: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** Tuning; see the module comment for what each does. */
export interface AnomalyOptions {
  /** Length of a rate window in ms (default 1000). */
  readonly windowMs: number;
  /** Weight of the newest window in the moving average, 0..1 (default 0.2). */
  readonly alpha: number;
  /** Spike threshold as a multiple of the baseline (default 10). */
  readonly spikeFactor: number;
  /** Least baseline, in calls per window, so quiet calls do not alarm on a handful (default 20). */
  readonly minBaseline: number;
  /** Denials that make a burst (default 20). */
  readonly denialBurst: number;
  /** Window for counting a denial burst, in ms (default 10000). */
  readonly denialWindowMs: number;
  /** Time after a plugin starts before first uses are reported, in ms (default 60000). */
  readonly warmupMs: number;
}

export const DEFAULT_ANOMALY_OPTIONS: AnomalyOptions = {
  windowMs: 1000,
  alpha: 0.2,
  spikeFactor: 10,
  minBaseline: 20,
  denialBurst: 20,
  denialWindowMs: 10_000,
  warmupMs: 60_000,
};

interface CallState {
  windowStart: number;
  count: number;
  baseline: number;
  warm: boolean;
  spiked: boolean;
}

interface PluginState {
  readonly startedAt: number;
  readonly calls: Map<string, CallState>;
  denialWindowStart: number;
  denials: number;
  burstReported: boolean;
}

/** Watches host-call decisions and reports anomalies. */
export class AnomalyDetector {
  readonly #options: AnomalyOptions;
  readonly #report: (anomaly: Anomaly) => void;
  readonly #plugins = new Map<string, PluginState>();
  // The last (plugin, call) observed and its states: a plugin's run of one host call skips both map lookups.
  #lastPlugin: string | undefined;
  #lastCall: string | undefined;
  #lastState: PluginState | undefined;
  #lastCalls: CallState | undefined;

  constructor(report: (anomaly: Anomaly) => void, options: Partial<AnomalyOptions> = {}) {
    this.#options = { ...DEFAULT_ANOMALY_OPTIONS, ...options };
    this.#report = report;
  }

  /** Starts watching a plugin; its warm-up begins now. */
  start(plugin: string, now: number = Date.now()): void {
    this.#forgetLast();
    this.#plugins.set(plugin, { startedAt: now, calls: new Map(), denialWindowStart: now, denials: 0, burstReported: false });
  }

  /** Stops watching a plugin and forgets its baselines. */
  forget(plugin: string): void {
    this.#forgetLast();
    this.#plugins.delete(plugin);
  }

  /** Records one decided call. Unknown plugins are started on first sight. */
  observe(plugin: string, call: string, allowed: boolean, now: number = Date.now()): void {
    const last = this.#lastCalls;
    const lastState = this.#lastState;
    if (last !== undefined && lastState !== undefined && plugin === this.#lastPlugin && call === this.#lastCall) {
      this.#rate(plugin, call, last, now);
      if (!allowed) this.#denial(plugin, call, lastState, now);
      return;
    }
    let state = this.#plugins.get(plugin);
    if (state === undefined) {
      state = { startedAt: now, calls: new Map(), denialWindowStart: now, denials: 0, burstReported: false };
      this.#plugins.set(plugin, state);
    }
    const options = this.#options;
    let calls = state.calls.get(call);
    if (calls === undefined) {
      calls = { windowStart: now, count: 0, baseline: 0, warm: false, spiked: false };
      state.calls.set(call, calls);
      if (now - state.startedAt >= options.warmupMs) {
        this.#report({ kind: 'first_use', plugin, call, detail: `first call of ${call} ${Math.round((now - state.startedAt) / 1000)}s after start, past the ${options.warmupMs / 1000}s warm-up`, at: now });
      }
    }
    [this.#lastPlugin, this.#lastCall, this.#lastState, this.#lastCalls] = [plugin, call, state, calls];
    this.#rate(plugin, call, calls, now);
    if (!allowed) this.#denial(plugin, call, state, now);
  }

  #forgetLast(): void {
    this.#lastPlugin = undefined;
    this.#lastCall = undefined;
    this.#lastState = undefined;
    this.#lastCalls = undefined;
  }

  #rate(plugin: string, call: string, calls: CallState, now: number): void {
    const options = this.#options;
    const elapsed = now - calls.windowStart;
    if (elapsed >= options.windowMs) {
      // Close the window (and any empty windows since) into the moving average.
      const windows = Math.floor(elapsed / options.windowMs);
      calls.baseline = calls.warm ? options.alpha * calls.count + (1 - options.alpha) * calls.baseline : calls.count;
      calls.baseline *= (1 - options.alpha) ** (windows - 1);
      calls.warm = true;
      calls.windowStart += windows * options.windowMs;
      calls.count = 0;
      calls.spiked = false;
    }
    calls.count += 1;
    const threshold = options.spikeFactor * Math.max(calls.baseline, options.minBaseline);
    if (calls.warm && !calls.spiked && calls.count > threshold) {
      calls.spiked = true;
      this.#report({
        kind: 'rate_spike',
        plugin,
        call,
        detail: `${calls.count} calls of ${call} in ${options.windowMs}ms against a baseline of ${calls.baseline.toFixed(1)} per window (threshold ${threshold.toFixed(0)})`,
        at: now,
      });
    }
  }

  #denial(plugin: string, call: string, state: PluginState, now: number): void {
    const options = this.#options;
    if (now - state.denialWindowStart >= options.denialWindowMs) {
      state.denialWindowStart = now;
      state.denials = 0;
      state.burstReported = false;
    }
    state.denials += 1;
    if (!state.burstReported && state.denials >= options.denialBurst) {
      state.burstReported = true;
      this.#report({ kind: 'denial_burst', plugin, call, detail: `${state.denials} denied calls within ${options.denialWindowMs / 1000}s (last: ${call})`, at: now });
    }
  }
}
