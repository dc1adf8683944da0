/**
 * Worker-thread entry for parallel verification: checks the ranges it is sent (range.ts)
 * and posts each result back. Loaded only by `new Worker(...)` in parallel.ts; it does
 * nothing until a message arrives.
 */
import { parentPort } from 'node:worker_threads';
import { setNativeChain } from './native.js';
import { checkRange, type RangeTask } from './range.js';

/** A message to the worker: one range, with an id to match the reply. */
export interface RangeRequest {
  readonly id: number;
  readonly task: RangeTask;
}

parentPort?.on('message', (request: RangeRequest) => {
  setNativeChain(request.task.native);
  checkRange(request.task).then(
    (result) => parentPort?.postMessage({ id: request.id, result }),
    (error: unknown) => parentPort?.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
