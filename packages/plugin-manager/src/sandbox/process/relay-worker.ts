/**
 * The entry module of a sandbox relay thread (relay.ts). Loaded only as a worker by the
 * process backend; importing it anywhere else throws.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { runRelay, type RelayData } from './relay.js';

const data = workerData as Partial<RelayData> | undefined;
if (isMainThread || !(data?.slot instanceof SharedArrayBuffer) || typeof data.fromSandbox !== 'number' || typeof data.toSandbox !== 'number') {
  throw new Error('relay-worker runs inside a worker started by the process backend');
}
runRelay(data as RelayData);
