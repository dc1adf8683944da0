/**
 * What an open audit log owes its callers once the disk has spoken: the promises waiting
 * for a seq to be durable (kept in seq order, settled by each durable batch, rejected
 * together when the log fails), and the checkpoint state file, rewritten with the newest
 * durable checkpoint one write at a time.
 */
import type { Logger } from '@forgeone/common';
import type { AuditCheckpointNotice } from './options.js';
import { parseAuditRecord } from './record.js';
import { writeCheckpointState } from './state.js';
import type { DurableCheckpoint } from './writer.js';

interface Waiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Promises waiting for a seq to be on disk, in seq order. */
export class DurableWaiters {
  readonly #waiters: Waiter[] = [];

  /** Resolves once {@link settle} reaches `seq`; rejects if {@link rejectAll} comes first. */
  wait(seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = { seq, resolve, reject };
      const last = this.#waiters.at(-1);
      if (last === undefined || last.seq <= seq) this.#waiters.push(waiter);
      else this.#waiters.splice(this.#waiters.findIndex((other) => other.seq > seq), 0, waiter);
    });
  }

  /** Resolves every waiter for a seq up to `lastSeq`. */
  settle(lastSeq: number): void {
    let done = 0;
    while (done < this.#waiters.length && (this.#waiters[done]?.seq ?? Infinity) <= lastSeq) done += 1;
    for (const waiter of this.#waiters.splice(0, done)) waiter.resolve();
  }

  /** Rejects every waiter with `error`. */
  rejectAll(error: unknown): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}

/**
 * Keeps the checkpoint state file at the newest durable checkpoint: a checkpoint pushed
 * while a write runs replaces any other waiting one, and is written next. After each
 * write, `onCheckpoint` hears of it (a callback that throws is logged, not fatal).
 */
export class CheckpointStateQueue {
  #next: DurableCheckpoint | undefined;
  #writing: Promise<void> | undefined;

  constructor(
    private readonly statePath: string,
    private readonly hooks: {
      readonly onCheckpoint: ((checkpoint: AuditCheckpointNotice) => void) | undefined;
      readonly logger: Logger;
      /** A state write failed: the log fails with it. */
      readonly failed: (error: unknown) => void;
      /** True once the log failed: nothing more is written. */
      readonly stopped: () => boolean;
    },
  ) {}

  /** Queues `checkpoint` to be written. */
  push(checkpoint: DurableCheckpoint): void {
    this.#next = checkpoint;
    this.#writing ??= this.#writeAll();
  }

  /** Resolves when no write runs or waits. */
  async idle(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  async #writeAll(): Promise<void> {
    try {
      for (let next = this.#next; next !== undefined && !this.hooks.stopped(); next = this.#next) {
        this.#next = undefined;
        await writeCheckpointState(this.statePath, next);
        try {
          this.hooks.onCheckpoint?.({ ...next, covers: { seq: next.seq - 1, hash: parseAuditRecord(next.record).prev } });
        } catch (error) {
          this.hooks.logger.error('audit onCheckpoint callback threw', { error: (error as Error).message });
        }
      }
    } catch (error) {
      this.hooks.failed(error);
    } finally {
      this.#writing = undefined;
    }
  }
}
