/**
 * Prometheus metrics of a registry (prom-client), on a Registry of their own (never
 * prom-client's global one), named `forgeone_*` by Prometheus conventions. The daemon
 * serves {@link PluginMetrics.metricsText} on its metrics listener:
 *
 * ```ts
 * const metrics = createMetrics(config.telemetry, registry);   // undefined when metrics_enabled is false
 * // GET <prometheus_endpoint>:
 * reply.type(metrics.contentType).send(await metrics.metricsText());
 * metrics.close();                                               // on shutdown
 * ```
 *
 * Every metric, its labels and its meaning are listed in docs/observability.md. Labels
 * are bounded: `plugin` is a loaded plugin's id (at most max_plugins at a time: the
 * series of a plugin that is no longer loaded are dropped at the next scrape), `code`
 * an error code of the catalog, `call` a host call of the catalog, `kind` an anomaly
 * kind. Export names, which plugins choose, are never labels.
 */
import type { TelemetryConfig } from '@forgeone/common';
import type { HostCallCount } from '@forgeone/microkernel';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PluginState } from '../lifecycle/index.js';
import type { CallReport, ObservedPlugin, RegistryObserver } from './observer.js';

/** What the metrics read: a PluginRegistry has all of it. */
export interface MetricsSource {
  observe(observer: RegistryObserver): () => void;
  /** The loaded plugins. */
  list(): readonly { readonly id: string; readonly state: string; readonly restarts: number; readonly publisher: string; readonly version: string; readonly digest: string }[];
  /** Asks the backend to report its host-call counts now (before a scrape). */
  flushHostCallCounts(): void;
  /** The audit log, when there is one. */
  readonly audit: { stats(): { readonly appended: number; readonly openedAt: number; readonly lastCheckpointAt: number | undefined } } | undefined;
}

/** Options for {@link createMetrics}. */
export interface MetricsOptions {
  /** The audit log's clock, in ms (default Date.now): the age of its last checkpoint is measured with it. */
  readonly clock?: () => number;
  /** Add prom-client's process metrics (`forgeone_process_*`, `forgeone_nodejs_*`; default true). */
  readonly processMetrics?: boolean;
}

