/**
 * What a pool worker sends its host on the port besides answers in the slot: telemetry
 * in batches (audit entries, logs, events, anomalies, host-call counts), payloads too
 * large for the slot, and the host calls a traced call recorded. The worker's loop
 * (pool-worker-loop.ts) flushes it before it moves to HOST_REQUEST or DONE and sets
 * FLAGS.MESSAGES when something was posted, so the host reads it before it acts.
 */
import type { HostCallRecorder } from './host-call-trace.js';
import type { HostedPlugin } from './hosted-plugin.js';
import type { TelemetryItem, ToHost, TraceMessage, WorkerPort } from './pool-protocol.js';

/** Batches of telemetry are posted once they hold this many items, even mid-call. */
const TELEMETRY_BATCH = 256;

/** Host-call counts are shipped at most this often while jobs keep coming, in ms (and whenever the worker parks). */
const COUNTS_INTERVAL_MS = 1000;

/** See the module comment. */
export class WorkerOutbox {
  readonly #port: Pick<WorkerPort, 'postMessage'>;
  /** Told after each batch of telemetry is posted (a sandbox sends it on at once: child.ts). */
  readonly #onTelemetry: (() => void) | undefined;
  #telemetry: TelemetryItem[] = [];
  #posted = false;
  #countsShippedAt = 0;
  /** True when a job's plugin counted host calls since the last shipment. */
  #countsPending = false;

  constructor(port: Pick<WorkerPort, 'postMessage'>, onTelemetry?: () => void) {
    this.#port = port;
    this.#onTelemetry = onTelemetry;
  }

  /** Posts a message now. */
  post(message: ToHost, transfer: ArrayBuffer[] = []): void {
    this.#port.postMessage(message, transfer);
    this.#posted = true;
  }

  /** True when something was posted since the last call (and forgets it): the answer's FLAGS.MESSAGES. */
  takePosted(): boolean {
    const posted = this.#posted;
    this.#posted = false;
    return posted;
  }

  /**
   * Queues a telemetry item; a full batch is posted at once, and so is a refusal or an
   * anomaly with what was queued before it. SECURITY: a call stopped at its time limit
   * ends with its thread (or its sandbox) killed, and what was still queued is lost: a
   * plugin must not be able to probe with refused calls and then spin until the kill to
   * leave no trace of them. Refusals are not a hot path (allowed records at level `all`
   * are, and go in batches).
   */
  queue(item: TelemetryItem): void {
    this.#telemetry.push(item);
    if (this.#telemetry.length >= TELEMETRY_BATCH || (item.kind === 'audit' && !item.entry.allowed) || item.kind === 'anomaly') this.flush();
  }

  /** Posts the queued telemetry. */
  flush(): void {
    if (this.#telemetry.length === 0) return;
    const items = this.#telemetry;
    this.#telemetry = [];
    try {
      this.post({ type: 'telemetry', items });
    } catch {
      // A record holding something that cannot be cloned (a function in a log field):
      // send it as JSON-safe data rather than lose the batch.
      this.post({ type: 'telemetry', items: JSON.parse(JSON.stringify(items, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))) as TelemetryItem[] });
    }
    this.#onTelemetry?.();
  }

  /** Notes that a job of `plugin` finished: if its gate counted host calls, there are counts to ship. */
  jobDone(plugin: HostedPlugin): void {
    if (plugin.gate.counts?.changed === true) this.#countsPending = true;
  }

  /** Queues `plugin`'s host-call counts since its last report, if any. */
  queueCounts(plugin: HostedPlugin): void {
    const counts = plugin.gate.counts;
    if (counts === undefined || !counts.changed) return;
    this.queue({ kind: 'counts', plugin: plugin.spec.id, counts: counts.takeDeltas() });
  }

  /**
   * Queues each plugin's host-call counts since the last shipment; outside `idle`, at
   * most once per {@link COUNTS_INTERVAL_MS} (`now`: performance.now()). When `idle`
   * (the worker is about to park), posts them: the host reads them from its event
   * loop, or with the next answer.
   */
  shipCounts(plugins: () => Iterable<HostedPlugin>, idle: boolean, now: number): void {
    if (!this.#countsPending || (!idle && now - this.#countsShippedAt < COUNTS_INTERVAL_MS)) return;
    this.#countsShippedAt = now;
    this.#countsPending = false;
    for (const plugin of plugins()) this.queueCounts(plugin);
    if (idle && this.#telemetry.length > 0) {
      this.flush();
      this.#posted = false;
    }
  }

  /** Posts the host calls a traced call recorded, for the host to read with its answer. */
  postTrace(recorder: HostCallRecorder): void {
    const trace = { hostCalls: [] as TraceMessage['records'], droppedHostCalls: 0 };
    recorder.finish(trace);
    this.post({ type: 'trace', records: trace.hostCalls, dropped: trace.droppedHostCalls });
  }
}
