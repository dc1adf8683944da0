/**
 * Worker-thread entry of a log's chain (chainer.ts): fills prev, sig and hash of the
 * batches it is sent, in the order sent, in the shared memory they live in, and posts
 * each batch's last hash back. Loaded only by `new Worker(...)` in chainer.ts.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { disableNativeChain, fillChain, type CheckpointSigner } from './chain-fill.js';
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
}

/** What the worker is started with: the checkpoint key in PKCS#8 DER, if the log signs; false `native`: fill in JS, as the log's thread does. */
export interface ChainWorkerData {
  readonly privateKey?: Uint8Array;
  readonly native: boolean;
}

const data = workerData as ChainWorkerData;
if (!data.native) disableNativeChain();
const privateKey = data.privateKey === undefined ? undefined : createPrivateKey({ key: Buffer.from(data.privateKey), format: 'der', type: 'pkcs8' });
const signer: CheckpointSigner | undefined =
  privateKey === undefined ? undefined : (seq, recordHash) => sign(null, Buffer.from(checkpointStatement(seq, recordHash)), privateKey).toString('base64');
let last = '';

parentPort?.on('message', (job: ChainJob) => {
  try {
    last = fillChain(Buffer.from(job.memory), job.layout, 0, job.records, job.firstSeq, job.prev ?? last, signer);
    parentPort?.postMessage({ id: job.id, hash: last });
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) });
  }
});
