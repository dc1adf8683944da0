/**
 * What a pool worker sends its host on the port besides answers in the slot: telemetry
 * in batches (audit entries, logs, events, anomalies, host-call counts), payloads too
 * large for the slot, and the host calls a traced call recorded. The worker's loop
 * (pool-worker-loop.ts) flushes it before it moves to HOST_REQUEST or DONE and sets
 * FLAGS.MESSAGES when something was posted, so the host reads it before it acts.
 */
import type { FoldTally } from './fold-tally.js';
import { gated } from './ledger-gate.js';
import type { HostCallRecorder } from './host-call-trace.js';
import type { AuditMirror } from './pool-audit-mirror.js';
import type { BackendAuditEntry } from './plugin-gate.js';
import type { HostedPlugin } from './hosted-plugin.js';
import type { TelemetryItem, ToHost, TraceMessage, WorkerPort } from './pool-protocol.js';

/** Batches of telemetry are posted once they hold this many items, even mid-call. */
const TELEMETRY_BATCH = 256;

/**
 * A partial batch is posted once its oldest item has waited this long, in ms (checked
 * when an item is queued: every {@link AGE_CHECK_EVERY}th item of a batch reads the clock).
 */
export const TELEMETRY_MAX_AGE_MS = 15;

/** Items of a batch between two reads of the clock for {@link TELEMETRY_MAX_AGE_MS} (a power of two). */
export const AGE_CHECK_EVERY = 16;

/** Host-call counts are shipped at most this often while jobs keep coming, in ms (and whenever the worker parks). */
const COUNTS_INTERVAL_MS = 1000;

/** See the module comment. */
export class WorkerOutbox {
  readonly #port: Pick<WorkerPort, 'postMessage'>;
  /** Told after each batch of telemetry is posted (a sandbox sends it on at once: child.ts). */
  readonly #onTelemetry: (() => void) | undefined;
  #telemetry: TelemetryItem[] = [];
  /** performance.now() when the oldest item of the batch was queued. */
  #oldestAt = 0;
  #posted = false;
  #countsShippedAt = 0;
  /** True when a job's plugin counted host calls since the last shipment. */
  #countsPending = false;

  /** The queued audit records, mirrored for a host that kills the thread (pool-audit-mirror.ts); absent: not mirrored. */
  readonly #mirror: AuditMirror | undefined;
  /** Folding calls' counts, kept for a host that kills the thread (fold-tally.ts); absent: not kept. */
  readonly tally: FoldTally | undefined;

  constructor(port: Pick<WorkerPort, 'postMessage'>, onTelemetry?: () => void, shared: { readonly mirror?: AuditMirror; readonly tally?: FoldTally } = {}) {
    this.#port = port;
    this.#onTelemetry = onTelemetry;
    this.#mirror = shared.mirror;
    this.tally = shared.tally;
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
   * Queues a telemetry item; a full batch is posted at once, and so is a refusal, an
   * anomaly or a folding call's running counts with what was queued before it, and a
   * batch whose oldest item has waited {@link TELEMETRY_MAX_AGE_MS}. SECURITY: a call
   * stopped at its time limit ends with its thread (or its sandbox) killed, and what was
   * still queued is lost: a plugin must not be able to probe with refused calls and then
   * spin until the kill to leave no trace of them, and the allowed records it loses are
   * those of a TELEMETRY_MAX_AGE_MS window and AGE_CHECK_EVERY - 1 more, its last before
   * it stopped making host calls. Refusals are not a hot path (allowed records at level
   * `all` are: one clock read per AGE_CHECK_EVERY of them, and one per batch).
   */
  queue(item: TelemetryItem): void {
    // A host about to stop the worker halts it here (ledger-gate.ts), so what it reads is whole.
    gated(this.tally?.gate, this.#queue, item);
  }

  readonly #queue = (item: TelemetryItem): void => {
    const items = this.#telemetry;
    const queued = items.push(item);
    if (queued >= TELEMETRY_BATCH || item.kind === 'fold' || item.kind === 'anomaly' || (item.kind === 'audit' && !item.entry.allowed)) this.flush();
    else if (queued === 1) this.#oldestAt = performance.now();
    else if ((queued & (AGE_CHECK_EVERY - 1)) === 0 && performance.now() - this.#oldestAt >= TELEMETRY_MAX_AGE_MS) this.flush();
  };

  /**
   * Queues the audit record of the plugin at `index` on the worker as {@link queue} does,
   * and mirrors it in shared memory first when there is a mirror: SECURITY: a host that
   * kills the thread (a call at its time limit) reads there what was still queued, so a
   * burst of allowed calls followed by a spin leaves every record. A record the mirror
   * cannot hold (a call's summary, with `data`; one larger than the mirror) is posted
   * at once, with the batch.
   */
  queueAudit(index: number, item: Extract<TelemetryItem, { kind: 'audit' }>): void {
    const mirror = this.#mirror;
    if (mirror === undefined || (item.entry.data === undefined && this.#mirrored(mirror, index, item.entry))) {
      this.queue(item);
      return;
    }
    this.#telemetry.push(item);
    this.flush();
  }

  /** Mirrors `entry`, posting the batch first when the mirror is full. @returns false when it does not fit even then */
  #mirrored(mirror: AuditMirror, index: number, entry: BackendAuditEntry): boolean {
    if (mirror.add(index, entry)) return true;
    this.flush();
    return mirror.add(index, entry);
  }

  /**
   * Posts the queued telemetry, with the mirror's batch number (and empties the mirror).
   * @param ends a batch number to post with it instead when there is no mirror, even with
   *   nothing queued (a relay passing on the end of its sandbox's batch, in the same message)
   */
  flush(ends?: number): void {
    const mirror = this.#mirror;
    const batch = mirror !== undefined ? { batch: mirror.batch } : ends !== undefined ? { batch: ends } : {};
    if (this.#telemetry.length === 0) {
      if (ends !== undefined && mirror === undefined) this.post({ type: 'telemetry', items: [], ...batch });
      return;
    }
    const items = this.#telemetry;
    this.#telemetry = [];
    try {
      try {
        this.post({ type: 'telemetry', items, ...batch });
      } catch {
        // A record holding something that cannot be cloned (a function in a log field):
        // send it as JSON-safe data rather than lose the batch.
        this.post({ type: 'telemetry', items: JSON.parse(JSON.stringify(items, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))) as TelemetryItem[], ...batch });
      }
      // Sent on before the mirror lets the batch go: a sandbox's frame carries its number (child.ts).
      this.#onTelemetry?.();
    } finally {
      mirror?.next();
    }
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
