/**
 * A child for the random-kill kv test (kv-crash.test.ts): opens the store, prints
 * `ready`, then writes `count` keys starting at `first` (key-i, a value of i % 7 + 1 KiB
 * of byte i), and after each set returns (committed and fsynced, WAL with synchronous =
 * FULL) prints `ack <i>`. Every 5th write also deletes the key written 3 before it and
 * acks that as `ack -<i>`. Imports only the store, so it starts fast.
 * Usage: node kv-crash-child.js DIRECTORY FIRST COUNT
 */
import { writeSync } from 'node:fs';
import { KvStore } from '../kv-store.js';
import { DEFAULT_HOST_CALL_LIMITS } from '../limits.js';

const [directory = '', firstText = '0', countText = '0'] = process.argv.slice(2);
const store = KvStore.open(directory, DEFAULT_HOST_CALL_LIMITS.kv);
// Synchronous writes to stdout: an ack is in the pipe before the next write starts.
writeSync(1, 'ready\n');
const first = Number(firstText);
for (let i = first; i < first + Number(countText); i += 1) {
  store.set(Buffer.from(`key-${i}`), Buffer.alloc(((i % 7) + 1) * 1024, i % 256));
  writeSync(1, `ack ${i}\n`);
  if (i % 5 === 4 && i - 3 >= first) {
    store.delete(Buffer.from(`key-${i - 3}`));
    writeSync(1, `ack -${i - 3}\n`);
  }
}
store.close();
