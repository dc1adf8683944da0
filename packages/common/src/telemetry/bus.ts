import type { TelemetryEvent } from './event.js';

/** Receives every recorded event. Must not throw; a throwing listener is reported, not propagated. */
export type TelemetryListener = (event: TelemetryEvent) => void;

/**
 * A synchronous fan-out of telemetry events to listeners (the Prometheus exporter,
 * the audit bridge, tests). Recording with no listeners costs one array length check.
 * A listener that throws is isolated: the others still run and the error goes to the
 * `onListenerError` hook, so telemetry can never break the operation it observes.
 */
export class TelemetryBus {
  #listeners: TelemetryListener[] = [];
  readonly #onListenerError: (error: unknown, event: TelemetryEvent) => void;

  constructor(onListenerError: (error: unknown, event: TelemetryEvent) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: TelemetryListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((existing) => existing !== listener);
    };
  }

  /** Delivers `event` to every listener, in subscription order. */
  record(event: TelemetryEvent): void {
    const listeners = this.#listeners;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  /** Number of listeners, for diagnostics. */
  get listenerCount(): number {
    return this.#listeners.length;
  }
}

/** The process-wide bus used by {@link recordEvent} when no bus is injected. */
export const defaultTelemetryBus = new TelemetryBus();

/** Records an event on `bus` (the process-wide bus by default). */
export function recordEvent(event: TelemetryEvent, bus: TelemetryBus = defaultTelemetryBus): void {
  bus.record(event);
}
