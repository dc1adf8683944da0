/**
 * What to do when a plugin crashes (a trap that poisoned its instance, fuel or time
 * running out, a worker that died; with `restart: always`, also a lifecycle step that
 * failed): restart it after an exponentially growing delay, give up after
 * `max_restarts`, or quarantine it when it crashes `quarantine_after` times within
 * `crash_window`. Pure bookkeeping over an injected clock.
 */
import type { RuntimeConfig } from '@forgeone/common';

/** The decision after one crash. */
export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly attempt: number }
  | { readonly action: 'give-up'; readonly reason: string }
  | { readonly action: 'quarantine'; readonly reason: string };

/** One plugin's crash history. */
export class CrashHistory {
  readonly #crashes: number[] = [];
  /** Restarts tried since the plugin last ran cleanly: the backoff exponent. */
  #attempts = 0;
  #total = 0;

  /** Restarts decided over the plugin's whole life. */
  get restarts(): number {
    return this.#total;
  }

  /** Resets the backoff once the plugin is running again (crashes stay counted for quarantine). */
  recovered(): void {
    this.#attempts = 0;
  }

  /** Records a crash at `now` and decides what to do. */
  decide(config: Pick<RuntimeConfig, 'restart' | 'max_restarts' | 'restart_backoff' | 'restart_backoff_max' | 'quarantine_after' | 'crash_window'>, now: number, stepFailed = false): RestartDecision {
    this.#crashes.push(now);
    while (this.#crashes.length > 0 && (this.#crashes[0] ?? now) <= now - config.crash_window) this.#crashes.shift();
    if (this.#crashes.length >= config.quarantine_after) {
      return { action: 'quarantine', reason: `crashed ${this.#crashes.length} times within ${config.crash_window / 1000}s (quarantine_after: ${config.quarantine_after})` };
    }
    if (config.restart === 'no' || (stepFailed && config.restart !== 'always')) return { action: 'give-up', reason: `restart policy is ${config.restart}` };
    if (this.#attempts >= config.max_restarts) return { action: 'give-up', reason: `gave up after ${config.max_restarts} restarts` };
    const delayMs = Math.min(config.restart_backoff * 2 ** this.#attempts, config.restart_backoff_max);
    this.#attempts += 1;
    this.#total += 1;
    return { action: 'restart', delayMs, attempt: this.#attempts };
  }
}
