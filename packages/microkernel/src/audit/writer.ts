/**
 * The group-commit writer: the only code that writes audit segments. It takes sealed
 * batches in order and, for every run of ready batches of the same segment, does one
 * positioned `writev` and one `fdatasync`, then reports them durable. When the next
 * batch belongs to the next segment, it rotates first: the active file (already
 * synced) is renamed to its segment name and a new active file is created.
 *
 * While one write + fdatasync is in flight, the batches sealed meanwhile queue and go
 * out together in the next one, so a slow disk costs larger writes, not more syncs.
 *
 * A write that finds the disk full (ENOSPC, EDQUOT) is not the end: the writer reports
 * it stalled and writes the same bytes at the same offset again after a pause (100 ms,
 * doubling to 5 s), until it gets through or {@link GroupCommitWriter.abandon} stops
 * it. Bytes a short write left are overwritten with the same bytes. A failed sync or
 * rotation still stops the writer for good: after a failed fdatasync the page cache
 * cannot be trusted.
 */
import { constants } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { RecordBatch } from './batch.js';
import { segmentPath, syncDirectory } from './files.js';
import { RETRY_FIRST_MS, RETRY_MAX_MS, isOutOfSpace } from './outage.js';

/** A checkpoint that became durable: where its line is, and the line. */
export interface DurableCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly segment: number;
  readonly offset: number;
  readonly record: string;
}

/** What the writer tells its owner. */
export interface WriterEvents {
  /** Records up to `lastSeq` are on disk; `bytes` left the backlog; `checkpoint` is the last checkpoint among them. */
  durable(lastSeq: number, bytes: number, checkpoint: DurableCheckpoint | undefined): void;
  /** A write, sync or rotation failed; the writer has stopped. */
  failed(error: unknown): void;
  /** A write found the disk full; the writer retries it until it succeeds or is abandoned. */
  stalled(error: unknown): void;
  /** The write that stalled got through and was synced (reported durable just before). */
  resumed(): void;
}

/** Counters for benchmarks and `forge audit` diagnostics. */
export interface WriterStats {
  /** writev + fdatasync rounds. */
  readonly syncs: number;
  readonly batches: number;
  readonly bytes: number;
  readonly rotations: number;
}

// Linux caps one writev at IOV_MAX (1024) buffers; stay under it.
const MAX_BATCHES_PER_WRITE = 512;

/** Writes batches to the active segment of one log; see the module comment. */
export class GroupCommitWriter {
  private handle: FileHandle;
  private segment: number;
  private position: number;
  private readonly queue: RecordBatch[] = [];
  // Set and cleared synchronously by pump(), so a batch enqueued just as the loop
  // ends is never left behind by a pump that is about to settle.
  private pumping = false;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private handleOpen = true;
  private syncs = 0;
  private batches = 0;
  private bytes = 0;
  private rotations = 0;
  /** Wakes the pause between two retries of a stalled write. */
  private wake: (() => void) | undefined;

  /**
   * @param handle the active segment, open for writing
   * @param segment its index
   * @param position its size: where the next byte goes
   */
  constructor(
    private readonly logPath: string,
    handle: FileHandle,
    segment: number,
    position: number,
    private readonly events: WriterEvents,
  ) {
    this.handle = handle;
    this.segment = segment;
    this.position = position;
  }

  /** Queues a sealed batch; batches must come in seq order. */
  enqueue(batch: RecordBatch): void {
    if (this.stopped) return;
    this.queue.push(batch);
    if (!this.pumping) {
      this.pumping = true;
      this.running = this.pump();
    }
  }

  /** Resolves once every queued batch is written (or the writer stopped). */
  async idle(): Promise<void> {
    while (this.pumping) await this.running;
  }

  /** Waits for the queue to drain, then closes the active file. */
  async close(): Promise<void> {
    await this.idle();
    this.stopped = true;
    if (this.handleOpen) {
      this.handleOpen = false;
      await this.handle.close();
    }
  }

