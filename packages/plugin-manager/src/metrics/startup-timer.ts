import { MetricType, TelemetryEvent, defaultTelemetryBus, type TelemetryBus } from '@forgeone/common';

/**
 * Times a plugin's start-up, as in the original API:
 *
 * ```ts
 * const timer = new StartupTimer(pluginId, 'example-plugin', '1.0.0');
 * await registry.initializePlugin(pluginId);
 * timer.stop();
 * ```
 *
 * `stop()` records a `plugin.startup.duration` histogram observation (milliseconds) on
 * the telemetry bus, labelled with the plugin's id, name and version, and returns it.
 * Stopping twice records once.
 */
export class StartupTimer {
  readonly #started = process.hrtime.bigint();
  readonly #labels: Readonly<Record<string, string>>;
  readonly #bus: TelemetryBus;
  #elapsed: number | undefined;

  constructor(pluginId: string, pluginName: string, version: string, bus: TelemetryBus = defaultTelemetryBus) {
    this.#labels = { plugin_id: pluginId, plugin_name: pluginName, version };
    this.#bus = bus;
  }

  /** Milliseconds since the timer started (or until it was stopped). */
  get elapsedMs(): number {
    return this.#elapsed ?? Number(process.hrtime.bigint() - this.#started) / 1e6;
  }

  /** Stops the timer, records the observation once, and returns the milliseconds elapsed. */
  stop(): number {
    if (this.#elapsed === undefined) {
      this.#elapsed = Number(process.hrtime.bigint() - this.#started) / 1e6;
      this.#bus.record(new TelemetryEvent('plugin.startup.duration', MetricType.Histogram, this.#elapsed, this.#labels));
    }
    return this.#elapsed;
  }
}
