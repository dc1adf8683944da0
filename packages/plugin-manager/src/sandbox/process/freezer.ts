/**
 * The freezer state of one sandbox slot (a lane of the process backend): which of its
 * plugins are paused, the cgroup of the sandbox running now, and freezing it when every
 * plugin in it is paused. A sandbox re-created after a failure starts thawed.
 */
import type { Cgroup } from '../linux/index.js';
import type { LanePlugin } from '../pool-job.js';

/** See the module comment. */
export class SandboxSlot {
  /** Plugins of the sandbox whose pause step ran and that have not been resumed, stopped or unloaded since. */
  readonly paused = new Set<LanePlugin>();
  #cgroup: Cgroup | undefined;
  #frozen = false;
  /** Freezes and thaws run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly plugins: () => readonly LanePlugin[]) {}

  /** True while the sandbox is frozen. */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** The cgroup of the sandbox now running (undefined before it starts, or without cgroups). */
  get cgroup(): Cgroup | undefined {
    return this.#cgroup;
  }

  /** A new sandbox started for the slot: thawed, with `cgroup`. */
  started(cgroup: Cgroup | undefined): void {
    this.#cgroup = cgroup;
    this.#frozen = false;
  }

  /** Freezes the sandbox when every plugin placed in it is paused. @throws FO_SANDBOX_UNAVAILABLE when the freezer fails */
  freezeIfAllPaused(): Promise<void> {
    return this.#serial(async () => {
      const cgroup = this.#cgroup;
      const all = this.plugins();
      if (this.#frozen || cgroup === undefined || all.length === 0 || !all.every((plugin) => this.paused.has(plugin))) return;
      await cgroup.freeze();
      this.#frozen = true;
    });
  }

  /** Thaws the sandbox if it is frozen. @throws FO_SANDBOX_UNAVAILABLE when the freezer fails */
  thaw(): Promise<void> {
    return this.#serial(async () => {
      if (!this.#frozen) return;
      await this.#cgroup?.thaw();
      this.#frozen = false;
    });
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
