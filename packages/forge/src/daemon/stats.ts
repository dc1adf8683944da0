/**
 * Per-plugin figures for `GET /v1/stats` (the dashboard's charts, `forge stats`), kept
 * from the registry's call reports: totals, the call rate over the last ten seconds,
 * latency percentiles over the last calls, memory after the last call, fuel used. Each
 * plugin keeps a bounded window, so a busy plugin costs the same memory as a quiet one.
 */
import type { CallReport, PluginRegistry } from '@forgeone/plugin-manager';

/** One plugin's figures. */
export interface PluginStats {
  readonly name: string;
  readonly calls: number;
  readonly errors: number;
  /** Calls per second over the last {@link RATE_WINDOW_MS}. */
  readonly callsPerSecond: number;
  /** Latency percentiles over the last {@link LATENCY_WINDOW} calls; null before the first call. */
  readonly p50Seconds: number | null;
  readonly p99Seconds: number | null;
  /** Linear memory after the last call, in bytes; null before the first. */
  readonly memoryBytes: number | null;
  /** Fuel used by every call so far, in units (a decimal string would be exact beyond 2^53; a number is enough for a chart). */
  readonly fuelTotal: number;
}

/** Calls kept per plugin for the latency percentiles. */
export const LATENCY_WINDOW = 1024;
/** The window of the call rate. */
export const RATE_WINDOW_MS = 10_000;

class Figures {
  calls = 0;
  errors = 0;
  fuel = 0n;
  memory: number | null = null;
  readonly durations = new Float64Array(LATENCY_WINDOW);
  readonly ends = new Float64Array(LATENCY_WINDOW);
  next = 0;

  add(report: CallReport): void {
    this.calls += 1;
    if (report.outcome !== 'ok') this.errors += 1;
    this.fuel += report.fuelUsed;
    if (report.memoryBytes !== undefined) this.memory = report.memoryBytes;
    const slot = this.next % LATENCY_WINDOW;
    this.durations[slot] = report.durationSeconds;
    this.ends[slot] = report.startTime + report.durationSeconds * 1000;
    this.next += 1;
  }

  view(name: string, now: number): PluginStats {
    const kept = Math.min(this.next, LATENCY_WINDOW);
    const sorted = Array.from(this.durations.subarray(0, kept)).sort((a, b) => a - b);
    const at = (q: number): number | null => (kept === 0 ? null : (sorted[Math.min(kept - 1, Math.floor(q * kept))] as number));
    let recent = 0;
    for (let index = 0; index < kept; index += 1) if (now - (this.ends[index] as number) <= RATE_WINDOW_MS) recent += 1;
    return {
      name,
      calls: this.calls,
      errors: this.errors,
      callsPerSecond: recent / (RATE_WINDOW_MS / 1000),
      p50Seconds: at(0.5),
      p99Seconds: at(0.99),
      memoryBytes: this.memory,
      fuelTotal: Number(this.fuel),
    };
  }
}

/** See the module comment. */
export class DaemonStats {
  readonly #figures = new Map<string, Figures>();
  readonly #unsubscribe: () => void;
  readonly #clock: () => number;

  constructor(registry: PluginRegistry, clock: () => number = Date.now) {
    this.#clock = clock;
    this.#unsubscribe = registry.observe({
      call: (report) => {
        let figures = this.#figures.get(report.plugin.id);
        if (figures === undefined) {
          figures = new Figures();
          this.#figures.set(report.plugin.id, figures);
        }
        figures.add(report);
      },
    });
  }

  /** The figures of every plugin that was called (or of `names`, zero for the uncalled). */
  snapshot(names: readonly string[]): PluginStats[] {
    const now = this.#clock();
    return names.map((name) => (this.#figures.get(name) ?? new Figures()).view(name, now));
  }

  /** Forgets a plugin (uninstalled). */
  forget(name: string): void {
    this.#figures.delete(name);
  }

  close(): void {
    this.#unsubscribe();
  }
}
