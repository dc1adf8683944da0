/**
 * A child for the random-kill audit test (crash.test.ts): opens (and so recovers) the
 * log at PATH with the checkpoint key in KEY_FILE, prints `ready`, then appends entries
 * FIRST .. FIRST+COUNT-1 (sampleEntry(i)): one at a time with appendDurable, and every
 * 4th round a burst of 6 appended together and awaited with durable(). After each record
 * is durable it prints `ack <seq> <i>`, so the parent knows what must survive.
 * With EARLY, it prints `ready` before it opens the log, so that a kill may land in the
 * open's recovery.
 * Usage: node ack-child.js PATH KEY_FILE FIRST COUNT [EARLY]
 */
import { writeSync } from 'node:fs';
import { loadCheckpointKey } from '../keys.js';
import { AuditLog } from '../log.js';
import { sampleEntry } from './logs.js';

const [path = '', keyFile = '', firstText = '0', countText = '0', early = ''] = process.argv.slice(2);
const signingKey = await loadCheckpointKey(keyFile);
if (early === 'EARLY') writeSync(1, 'ready\n');
const log = await AuditLog.open({ path, signingKey, checkpointEvery: 16, checkpointInterval: 0, rotateSize: 24 * 1024 });
if (early !== 'EARLY') writeSync(1, 'ready\n');
const first = Number(firstText);
const end = first + Number(countText);
for (let i = first, round = 0; i < end; round += 1) {
  if (round % 4 === 3) {
    const burst: [number, number][] = [];
    for (; burst.length < 6 && i < end; i += 1) burst.push([log.append(sampleEntry(i)), i]);
    await log.durable(burst.at(-1)![0]);
    for (const [seq, n] of burst) writeSync(1, `ack ${seq} ${n}\n`);
  } else {
    const seq = await log.appendDurable(sampleEntry(i));
    writeSync(1, `ack ${seq} ${i}\n`);
    i += 1;
  }
}
await log.close();
