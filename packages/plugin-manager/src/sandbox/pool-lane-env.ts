/** What every lane of a pool shares (pool-lane.ts), set up by the pool (pool.ts). */
import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from '@forgeone/common';
import type { LanePlugin } from './pool-job.js';
import type { PreparedWorker } from './pool-worker-handle.js';
import type { BackendHost } from './spec.js';
import type { ThreadPriority } from './thread-priority.js';

/** What every lane of a pool shares. */
export interface LaneEnv {
  readonly host: BackendHost;
  readonly logger: Logger;
  readonly workerUrl: URL;
  readonly slotBytes: number;
  /** Longest synchronous wait for a quick job, in ms (0: never wait synchronously). */
  readonly fastWaitMs: number;
  /** How long a worker spins for its next request before parking, in microseconds. */
  readonly workerSpinUs: number;
  /** What each worker thread sets on itself at start, by kind (pool.ts); absent: the isolation worker's ISOLATION_NICE alone. */
  readonly threadPriority?: (isolation: boolean) => ThreadPriority;
  /** A job at least this long, in microseconds, makes its plugin warmer. */
  readonly busyCallUs: number;
  readonly resourceLimits: ResourceLimits | undefined;
  /** Adds heat to a plugin (placement). */
  heat(plugin: LanePlugin, amount: number): void;
  /** True once BackendHost.audit has failed. */
  readonly auditBroken: boolean;
  /** Reports that BackendHost.audit failed, so every lane refuses audited calls. @returns true when it was taking records until now */
  auditFailed(): boolean;
  /** Reports that BackendHost.audit took a record, so every lane takes audited calls again. @returns true when it was failing until now */
  auditRestored(): boolean;
  /** Sets up what each worker of lane `id` serves before it starts (the process backend's sandbox). */
  readonly prepare?: (id: number) => Promise<PreparedWorker>;
}
