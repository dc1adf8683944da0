import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordBatch, recordFrame, timedFrame } from './batch.js';
import { FrameCopies } from './frame-copies.js';

const TS = '2025-01-02T03:04:05.678Z';
const TYPED = 'event","principal":"host","action":"wasi_snapshot_preview1.fd_read","resource":"fd:3","decision":"allow","reason":"fd rights: ünïcødé 😀"';

describe('RecordBatch.pushFrame', () => {
  it('encodes a record byte for byte and with the layout push() gives it, for seqs of every length up to 2^53 - 1', () => {
    const seqs = [1, 9, 10, 99, 100, 65_535, 99_999, 100_000, 999_999_999, 1_000_000_000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER];
    const framed = new RecordBatch(1, 64, 2);
    const plain = new RecordBatch(1, 64, 2);
    const timed = timedFrame(TS, recordFrame(TYPED));
    for (const seq of seqs) assert.equal(framed.pushFrame(seq, timed), plain.push(seq, TS, TYPED, -1), `seq ${seq}`);
    assert.equal(framed.records, seqs.length);
    assert.equal(framed.bytes().toString('utf8'), plain.bytes().toString('utf8'));
    assert.deepEqual([...framed.layout.subarray(0, seqs.length * 4)], [...plain.layout.subarray(0, seqs.length * 4)]);
    assert.deepEqual([framed.firstSeq, framed.lastSeq], [1, Number.MAX_SAFE_INTEGER]);
    assert.match(framed.bytes().toString('latin1'), /^\{"seq":1,"ts":"2025-01-02T03:04:05\.678Z","prev":"\0{64}","type":"event"/);
  });

  it('pushCopies() encodes the same bytes and layout as pushFrame() of the same frame, at every alignment', () => {
    const seqs = [1, 9, 10, 99, 100, 65_535, 99_999, 100_000, 999_999_999, 1_000_000_000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER];
    const copied = new RecordBatch(1, 64, 2);
    const framed = new RecordBatch(1, 64, 2);
    const timed = timedFrame(TS, recordFrame(TYPED));
    const copies = new FrameCopies(timed);
    // Records of 1 to 16 digits of seq, twice round: their frames start at every offset modulo 8.
    for (const seq of [...seqs, ...seqs]) assert.equal(copied.pushCopies(seq, copies), framed.pushFrame(seq, timed), `seq ${seq}`);
    assert.equal(new Set(Array.from({ length: copied.records }, (_, i) => (copied.layout[i * 4 + 1] ?? 0) & 7)).size >= 6, true);
    assert.equal(copied.bytes().toString('latin1'), framed.bytes().toString('latin1'));
    assert.deepEqual([...copied.layout.subarray(0, copied.records * 4)], [...framed.layout.subarray(0, framed.records * 4)]);
  });

  it('refuses to join a frame to a timestamp that is not 24 characters', () => {
    assert.throws(() => timedFrame('2025-01-02T03:04:05Z', recordFrame(TYPED)), /timestamp has 20 characters, not 24/);
  });
});
