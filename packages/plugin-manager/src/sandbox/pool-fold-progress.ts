/**
 * The host's record of the calls that fold their allowed audit records (audit-fold.ts)
 * on one pool worker, so that a call stopped by killing its worker (or its sandbox) still
 * leaves its `audit.folded` summary. While such a call folds, its worker reports its
 * running counts (TelemetryItem `fold`, sent at once); the host keeps the latest per
 * plugin. When the call ends, its own summary comes and the report is forgotten; when
 * the worker is killed mid-call, the host writes the summary of each call it killed from
 * the last report, marked `ended: 'killed'` with the time it counted up to: the log then
 * says how many allowed calls the host knows of, and that more may have followed.
 *
 * SECURITY: on the process backend the reports come from the sandbox (checked by
 * child-input.ts, attributed to a plugin it hosts); the host writes a summary only for a
 * plugin whose job was running when it killed the worker, with the call's name and
 * limit from its own records. A lying sandbox can only under- or over-state the allowed
 * calls of its own plugin's killed call.
 */
import type { ForgeError } from '@forgeone/common';
import { foldedSummary, type FoldProgress } from './audit-fold.js';
import type { Job } from './pool-job.js';
import { OP, type TelemetryItem } from './pool-protocol.js';

/** The latest reports of one worker's folding calls. Not thread-safe (the host thread's). */
export class FoldProgressBook {
  /** By plugin id: the report and performance.now() when it came. */
  readonly #latest = new Map<string, { readonly progress: FoldProgress; readonly at: number }>();

  /** Keeps `progress`, received at `at` (performance.now()), as `plugin`'s latest. */
  note(plugin: string, progress: FoldProgress, at: number): void {
    this.#latest.set(plugin, { progress, at });
  }

  /** A call of `plugin` ended (its summary came) or a new one starts: its report is stale. */
  forget(plugin: string): void {
    this.#latest.delete(plugin);
  }

  /**
   * The worker running `active` (its jobs, outermost first) was killed for `cause` at
   * `now` (performance.now()): the summaries of the killed calls that were folding, as
   * audit items for the host. Forgets every report.
   */
  killed(active: readonly Job[], cause: ForgeError, now: number): TelemetryItem[] {
    const items: TelemetryItem[] = [];
    for (const job of active) {
      const plugin = job.plugin;
      const latest = plugin === undefined ? undefined : this.#latest.get(plugin.id);
      if (plugin === undefined || latest === undefined) continue;
      this.#latest.delete(plugin.id);
      const countedMs = Math.max(0, Math.round(latest.at - job.startedAt));
      const killedMs = Math.max(countedMs, Math.round(now - job.startedAt));
      const progress: FoldProgress = {
        ...latest.progress,
        call: job.op === OP.CALL ? job.exportName : latest.progress.call,
        kept: plugin.spec.auditMaxCallRecords ?? latest.progress.kept,
      };
      const reason =
        `the call was killed (${cause.code}) ${killedMs} ms after it started: ${progress.folded} allowed records past the first ${progress.kept} ` +
        `were folded by ${countedMs} ms, the last count the host received; more may have followed before the kill`;
      const entry = foldedSummary(plugin.id, progress, reason, { ended: 'killed', cause: cause.code, counted_ms: countedMs, killed_ms: killedMs });
      items.push({ kind: 'audit', plugin: plugin.id, entry });
    }
    this.#latest.clear();
    return items;
  }
}
