/**
 * A chain worker that dies on its first batch without answering, for the test of the
 * chain's fallback (chainer.test.ts): the batch it held must be filled on the log thread.
 */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => {
  process.exit(3);
});
