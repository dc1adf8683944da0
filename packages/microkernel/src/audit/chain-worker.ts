/**
 * Worker-thread entry of a log's chain (chainer.ts): fills prev, sig and hash of the
 * batches it is sent, in the order sent, in the shared memory they live in, and posts
 * each batch's last hash back. Loaded only by `new Worker(...)` in chainer.ts.
 *
 * A batch sent with its place in the segment ({@link PreWrite}) is also written there,
 * before the reply, so the disk gets the log's bytes while the log's thread is busy (a
 * guest's synchronous run keeps it from writing anything itself); once nothing else is
 * queued the worker asks for those bytes to be synced too. Both only save the writer
 * work: it still syncs every batch through its own descriptor before anything is durable,
 * and writes whatever the worker did not (writer.ts). After one failed write the worker
 * writes nothing more through that descriptor, so what it wrote has no gap.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { fdatasync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { fillChain, type CheckpointSigner } from './chain-fill.js';
import { setNativeChain } from './native.js';
import { checkpointStatement } from './format.js';

/** One batch to fill. */
export interface ChainJob {
  readonly id: number;
  readonly memory: SharedArrayBuffer;
  readonly layout: Int32Array;
  readonly records: number;
  readonly firstSeq: number;
  /** The hash before the batch; absent: the last hash this worker computed. */
  readonly prev?: string;
  /** Where to write the filled batch; absent: the writer writes it. */
  readonly write?: PreWrite;
}

/** A batch's place: a descriptor of its segment (the writer's, kept open while the worker may use it), the offset, its length. */
export interface PreWrite {
  readonly fd: number;
  readonly position: number;
  readonly used: number;
}

/** The reply to a job: the batch's last hash and, when the worker wrote it, where; or the error. */
export interface ChainReply {
  readonly id: number;
  readonly hash?: string;
  readonly writtenAt?: number;
  readonly error?: string;
}

/** What the worker is started with: the checkpoint key in PKCS#8 DER, if the log signs; false `native`: fill in JS, as the log's thread does. */
export interface ChainWorkerData {
  readonly privateKey?: Uint8Array;
  readonly native: boolean;
}

const data = workerData as ChainWorkerData;
if (!data.native) setNativeChain(false);
const privateKey = data.privateKey === undefined ? undefined : createPrivateKey({ key: Buffer.from(data.privateKey), format: 'der', type: 'pkcs8' });
const signer: CheckpointSigner | undefined =
  privateKey === undefined ? undefined : (seq, recordHash) => sign(null, Buffer.from(checkpointStatement(seq, recordHash)), privateKey).toString('base64');
let last = '';
/** Descriptors a write failed on: nothing more is written through them. */
const failed = new Set<number>();
/** Descriptors written since their last sync request. */
const unsynced = new Set<number>();
let syncScheduled = false;

/** Writes the filled batch at its place; false (and no more writes through `fd`) on any failure. */
function preWrite(buf: Buffer, { fd, position, used }: PreWrite): boolean {
  if (failed.has(fd)) return false;
  try {
    for (let at = 0; at < used; ) {
      const wrote = writeSync(fd, buf, at, used - at, position + at);
      if (wrote === 0) throw new Error('write wrote nothing');
      at += wrote;
    }
    unsynced.add(fd);
    return true;
  } catch {
    failed.add(fd);
    return false;
  }
}

/**
 * Once the jobs queued now are done (setImmediate runs after them), asks the kernel to
 * sync what was written. Its outcome is ignored: the writer's own fdatasync, on its own
 * open file description, is what makes records durable and still reports any failure
 * (Linux reports a writeback error to every open file description).
 */
function syncSoon(): void {
  if (syncScheduled) return;
  syncScheduled = true;
  setImmediate(() => {
    syncScheduled = false;
    for (const fd of unsynced) fdatasync(fd, () => undefined);
    unsynced.clear();
  });
}

parentPort?.on('message', (job: ChainJob) => {
  try {
    const buf = Buffer.from(job.memory);
    last = fillChain(buf, job.layout, 0, job.records, job.firstSeq, job.prev ?? last, signer);
    const written = job.write !== undefined && preWrite(buf, job.write);
    const reply: ChainReply = written ? { id: job.id, hash: last, writtenAt: job.write?.position } : { id: job.id, hash: last };
    parentPort?.postMessage(reply);
    if (written) syncSoon();
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) } satisfies ChainReply);
  }
});
