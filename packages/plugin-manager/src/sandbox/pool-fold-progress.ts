/**
 * The host's record of the calls that fold their allowed audit records (audit-fold.ts)
 * on one pool worker, so that a call stopped by killing its worker (or its sandbox) still
 * leaves its `audit.folded` summary. While such a call folds, its worker reports its
 * running counts (TelemetryItem `fold`, sent at once); the host keeps the latest per
 * plugin. When the call ends, its own summary comes and the report is forgotten; when
 * the worker is killed mid-call (or the pool closes under it), the host writes the
 * summary of each call it stopped, marked `ended: 'killed'` (or `'closed'`): from the
 * counts a pool worker kept in shared memory (fold-tally.ts, exact), else from the last
 * report, with the time it counted up to: the log then says how many allowed calls the
 * host knows of, and that more may have followed.
 *
 * SECURITY: on the process backend the reports come from the sandbox (checked by
 * child-input.ts, attributed to a plugin it hosts); the host writes a summary only for a
 * plugin whose job was running when it killed the worker, with the call's name and
 * limit from its own records. A lying sandbox can only under- or over-state the allowed
 * calls of its own plugin's killed call.
 */
import type { ForgeError } from '@forgeone/common';
import { foldedSummary, type FoldProgress } from './audit-fold.js';
import type { TallyRead } from './fold-tally.js';
import type { Job, LanePlugin } from './pool-job.js';
import { ENTRY_POINT_NAMES } from '../plugin/entry-points.js';
import { OP, type TelemetryItem } from './pool-protocol.js';

/** The latest reports of one worker's folding calls. Not thread-safe (the host thread's). */
export class FoldProgressBook {
  /** By plugin id: the report and performance.now() when it came. */
  readonly #latest = new Map<string, { readonly progress: FoldProgress; readonly at: number }>();
  /** Plugins whose running call's own summary came. */
  readonly #summarised = new Set<string>();

  /** Keeps `progress`, received at `at` (performance.now()), as `plugin`'s latest. */
  note(plugin: string, progress: FoldProgress, at: number): void {
    this.#latest.set(plugin, { progress, at });
  }

  /** A new call of `plugin` starts: its report is stale. */
  forget(plugin: string): void {
    this.#latest.delete(plugin);
    this.#summarised.delete(plugin);
  }

  /** The call of `plugin` ended: its own summary came (its thread may still hold its counts until it notices). */
  summarised(plugin: string): void {
    this.#latest.delete(plugin);
    this.#summarised.add(plugin);
  }

  /**
   * The worker running `active` (its jobs, outermost first) was killed for `cause` at
   * `now` (performance.now()), or stopped because the pool closed (`ended: 'closed'`):
   * the summaries of the stopped calls that were folding, as audit items for the host.
   * A call's counts come from `tally` (what its thread kept in shared memory, exact:
   * fold-tally.ts) when it has them, else from its last report. A call whose own summary
   * already came gets none. Forgets every report.
   */
  stopped(active: readonly Job[], cause: ForgeError, now: number, ended: 'killed' | 'closed', tally: (plugin: LanePlugin) => TallyRead | undefined = () => undefined): TelemetryItem[] {
    const items: TelemetryItem[] = [];
    for (const job of active) {
      const plugin = job.plugin;
      if (plugin === undefined || this.#summarised.has(plugin.id)) continue;
      const latest = this.#latest.get(plugin.id);
      const kept = tally(plugin);
      if (latest === undefined && kept === undefined) continue;
      this.#latest.delete(plugin.id);
      const killedMs = Math.max(0, Math.round(now - job.startedAt));
      const countedMs = latest === undefined || kept !== undefined ? killedMs : Math.min(killedMs, Math.max(0, Math.round(latest.at - job.startedAt)));
      const progress: FoldProgress = {
        ...(kept ?? latest?.progress ?? { folded: 0, counts: [], other: 0 }),
        call: job.op === OP.CALL ? job.exportName : job.op === OP.LIFECYCLE ? (ENTRY_POINT_NAMES[job.step] ?? 'lifecycle') : (latest?.progress.call ?? job.what),
        kept: plugin.spec.auditMaxCallRecords ?? latest?.progress.kept ?? 0,
      };
      const how = ended === 'killed' ? `the call was killed (${cause.code})` : `the call was stopped when its backend closed (${cause.code})`;
      const counted =
        kept === undefined
          ? `were folded by ${countedMs} ms, the last count the host received; more may have followed before it was stopped`
          : 'were folded by the time it was stopped, as its thread counted them (more may have followed if it was still making host calls then)';
      const reason = `${how} ${killedMs} ms after it started: ${progress.folded} allowed records past the first ${progress.kept} ${counted}`;
      const entry = foldedSummary(plugin.id, progress, reason, { ended, cause: cause.code, counted_ms: countedMs, killed_ms: killedMs });
      items.push({ kind: 'audit', plugin: plugin.id, entry });
    }
    this.#latest.clear();
    this.#summarised.clear();
    return items;
  }
}
