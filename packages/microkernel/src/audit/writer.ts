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
 * Pre-writes: the log's thread may be kept busy for long stretches (a guest's synchronous
 * run), while only it can run this writer. So a batch whose place in the active segment
 * is known when it is sealed ({@link GroupCommitWriter.reserve}: same segment, and every
 * batch queued before it is pre-written too, so nothing the worker writes lies beyond a
 * gap) is written there by the chain worker as soon as it is filled, through a second
 * descriptor of the segment (chain-worker.ts). A run of batches all found in place is
 * only synced here; any other run is written here in full (the same bytes at the same
 * offsets). Durability is unchanged: nothing is reported durable before this writer's
 * own fdatasync.
 *
 * A write that finds the disk full (ENOSPC, EDQUOT) is not the end: the writer reports
 * it stalled and writes the same bytes at the same offset again after a pause (100 ms,
 * doubling to 5 s), until it gets through or {@link GroupCommitWriter.abandon} stops
 * it. Bytes a short write left are overwritten with the same bytes. A failed sync or
 * rotation still stops the writer for good: after a failed fdatasync the page cache
 * cannot be trusted.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
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
  /** False when the chain worker may still write through a pre-write descriptor (it was given up on): it is then closed only by {@link GroupCommitWriter.closePreWrites}. */
  preWritesSettled(): boolean;
}

/** Counters for benchmarks and `forge audit` diagnostics. */
export interface WriterStats {
  /** writev + fdatasync rounds. */
  readonly syncs: number;
  readonly batches: number;
  readonly bytes: number;
  readonly rotations: number;
  /** Batches the chain worker had already written in place, which this writer only synced. */
  readonly preWritten: number;
}

// Linux caps one writev at IOV_MAX (1024) buffers; stay under it.
const MAX_BATCHES_PER_WRITE = 512;

/** A second descriptor (its own open file description) of the file `handle` has open, or undefined when `path` is no longer that file. */
function openPreWrite(path: string, handle: FileHandle): number | undefined {
  try {
    const fd = openSync(path, constants.O_WRONLY);
    const [mine, theirs] = [fstatSync(fd), fstatSync(handle.fd)];
    if (mine.ino === theirs.ino && mine.dev === theirs.dev) return fd;
    closeSync(fd);
  } catch {
    // No pre-writes for this segment: the writer writes every batch.
  }
  return undefined;
}

/** The bytes of `run` when the chain worker wrote every batch in order from `start`, else -1. */
function preWritten(run: readonly RecordBatch[], start: number): number {
  let at = start;
  for (const batch of run) {
    if (batch.writtenAt !== at) return -1;
    at += batch.used;
  }
  return at - start;
}

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
  private preWrittenBatches = 0;
  /** Wakes the pause between two retries of a stalled write. */
  private wake: (() => void) | undefined;
  /** The active segment's pre-write descriptor (opened on first use), and those retired while the chain worker might still use them. */
  private preWriteFd: number | undefined;
  /** The segment {@link preWriteFd} was opened (or tried) for. */
  private preWriteSegment = -1;
  private readonly retiredFds: number[] = [];
  /** Segment of the last batch enqueued, and where the next batch of it goes. */
  private reservedSegment: number;
  private reservedEnd: number;

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
    this.reservedSegment = segment;
    this.reservedEnd = position;
  }

  /**
   * Where the batch about to be enqueued goes, for the chain worker to write it there
   * first; undefined when that is not known now or would leave a gap (see the module comment).
   */
  reserve(batch: RecordBatch): { readonly fd: number; readonly position: number } | undefined {
    if (this.stopped || batch.segment !== this.segment || batch.segment !== this.reservedSegment) return undefined;
    if (!this.queue.every((queued) => queued.preWriting)) return undefined;
    if (this.preWriteSegment !== this.segment) {
      this.preWriteSegment = this.segment;
      this.preWriteFd = openPreWrite(this.logPath, this.handle);
    }
    const fd = this.preWriteFd;
    return fd === undefined ? undefined : { fd, position: this.reservedEnd };
  }

  /** Queues a sealed batch; batches must come in seq order. */
  enqueue(batch: RecordBatch): void {
    if (this.stopped) return;
    if (batch.segment !== this.reservedSegment) [this.reservedSegment, this.reservedEnd] = [batch.segment, 0];
    this.reservedEnd += batch.used;
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

  /** Closes the pre-write descriptors: once the chain worker is stopped (the log closed). */
  closePreWrites(): void {
    this.retirePreWrite();
    for (const fd of this.retiredFds.splice(0)) closeSync(fd);
  }

  /** Stops retrying a stalled write: the writer stops and reports the disk's error as a failure. */
  abandon(): void {
    this.stopped = true;
    this.wake?.();
  }

  stats(): WriterStats {
    return { syncs: this.syncs, batches: this.batches, bytes: this.bytes, rotations: this.rotations, preWritten: this.preWrittenBatches };
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
        const inPlace = preWritten(run, start);
        const { total, stalled } = inPlace >= 0 ? { total: inPlace, stalled: false } : await this.writeRetrying(run.map((batch) => batch.bytes()), start);
        if (inPlace >= 0) this.preWrittenBatches += count;
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
    this.retirePreWrite();
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

  /** Stops pre-writes to the active segment: its descriptor is closed now, or kept for {@link closePreWrites} while the worker may still use it. */
  private retirePreWrite(): void {
    const fd = this.preWriteFd;
    this.preWriteFd = undefined;
    if (fd === undefined) return;
    if (this.events.preWritesSettled()) closeSync(fd);
    else this.retiredFds.push(fd);
  }
}
