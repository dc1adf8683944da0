/**
 * The budget of audit entries a sandbox may report during one job (nested jobs
 * included). SECURITY: a compromised sandbox could send well-formed denials without end;
 * past {@link MAX_REPORTED_AUDITS} the relay (relay.ts) drops them, counted per plugin,
 * and records the count as one entry per plugin when the job ends.
 */
import type { TelemetryItem } from '../pool-protocol.js';

/** Audit entries a sandbox may report during one job (nested jobs included); more are dropped and counted. */
export const MAX_REPORTED_AUDITS = 16_384;

/** See the module comment. */
export class ReportedAudits {
  #reported = 0;
  /** Entries dropped past the budget during the job, by plugin. */
  readonly #dropped = new Map<string, number>();

  /** False when `item` is an audit entry past the budget (it is counted, to be dropped). */
  take(item: TelemetryItem): boolean {
    if (item.kind !== 'audit') return true;
    if (this.#reported >= MAX_REPORTED_AUDITS) {
      this.#dropped.set(item.plugin, (this.#dropped.get(item.plugin) ?? 0) + 1);
      return false;
    }
    this.#reported += 1;
    return true;
  }

  /** The job ends: an entry per plugin recording what was dropped, and a fresh budget. */
  end(): TelemetryItem[] {
    const items: TelemetryItem[] = [];
    for (const [plugin, count] of this.#dropped) {
      const reason = `the sandbox reported ${count} audit entries beyond the ${MAX_REPORTED_AUDITS} the host takes per job; they were dropped`;
      items.push({ kind: 'audit', plugin, entry: { plugin, action: 'sandbox.audit_dropped', resource: undefined, allowed: false, reason } });
    }
    this.#dropped.clear();
    this.#reported = 0;
    return items;
  }
}
