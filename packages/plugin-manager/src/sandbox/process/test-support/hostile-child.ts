/**
 * TEST ONLY: a program that plays a compromised sandbox (ProcessBackend's `childScript`).
 * It says READY like the real one, reads the host's frames, and answers the first job
 * (a plugin's LOAD) with the hostile move its plugin's id names (the id's second word,
 * `hostile-<move>-...`), then blocks reading, so that what the host sees is the move
 * itself and not the end of the channel (but for `exit`). With `hostile-late<move>-...`
 * it answers the load and the first call well (echoing the input) and makes the move at
 * the second call: a plain call of a known export, which the host thread sends itself
 * (direct.ts) when frames go through the ring.
 */
import { ftruncateSync, writeSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { descriptorArgument, openChannel } from '../channel.js';
import { RING_BYTES, RING_CAPACITY, RING_WORDS, sharedMemory } from '../ring.js';
import { KIND, encodeFrame, jsonBytes } from '../wire.js';
import { LEDGER_BYTES, openLedger } from '../../pool-ledger.js';
import type { BackendAuditEntry } from '../../plugin-gate.js';

const IN = 0;
const OUT = 1;
// Whatever transport the host chose (the shared ring, or the FIFOs alone).
const ringFd = descriptorArgument(process.argv.slice(2), 'ring');
const channel = openChannel('sandbox', IN, OUT, ringFd);
const writeFrame = (_fd: number, frame: Uint8Array): void => channel.write(frame);
/** The shared words, mapped a second time to break them. */
const words = (): Int32Array => {
  const memory = sharedMemory();
  if (ringFd === undefined || memory === undefined) process.exit(65);
  return new Int32Array(memory.map(ringFd, RING_BYTES), 0, 1024);
};

/** A folding call's running counts for plugin `id`, all of them forge.time_now. */
const foldItem = (id: string, folded: number): unknown => ({ kind: 'fold', plugin: id, progress: { call: 'forged-name', kept: 100, folded, counts: [['forge.time_now', null, folded]], other: 0 } });

/** The hostile moves, by name. */
const MOVES: Readonly<Record<string, (id: string) => void>> = {
  // Telemetry attributed to a plugin this sandbox does not host.
  foreign: () => writeFrame(OUT, encodeFrame(KIND.TELEMETRY, [0], [], jsonBytes([{ kind: 'audit', plugin: 'someone-else', entry: { plugin: 'someone-else', action: 'forge.kv_get', allowed: false, reason: 'forged' } }]))),
  // A length prefix of 4 GiB - 1 with a few bytes after it.
  huge: () => {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(0xffff_ffff, 0);
    writeFrame(OUT, Buffer.concat([prefix, Buffer.from([KIND.MSG, 1, 2, 3])]));
  },
  // A host request (an HTTP hop) for a plugin slot the sandbox was never given.
  slot: () => writeFrame(OUT, encodeFrame(KIND.HOST, [3, 99, 0], [0n], jsonBytes({ method: 'GET', url: 'http://127.0.0.1/', headers: [], body: new Uint8Array(0), timeoutMs: 1000, redirectsFollowed: false }))),
  // A DONE whose length prefix counts its kind and 8 bytes, short of its 36 bytes of words (the words follow all the same).
  short: () => {
    const done = encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]);
    done.writeUInt32LE(9, 0);
    writeFrame(OUT, done.subarray(0, 13));
  },
  // A DONE whose length prefix claims 2 GiB, far past the ring (and the host's limit), with a few bytes after it.
  past: () => {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32LE(0x7fff_ffff, 0);
    writeFrame(OUT, Buffer.concat([prefix, Buffer.from([KIND.DONE, 1, 2, 3])]));
  },
  // A DONE for a call id the host never sent.
  callid: () => writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call + 1000], [0n, 0n])),
  // Answers the call twice: the second DONE comes while no call is in flight, and is read at the next call.
  twice: () => {
    writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
    writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
  },
  // A job answer with flags the protocol does not define.
  flags: () => writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0x100, 0, 1, call], [0n, 0n])),
  // A frame of a host-to-sandbox kind.
  kind: () => writeFrame(OUT, encodeFrame(KIND.JOB, [1, 0, 0, 0, call], [0n])),
  // The sandbox dies in the middle of the job.
  exit: () => process.exit(3),
  // Never answers the job (and keeps reading, so the host's frames still go somewhere).
  silent: () => undefined,
  // Answers the job, then claims to be parked on its doorbell for good (the word the host reads
  // to choose how to wait for a synchronous call) while it reads nothing again.
  parkedlie: () => {
    writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
    const shared = words();
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      Atomics.store(shared, RING_WORDS.SANDBOX_PARKED, 1);
      Atomics.wait(pause, 0, 0, 1);
    }
  },
  // Well-formed denials without end: 5 frames of 4,096 (over the host's budget per job), then a normal answer.
  flood: (id) => {
    const entry = { kind: 'audit', plugin: id, entry: { plugin: id, action: 'wasi_snapshot_preview1.path_open', resource: '/x', allowed: false, reason: 'flood' } };
    const frame = encodeFrame(KIND.TELEMETRY, [0], [], jsonBytes(new Array<unknown>(4096).fill(entry)));
    for (let i = 0; i < 5; i += 1) writeFrame(OUT, frame);
    writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
  },
  // Ends the job with an error only the host can decide (the memory-limit kill).
  liar: () => writeFrame(OUT, encodeFrame(KIND.DONE, [1, 0, 0, 1, call], [0n, 0n], jsonBytes({ code: 'FO_SANDBOX_MEMORY_LIMIT', kind: 'limit', message: 'the host ran out of memory' }))),
  // Ends the job with an error whose message is 1 MiB long.
  verbose: () => writeFrame(OUT, encodeFrame(KIND.DONE, [1, 0, 0, 1, call], [0n, 0n], jsonBytes({ code: 'FO_ABI_GUEST_TRAP', kind: 'internal', message: 'z'.repeat(1024 * 1024) }))),
  // Ring only: claims to have written more than the ring holds.
  overrun: () => {
    Atomics.store(words(), RING_WORDS.UP_WRITTEN, RING_CAPACITY * 2);
    writeSync(OUT, new Uint8Array([1])); // the doorbell, in case the host has parked
  },
  // Ring only: claims to have read bytes the host never wrote, then answers normally (the host finds out at its next write).
  readahead: () => {
    const shared = words();
    Atomics.store(shared, RING_WORDS.DOWN_READ, Atomics.load(shared, RING_WORDS.DOWN_WRITTEN) + 4096);
    writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
  },
  // Ring only: tries to shrink the shared memory under the host's mapping (SIGBUS in the host); answers normally only when the kernel refused.
  truncate: () => {
    if (ringFd === undefined) process.exit(65);
    try {
      ftruncateSync(ringFd, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EPERM') return writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
    }
    process.exit(66);
  },
  // Rings the host's doorbell 200 times, a millisecond apart, without answering; then answers normally.
  ringbell: () => {
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 200; i += 1) {
      writeSync(OUT, new Uint8Array([1]));
      Atomics.wait(pause, 0, 0, 1);
    }
    writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
  },
  // A folding call's running counts past what the plugin's fuel pays for (or for a plugin that folds nothing).
  foldhuge: (id) => writeFrame(OUT, encodeFrame(KIND.TELEMETRY, [0], [], jsonBytes([foldItem(id, 1_000_000)]))),
  // Running counts for the call at hand (a lie: it made no host call, and names another call), then no answer: the host kills the call at its limit.
  foldspin: (id) => writeFrame(OUT, encodeFrame(KIND.TELEMETRY, [0], [], jsonBytes([foldItem(id, 5000)]))),
  // A forged ledger (pool-ledger.ts), then no answer: the host kills the call at its limit and reads it. An
  // allowed kv_get of its own plugin (the sandbox decides those), an allowed forge.http_request (the host
  // decides it), a record for a plugin slot it does not host, and counts past what the plugin's fuel pays for.
  ledger: (id) => {
    const fd = descriptorArgument(process.argv.slice(2), 'ledger');
    const memory = sharedMemory();
    if (fd === undefined || memory === undefined) process.exit(65);
    const { mirror, tally } = openLedger(memory.map(fd, LEDGER_BYTES));
    const entry = (action: string, resource: string): BackendAuditEntry => ({ plugin: id, action, resource, allowed: true, reason: 'forged by the sandbox' });
    mirror.add(index, entry('forge.kv_get', 'kv:own'));
    mirror.add(index, entry('forge.http_request', 'evil.example'));
    mirror.add(99, entry('forge.kv_get', 'kv:not-hosted'));
    const slot = tally.open(index);
    tally.name(slot, 0, 'forge.time_now', null);
    for (let i = 0; i < 1_000_000; i += 1) tally.count(slot, 0);
  },
  // Forged "allowed" audit entries for calls the host decides (and a denial), then a normal answer.
  forge: (id) => {
    const entry = (action: string, allowed: boolean): unknown => ({ kind: 'audit', plugin: id, entry: { plugin: id, action, resource: 'evil.example', allowed, reason: 'forged by the sandbox' } });
    writeFrame(OUT, encodeFrame(KIND.TELEMETRY, [0], [], jsonBytes([entry('forge.http_request', true), entry('forge.http_request', false)])));
    writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n]));
  },
};

let id = '';
/** The plugin's index on the worker (its slot), from the LOAD message. */
let index = 0;
/** The id of the job at hand, which a DONE echoes. */
let call = 0;
let moved = false;
let jobs = 0;
writeFrame(OUT, encodeFrame(KIND.READY, [], []));
for (;;) {
  const frame = channel.read();
  if (frame.kind === KIND.MSG) {
    const message = deserialize(frame.payload) as { type: string; plugin?: number; spec?: { id: string } };
    if (message.type === 'load' && message.spec !== undefined) {
      id = message.spec.id;
      index = message.plugin ?? 0;
    }
  } else if (frame.kind === KIND.JOB && !moved) {
    jobs += 1;
    call = frame.ints[4] ?? 0;
    const named = id.split('-')[1] ?? '';
    const late = named.startsWith('late');
    if (late && jobs < 3) {
      writeFrame(OUT, encodeFrame(KIND.DONE, [0, 0, 0, 1, call], [0n, 0n], frame.payload));
      continue;
    }
    moved = true;
    const move = MOVES[late ? named.slice('late'.length) : named];
    if (move === undefined) process.exit(64);
    move(id);
  }
}