/** Call latency buckets, in seconds: 1 us to 10 s, about three per decade. */
export const CALL_SECONDS_BUCKETS: readonly number[] = [
  1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** prom-client's default gauges whose `_total` suffix breaks Prometheus conventions: left out. */
const MISNAMED_DEFAULT_METRICS = ['forgeone_nodejs_active_handles_total', 'forgeone_nodejs_active_requests_total', 'forgeone_nodejs_active_resources_total'];

/**
 * The registry's metrics as `telemetry` says: undefined when metrics_enabled is false
 * (nothing is collected; the daemon opens no metrics listener), else metrics that
 * observe `source` from now on.
 */
export function createMetrics(telemetry: Pick<TelemetryConfig, 'metrics_enabled'>, source: MetricsSource, options: MetricsOptions = {}): PluginMetrics | undefined {
  return telemetry.metrics_enabled ? new PluginMetrics(source, options) : undefined;
}

/** See the module comment. */
export class PluginMetrics {
  /** The prom-client registry holding every metric (never the global one). */
  readonly registry = new Registry();
  readonly #source: MetricsSource;
  readonly #unsubscribe: () => void;
  readonly #calls: Counter<'plugin'>;
  readonly #errors: Counter<'plugin' | 'code'>;
  readonly #seconds: Histogram<'plugin'>;
  readonly #fuel: Counter<'plugin'>;
  readonly #memory: Gauge<'plugin'>;
  readonly #hostCalls: Counter<'plugin' | 'call' | 'decision'>;
  readonly #anomalies: Counter<'plugin' | 'kind'>;
  readonly #quarantines: Counter<'plugin'>;
  /** Plugins that have per-plugin series: those no longer loaded lose theirs at the next scrape. */
  readonly #known = new Set<string>();

  constructor(source: MetricsSource, options: MetricsOptions = {}) {
    this.#source = source;
    const registers = [this.registry];
    const clock = options.clock ?? Date.now;
    new Gauge({
      name: 'forgeone_plugins',
      help: 'Loaded plugins by lifecycle state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(Object.values(PluginState).map((state) => [state, 0]));
        for (const plugin of source.list()) counts.set(plugin.state, (counts.get(plugin.state) ?? 0) + 1);
        this.reset();
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'forgeone_plugin_info',
      help: 'Identity of each loaded plugin (always 1): its publisher (from the verified certificate), version and package digest.',
      labelNames: ['plugin', 'publisher', 'version', 'digest'],
      registers,
      collect() {
        this.reset();
        for (const plugin of source.list()) this.set({ plugin: plugin.id, publisher: plugin.publisher, version: plugin.version, digest: plugin.digest }, 1);
      },
    });
    new Counter({
      name: 'forgeone_plugin_restarts_total',
      help: 'Restarts of a plugin by its restart policy after a crash (since it was loaded).',
      labelNames: ['plugin'],
      registers,
      collect() {
        this.reset();
        for (const plugin of source.list()) this.inc({ plugin: plugin.id }, plugin.restarts);
      },
    });
    this.#calls = new Counter({ name: 'forgeone_plugin_calls_total', help: 'Plugin calls (from the API, host code and other plugins), whatever their outcome.', labelNames: ['plugin'], registers });
    this.#errors = new Counter({ name: 'forgeone_plugin_call_errors_total', help: 'Plugin calls that failed, by error code.', labelNames: ['plugin', 'code'], registers });
    this.#seconds = new Histogram({ name: 'forgeone_plugin_call_duration_seconds', help: 'Time of a plugin call, from the registry taking it to its answer.', labelNames: ['plugin'], buckets: [...CALL_SECONDS_BUCKETS], registers });
    this.#fuel = new Counter({ name: 'forgeone_plugin_fuel_consumed_total', help: 'Fuel units plugin calls used (metered plugins; lifecycle steps excluded).', labelNames: ['plugin'], registers });
    this.#memory = new Gauge({ name: 'forgeone_plugin_memory_bytes', help: "A plugin's linear memory after its last call.", labelNames: ['plugin'], registers });
    this.#hostCalls = new Counter({ name: 'forgeone_plugin_host_calls_total', help: 'Host calls plugins made, by call and by the decision of their gate (allow or deny).', labelNames: ['plugin', 'call', 'decision'], registers });
    this.#anomalies = new Counter({ name: 'forgeone_plugin_anomalies_total', help: 'Anomalies the detector reported, by kind.', labelNames: ['plugin', 'kind'], registers });
    this.#quarantines = new Counter({ name: 'forgeone_plugin_quarantines_total', help: 'Times a plugin was quarantined (restart policy or anomaly response).', labelNames: ['plugin'], registers });
    new Counter({
      name: 'forgeone_audit_records_total',
      help: 'Audit records this process appended (checkpoints included).',
      registers,
      collect() {
        this.reset();
        const stats = source.audit?.stats();
        if (stats !== undefined) this.inc(stats.appended);
      },
    });
    new Gauge({
      name: 'forgeone_audit_seconds_since_checkpoint',
      help: 'Seconds since this process last appended a signed audit checkpoint (or opened the log, before its first).',
      registers,
      collect() {
        this.reset();
        const stats = source.audit?.stats();
        if (stats !== undefined) this.set(Math.max(0, (clock() - (stats.lastCheckpointAt ?? stats.openedAt)) / 1000));
      },
    });
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'forgeone_' });
      // Gauges named like counters, which Prometheus conventions (and promtool) reject.
      for (const name of MISNAMED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    this.#unsubscribe = source.observe({
      call: (report) => this.#call(report),
      transition: (plugin, transition) => {
        if (transition.to !== PluginState.Quarantined) return;
        this.#known.add(plugin.id);
        this.#quarantines.inc({ plugin: plugin.id });
      },
      anomaly: (plugin, anomaly) => {
        this.#known.add(plugin.id);
        this.#anomalies.inc({ plugin: plugin.id, kind: anomaly.kind });
      },
      hostCalls: (plugin, counts) => this.#countHostCalls(plugin, counts),
    });
  }

  /** The Content-Type of {@link metricsText} (the Prometheus text format, version 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format, for one scrape. */
  async metricsText(): Promise<string> {
    this.#source.flushHostCallCounts();
    await this.#dropUnloaded();
    return this.registry.metrics();
  }

  /** Stops observing the registry (the metrics keep their values). */
  close(): void {
    this.#unsubscribe();
  }

  #call(report: CallReport): void {
    const labels = { plugin: report.plugin.id };
    this.#known.add(report.plugin.id);
    this.#calls.inc(labels);
    if (report.outcome !== 'ok') this.#errors.inc({ plugin: report.plugin.id, code: report.outcome });
    this.#seconds.observe(labels, report.durationSeconds);
    if (report.fuelUsed > 0n) this.#fuel.inc(labels, Number(report.fuelUsed));
    if (report.memoryBytes !== undefined) this.#memory.set(labels, report.memoryBytes);
  }

  #countHostCalls(plugin: ObservedPlugin, counts: readonly HostCallCount[]): void {
    this.#known.add(plugin.id);
    for (const { call, allowed, denied } of counts) {
      if (allowed > 0) this.#hostCalls.inc({ plugin: plugin.id, call, decision: 'allow' }, allowed);
      if (denied > 0) this.#hostCalls.inc({ plugin: plugin.id, call, decision: 'deny' }, denied);
    }
  }

  /** Removes the series of plugins no longer loaded (their id could be reused by another package). */
  async #dropUnloaded(): Promise<void> {
    const loaded = new Set(this.#source.list().map((plugin) => plugin.id));
    const gone = new Set([...this.#known].filter((id) => !loaded.has(id)));
    if (gone.size === 0) return;
    for (const id of gone) this.#known.delete(id);
    const perPlugin = [this.#calls, this.#errors, this.#seconds, this.#fuel, this.#memory, this.#hostCalls, this.#anomalies, this.#quarantines];
    for (const metric of perPlugin) {
      for (const value of (await metric.get()).values) {
        const labels: Partial<Record<string, string | number>> = { ...value.labels };
        delete labels['le']; // a histogram's bucket label: its series are removed as one
        if (gone.has(String(labels['plugin']))) (metric as { remove(labels: Partial<Record<string, string | number>>): void }).remove(labels);
      }
    }
  }
}
