/**
 * A log's chain: fills every sealed batch's prev, sig and hash fields (chain-fill.ts), in
 * seq order, before the writer may write it. Hashing is much of what an audited call
 * costs (a sha256 per record), so once the log is busy (its first full batch) the chain
 * moves to a worker thread and the caller's thread only encodes records; a small batch
 * (a light load's, or a flush's) with nothing ahead of it in the worker is still filled
 * here, where it costs less than the round trip. Until the worker is up, and for good if
 * it fails, batches are filled on the log's thread, the same way: the bytes written are
 * identical either way.
 *
 * Nothing is lost by moving the work: a record is acknowledged only when its batch is
 * durable, and a batch is written only once it is filled.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '@forgeone/common';
import type { RecordBatch } from './batch.js';
import { fillChain, type CheckpointSigner } from './chain-fill.js';
import { nativeChain } from './native.js';
import type { ChainJob, ChainReply, ChainWorkerData } from './chain-worker.js';
import { signCheckpoint, type CheckpointKey } from './keys.js';

/**
 * A batch of at most this many records is filled on the log's thread even once the worker
 * is up, when the worker has nothing in flight: posting a batch to the worker and taking its
 * reply costs the log's thread about 12 to 15 us and adds about 30 us before the batch can
 * be written, against about 0.3 us per record filled natively here (0.6 to 1.1 us in JS).
 */
const FILL_HERE_UP_TO = { native: 32, js: 12 };

type WorkerState = 'none' | 'starting' | 'ready' | 'dead';

/** Fills batches; see the module comment. */
export class Chainer {
  /** Hash of the last record of the last filled batch. */
  #last: string;
  readonly #sign: CheckpointSigner | undefined;
  readonly #key: CheckpointKey | undefined;
  readonly #logger: Logger;
  #state: WorkerState = 'none';
  #worker: Worker | undefined;
  /** Batches posted to the worker and not yet returned, in order. */
  readonly #inFlight: RecordBatch[] = [];
  #nextId = 0;
  #firstId = 0;
  readonly #fillHereUpTo: number;
  /** Batches the worker filled. */
  offThread = 0;

  /**
   * @param head hash of the last record already in the log
   * @param key signs checkpoints (on the worker too, which gets the private key)
   * @param useWorker false: always fill on the log's thread
   * @param workerUrl the worker's script (tests give one that fails)
   */
  constructor(
    head: string,
    key: CheckpointKey | undefined,
    logger: Logger,
    private readonly useWorker: boolean,
    private readonly workerUrl: URL = new URL('./chain-worker.js', import.meta.url),
  ) {
    this.#last = head;
    this.#key = key;
    this.#sign = key === undefined ? undefined : (seq, recordHash) => signCheckpoint(key, seq, recordHash);
    this.#logger = logger;
    this.#fillHereUpTo = nativeChain() ? FILL_HERE_UP_TO.native : FILL_HERE_UP_TO.js;
  }

  /** Where batches are filled now: `log` (no worker yet, or it failed: `dead`) or `worker`. */
  get where(): 'log' | 'starting' | 'worker' | 'dead' {
    return this.#state === 'none' ? 'log' : this.#state === 'ready' ? 'worker' : this.#state;
  }

  /**
   * Takes a sealed batch; `full`: it was sealed for its size (the log is busy). `placeOf`,
   * asked only when the batch goes to the worker: where the writer will write it, for the
   * worker to write it there first (writer.ts); the batch is then marked
   * {@link RecordBatch.preWriting}.
   */
  submit(batch: RecordBatch, full: boolean, placeOf?: () => { readonly fd: number; readonly position: number } | undefined): void {
    if (this.#state === 'ready' && this.#worker !== undefined && (this.#inFlight.length > 0 || batch.records > this.#fillHereUpTo)) {
      const place = placeOf?.();
      batch.preWriting = place !== undefined;
      const job: ChainJob = {
        id: this.#nextId,
        memory: batch.buffer.buffer as SharedArrayBuffer,
        layout: batch.layout,
        records: batch.records,
        firstSeq: batch.firstSeq,
        ...(this.#inFlight.length === 0 ? { prev: this.#last } : {}),
        ...(place === undefined ? {} : { write: { fd: place.fd, position: place.position, used: batch.used } }),
      };
      this.#nextId += 1;
      if (this.#inFlight.length === 0) this.#worker.ref();
      this.#inFlight.push(batch);
      this.#worker.postMessage(job);
      return;
    }
    if (full && this.#state === 'none' && this.useWorker) this.start();
    this.fillHere(batch);
  }

  /**
   * The hash the record after `open`'s last would continue: the chain over every batch
   * not filled yet, computed on copies (what the worker writes meanwhile is the same).
   */
  head(open: RecordBatch | undefined): string {
    let hash = this.#last;
    for (const batch of open === undefined ? this.#inFlight : [...this.#inFlight, open]) {
      const copy = Buffer.from(batch.buffer.subarray(0, batch.used));
      hash = fillChain(copy, batch.layout, 0, batch.records, batch.firstSeq, hash, this.#sign);
    }
    return hash;
  }

  /** Stops the worker (after the writer is idle: nothing is in flight then). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#state = 'dead';
    if (worker !== undefined) await worker.terminate();
  }

  private fillHere(batch: RecordBatch): void {
    try {
      this.#last = fillChain(batch.buffer, batch.layout, 0, batch.records, batch.firstSeq, this.#last, this.#sign);
      batch.filled = true;
      batch.settle();
    } catch (error) {
      batch.settle(error);
    }
  }

  private start(): void {
    this.#state = 'starting';
    const data: ChainWorkerData = {
      native: nativeChain(),
      ...(this.#key === undefined ? {} : { privateKey: this.#key.privateKey.export({ format: 'der', type: 'pkcs8' }) }),
    };
    let worker: Worker;
    try {
      worker = new Worker(this.workerUrl, { workerData: data });
    } catch (error) {
      this.giveUp(error);
      return;
    }
    this.#worker = worker;
    worker.unref();
    worker.once('online', () => {
      if (this.#state === 'starting') this.#state = 'ready';
    });
    worker.on('message', (reply: ChainReply) => this.onReply(reply));
    worker.on('error', (error) => this.giveUp(error));
    worker.on('exit', (code) => {
      if (this.#state !== 'dead') this.giveUp(new Error(`the chain worker exited with code ${code}`));
    });
  }

  private onReply(reply: ChainReply): void {
    const batch = this.#inFlight[0];
    if (batch === undefined || reply.id !== this.#firstId) return;
    if (reply.hash === undefined) {
      this.giveUp(new Error(reply.error ?? 'the chain worker failed'));
      return;
    }
    this.#inFlight.shift();
    this.#firstId += 1;
    this.#last = reply.hash;
    this.offThread += 1;
    if (reply.writtenAt !== undefined) batch.writtenAt = reply.writtenAt;
    batch.filled = true;
    batch.settle();
    if (this.#inFlight.length === 0) this.#worker?.unref();
  }

  /** The worker failed: fill what it had on this thread, in order, and keep doing so. */
  private giveUp(error: unknown): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.#logger.warn('audit chain worker failed; hashing on the log thread', { error: error instanceof Error ? error.message : String(error) });
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
    const pending = this.#inFlight.splice(0);
    this.#firstId = this.#nextId;
    for (const batch of pending) {
      // The worker may not have stopped yet: it writes the same bytes, but never into memory reused by a later batch.
      batch.reusable = false;
      this.fillHere(batch);
    }
  }
}