  /** Stops retrying a stalled write: the writer stops and reports the disk's error as a failure. */
  abandon(): void {
    this.stopped = true;
    this.wake?.();
  }

  stats(): WriterStats {
    return { syncs: this.syncs, batches: this.batches, bytes: this.bytes, rotations: this.rotations };
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const first = this.queue[0];
        if (first === undefined) break;
        if (first.segment !== this.segment) await this.rotate(first.segment);
        let count = 0;
        while (count < this.queue.length && count < MAX_BATCHES_PER_WRITE && this.queue[count]?.segment === this.segment) count += 1;
        const run = this.queue.slice(0, count);
        // A batch is written only once the chain filled its prev, sig and hash fields (chainer.ts).
        for (const batch of run) if (!batch.filled) await batch.ready;
        if (this.stopped) break;
        const start = this.position;
        const buffers = run.map((batch) => batch.bytes());
        const { total, stalled } = await this.writeRetrying(buffers, start);
        await this.handle.datasync();
        this.queue.splice(0, count);
        this.position += total;
        this.syncs += 1;
        this.batches += count;
        this.bytes += total;
        let checkpoint: DurableCheckpoint | undefined;
        let offset = start;
        for (const batch of run) {
          if (batch.checkpoint !== undefined) {
            const { seq, start: from, end } = batch.checkpoint;
            // The line ends with the hash and `"}`.
            const hash = batch.buffer.toString('latin1', end - 66, end - 2);
            checkpoint = { seq, hash, segment: this.segment, offset: offset + from, record: batch.buffer.toString('utf8', from, end) };
          }
          offset += batch.used;
        }
        this.events.durable(run.at(-1)?.lastSeq ?? 0, total, checkpoint);
        // Nothing reads these batches any more: their memory holds the next ones (batch-memory.ts).
        for (const batch of run) batch.release();
        if (stalled) this.events.resumed();
      }
    } catch (error) {
      this.stopped = true;
      this.queue.length = 0;
      this.events.failed(error);
    } finally {
      this.pumping = false;
    }
  }

  /** {@link writeAll}, written again after a pause as long as the disk is full; see the module comment. */
  private async writeRetrying(buffers: Buffer[], position: number): Promise<{ total: number; stalled: boolean }> {
    let pause = RETRY_FIRST_MS;
    let stalled = false;
    for (;;) {
      try {
        return { total: await this.writeAll(buffers, position), stalled };
      } catch (error) {
        if (!isOutOfSpace(error) || this.stopped) throw error;
        if (!stalled) this.events.stalled(error);
        stalled = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.wake = () => (clearTimeout(timer), resolve());
        });
        this.wake = undefined;
        if (this.stopped) throw error;
        pause = Math.min(pause * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Writes every buffer at `position`, resuming after short writes. */
  private async writeAll(buffers: Buffer[], position: number): Promise<number> {
    let remaining = buffers;
    let at = position;
    while (remaining.length > 0) {
      const { bytesWritten } = await this.handle.writev(remaining, at);
      if (bytesWritten === 0) throw new Error('writev wrote nothing');
      at += bytesWritten;
      let written = bytesWritten;
      let index = 0;
      while (index < remaining.length && written >= (remaining[index]?.length ?? 0)) {
        written -= remaining[index]?.length ?? 0;
        index += 1;
      }
      const partial = remaining[index];
      remaining = partial === undefined ? [] : [partial.subarray(written), ...remaining.slice(index + 1)];
    }
    return at - position;
  }

  /** Closes the active file (already durable), renames it to its segment name, creates the next. */
  private async rotate(next: number): Promise<void> {
    this.handleOpen = false;
    await this.handle.close();
    await rename(this.logPath, segmentPath(this.logPath, this.segment));
    this.handle = await open(this.logPath, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    this.handleOpen = true;
    await syncDirectory(dirname(this.logPath));
    this.segment = next;
    this.position = 0;
    this.rotations += 1;
  }
}
