/**
 * A child process for the crash tests; argv: the log path, then the mode.
 *
 * `stream`: appends forever, yielding to the event loop every 500 records so that
 * batches are written while it goes on. Every 5,000 records it asks for durability of
 * the last one and, once that resolves, prints `durable <seq> <hash>`, without pausing
 * the appends, so that later batches are in flight when the parent kills it.
 *
 * `burst`: appends 1,000 records and prints `durable <seq> <hash>` once they are on
 * disk, then encodes 150,000 more into one batch (about 65 MiB), starts writing it, and
 * kills itself with SIGKILL 1 ms later: while the kernel is still copying that write, so
 * the file is left with part of the batch, normally cut inside a line.
 */
import { AuditLog } from '../log.js';
import { sampleEntry } from './logs.js';
import { generateCheckpointKey } from '../keys.js';

const path = process.argv[2] ?? '';
const mode = process.argv[3] ?? 'stream';

if (mode === 'burst') {
  const log = await AuditLog.open({ path, signingKey: generateCheckpointKey(), batchRecords: 200_000, checkpointEvery: 1_000_000, checkpointInterval: 0, maxPendingBytes: 1024 * 1024 * 1024 });
  for (let i = 0; i < 1000; i += 1) log.append(sampleEntry(i));
  await log.flush();
  process.stdout.write(`durable ${log.head.seq} ${log.head.hash}\n`);
  for (let i = 0; i < 150_000; i += 1) log.append(sampleEntry(i));
  void log.flush();
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1);
} else {
  const log = await AuditLog.open({ path, signingKey: generateCheckpointKey(), checkpointEvery: 3000, rotateSize: 1024 * 1024, checkpointInterval: 0 });
  for (let i = 0; ; i += 1) {
    log.append(sampleEntry(i));
    if (i % 5000 === 4999) {
      const { seq, hash } = log.head;
      void log.durable(seq).then(() => process.stdout.write(`durable ${seq} ${hash}\n`));
    }
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}
