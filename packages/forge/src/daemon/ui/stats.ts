/**
 * Live figures: GET /v1/stats once a second, kept as the last minute of samples per
 * plugin (so a plugin's charts have history the moment it is selected), shown as the
 * table's calls/s and p99 columns and as the selected plugin's four charts.
 */
import { describe, isMissing, type Api } from './api.js';
import { Series } from './charts.js';
import { epochMs, num } from './format.js';
import { list, record } from './types.js';

/** Samples kept per figure: one minute at one a second. */
export const HISTORY = 60;

/** The figures charted per plugin. */
export const FIGURES = ['callsPerSecond', 'p99Seconds', 'memoryBytes', 'fuelPerSecond'] as const;
export type Figure = (typeof FIGURES)[number];

/** One plugin's history. */
export type History = Readonly<Record<Figure, Series>>;

/** What the poller tells its owner. */
export interface StatsEvents {
  /** A sample arrived: `latest` has each plugin's newest figures. */
  readonly onSample: (latest: ReadonlyMap<string, Readonly<Record<Figure, number | undefined>>>) => void;
  /** The poller's state for the panel: undefined when fine, else why there are no figures. */
  readonly onProblem: (problem: { readonly missing: boolean; readonly text: string } | undefined) => void;
}

/** See the module comment. */
export class StatsPoller {
  readonly #api: Api;
  readonly #events: StatsEvents;
  readonly #intervalMs: number;
  readonly #history = new Map<string, History>();
  readonly #lastFuel = new Map<string, { readonly total: number; readonly at: number }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** @param intervalMs time between polls (default 1000) */
  constructor(api: Api, events: StatsEvents, intervalMs = 1000) {
    this.#api = api;
    this.#events = events;
    this.#intervalMs = intervalMs;
  }

  /** Polls until stopped; a poll starts only after the previous one ended, so a slow daemon is never flooded. */
  start(): void {
    void this.#poll();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** The history of `name`, if the daemon reported figures for it. */
  history(name: string): History | undefined {
    return this.#history.get(name);
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    const started = performance.now();
    try {
      this.#ingest(await this.#api.get('/v1/stats'));
      this.#events.onProblem(undefined);
    } catch (error) {
      if (this.#stopped) return;
      const missing = isMissing(error);
      this.#events.onProblem({ missing, text: missing ? 'Live figures are not available from this daemon (GET /v1/stats answered 404).' : describe(error) });
      // A daemon without the operation will not grow one: stop asking.
      if (missing) return;
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#poll(), Math.max(0, this.#intervalMs - (performance.now() - started)));
  }

  #ingest(answer: unknown): void {
    const body = record(answer);
    const at = epochMs(body['time']) ?? Date.now();
    const latest = new Map<string, Record<Figure, number | undefined>>();
    for (const item of list(body['plugins'])) {
      const stats = record(item);
      const name = stats['name'];
      if (typeof name !== 'string') continue;
      const figures: Record<Figure, number | undefined> = {
        callsPerSecond: num(stats['callsPerSecond']),
        p99Seconds: num(stats['p99Seconds']),
        memoryBytes: num(stats['memoryBytes']),
        fuelPerSecond: this.#fuelRate(name, num(stats['fuelTotal']), at),
      };
      latest.set(name, figures);
    }
    for (const [name, figures] of latest) {
      let history = this.#history.get(name);
      if (history === undefined) {
        history = { callsPerSecond: new Series(HISTORY), p99Seconds: new Series(HISTORY), memoryBytes: new Series(HISTORY), fuelPerSecond: new Series(HISTORY) };
        this.#history.set(name, history);
      }
      for (const figure of FIGURES) history[figure].push(figures[figure]);
    }
    // Uninstalled plugins leave no history behind.
    for (const name of this.#history.keys()) if (!latest.has(name)) this.#history.delete(name);
    for (const name of this.#lastFuel.keys()) if (!latest.has(name)) this.#lastFuel.delete(name);
    this.#events.onSample(latest);
  }

  /** Fuel used per second since the previous sample (the daemon reports a running total). */
  #fuelRate(name: string, total: number | undefined, at: number): number | undefined {
    if (total === undefined) return undefined;
    const previous = this.#lastFuel.get(name);
    this.#lastFuel.set(name, { total, at });
    if (previous === undefined || at <= previous.at || total < previous.total) return undefined;
    return ((total - previous.total) * 1000) / (at - previous.at);
  }
}
