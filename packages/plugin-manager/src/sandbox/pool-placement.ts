/**
 * Where the pool puts a plugin, and how it learns which plugins are busy.
 *
 * A worker runs one call at a time, so a neighbour burning its whole fuel budget holds
 * every other plugin of its worker for that long; nothing can preempt it mid-call, and
 * an instance cannot move between threads without losing its memory. What the pool can
 * do is place: it keeps a decaying "heat" score per plugin id (fuel exhausted, timed
 * out, crashed its worker: +1; a call longer than the busy threshold: +0.1; the score
 * halves every `halfLifeMs`), and a plugin whose score is at least 0.5 when it is loaded
 * (typically re-loaded by its restart policy after running out of fuel) goes to an
 * isolation worker kept apart for hot plugins, away from the well-behaved ones.
 * Everything else goes to the regular worker with the fewest plugins, preferring
 * workers that host no hot plugin.
 */

/** Heat a plugin gains per event. */
export const HEAT = Object.freeze({ fault: 1, slowCall: 0.1 });

/** Score at or above which a plugin counts as hot: one fault within a half-life, or five slow calls in quick succession. */
export const HOT = 0.5;

/** Per-plugin heat with exponential decay. */
export class HeatMap {
  readonly #halfLifeMs: number;
  readonly #now: () => number;
  readonly #scores = new Map<string, { value: number; at: number }>();

  /**
   * @param halfLifeMs time for a score to halve, in ms
   * @param now the clock, in ms (default performance.now)
   */
  constructor(halfLifeMs: number, now: () => number = () => performance.now()) {
    this.#halfLifeMs = halfLifeMs;
    this.#now = now;
  }

  /** Adds `amount` to `id`'s score. */
  add(id: string, amount: number): void {
    this.#scores.set(id, { value: this.score(id) + amount, at: this.#now() });
  }

  /** `id`'s score now. */
  score(id: string): number {
    const entry = this.#scores.get(id);
    if (entry === undefined) return 0;
    const value = entry.value * 0.5 ** ((this.#now() - entry.at) / this.#halfLifeMs);
    if (value < 0.01) {
      this.#scores.delete(id);
      return 0;
    }
    return value;
  }

  hot(id: string): boolean {
    return this.score(id) >= HOT;
  }
}

/** What placement knows about a regular worker. */
export interface LaneLoad {
  readonly plugins: number;
  readonly hotPlugins: number;
}

/**
 * The regular worker for a plugin: one without hot plugins if any, then the fewest
 * plugins, then the lowest index.
 * @returns an index into `lanes` (which must not be empty)
 */
export function pickLane(lanes: readonly LaneLoad[]): number {
  let best = 0;
  for (let i = 1; i < lanes.length; i += 1) {
    const lane = lanes[i];
    const current = lanes[best];
    if (lane === undefined || current === undefined) continue;
    const laneHot = lane.hotPlugins > 0 ? 1 : 0;
    const currentHot = current.hotPlugins > 0 ? 1 : 0;
    if (laneHot < currentHot || (laneHot === currentHot && lane.plugins < current.plugins)) best = i;
  }
  return best;
}
