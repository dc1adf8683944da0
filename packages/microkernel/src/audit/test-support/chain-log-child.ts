/**
 * A child process for chain-fill.test.ts: writes a log the same way every run, so that
 * runs with the native chain filler and without it can be compared byte for byte. argv:
 * the log path, the checkpoint key file (Ed25519 signatures are deterministic), the number
 * of records, `native` or `js`. Prints which filled it and how many batches the worker filled.
 */
import { IdentityContext } from '@forgeone/common';
import { nativeChain, setNativeChain } from '../native.js';
import type { Chainer } from '../chainer.js';
import { loadCheckpointKey } from '../keys.js';
import { AuditLog } from '../log.js';
import { random, sampleEntry } from './logs.js';

const [path = '', keyFile = '', count = '0', how = 'native'] = process.argv.slice(2);
if (how === 'js') setNativeChain(false);
const identity = new IdentityContext('host').forPlugin({ publisher: 'acme', name: 'demo', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}`, attested: true });
const rand = random(16);
const log = await AuditLog.open({
  path,
  signingKey: await loadCheckpointKey(keyFile),
  clock: () => Date.UTC(2025, 0, 2, 3, 4, 5, 678),
  batchRecords: 200,
  checkpointEvery: 333,
  checkpointInterval: 0,
  rotateSize: 256 * 1024,
  level: 'all',
});
// The chain (private to the log) says where batches are filled: wait for its worker to be up after the first full batch.
const chain = (log as unknown as { chain: Chainer }).chain;
for (let i = 0; i < Number(count); i += 1) {
  if (i % 3 === 0) log.record({ identity, action: 'wasi_snapshot_preview1.fd_read', resource: `fd:${3 + (i % 5)}`, allowed: true, reason: 'fd rights' });
  else log.append(sampleEntry(i, rand));
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  for (let wait = 0; i === 499 && chain.where === 'starting' && wait < 1000; wait += 1) await new Promise((resolve) => setTimeout(resolve, 10));
}
const offThread = log.stats().hashedOffThread;
await log.close();
process.stdout.write(`${nativeChain() ? 'native' : 'js'} ${offThread}\n`);
