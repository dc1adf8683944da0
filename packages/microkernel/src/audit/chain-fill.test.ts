import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RecordBatch } from './batch.js';
import { AT_BODY_END, AT_PREV, AT_SIG, AT_START, fillChain, LAYOUT_STRIDE, SIG_LENGTH, type CheckpointSigner } from './chain-fill.js';
import { listSegments, statePathFor } from './files.js';
import { GENESIS_HASH, HASH_OPEN, sha256Hex } from './format.js';
import { loadCheckpointVerifyKey } from './keys.js';
import { nativeChain } from './native.js';
import { needsNative as needsModule } from './test-support/chain-modes.js';
import { below, random, tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const TS = '2025-01-02T03:04:05.678Z';
const TEXT = ['a', 'fd:3', 'ünïcødé', '😀', '\\"', 'x'.repeat(700), '\u202e', ' '];

/** A deterministic 88-character "signature" of (seq, hash), so both paths sign alike. */
const signer: CheckpointSigner = (seq, recordHash) => createHash('sha512').update(`${seq}/${recordHash}`).digest('base64');

/** A batch of `count` records with random bodies (0 to ~2 KiB, multi-byte text) and checkpoints where `isCheckpoint` says. */
function randomBatch(rand: () => number, count: number, isCheckpoint: (index: number) => boolean): RecordBatch {
  const batch = new RecordBatch(1, 256, 4);
  for (let index = 0; index < count; index += 1) {
    let typed = 'event","data":"';
    for (let words = below(rand, 12); words > 0; words -= 1) typed += TEXT[below(rand, TEXT.length)] ?? '';
    typed += '"';
    if (isCheckpoint(index)) batch.push(100 + index, TS, `checkpoint","sig":"${'0'.repeat(SIG_LENGTH)}"`, 'checkpoint","sig":"'.length);
    else batch.push(100 + index, TS, typed, -1);
  }
  return batch;
}

/** A copy of a batch's bytes and layout, on SharedArrayBuffers or plain memory. */
function copyOf(batch: RecordBatch, shared: boolean): { buf: Buffer; layout: Int32Array } {
  const buf = Buffer.from(shared ? new SharedArrayBuffer(batch.used) : new ArrayBuffer(batch.used));
  batch.buffer.copy(buf, 0, 0, batch.used);
  const layout = new Int32Array(shared ? new SharedArrayBuffer(batch.records * LAYOUT_STRIDE * 4) : new ArrayBuffer(batch.records * LAYOUT_STRIDE * 4));
  layout.set(batch.layout.subarray(0, batch.records * LAYOUT_STRIDE));
  return { buf, layout };
}

/** Checks every line's hash against its body and its prev against the line before, with node:crypto. */
function assertChained(buf: Buffer, layout: Int32Array, records: number, prev: string): void {
  let last = prev;
  for (let index = 0; index < records; index += 1) {
    const [start = 0, prevAt = 0, , bodyEnd = 0] = layout.subarray(index * LAYOUT_STRIDE, (index + 1) * LAYOUT_STRIDE);
    assert.equal(buf.toString('latin1', prevAt, prevAt + 64), last, `prev of record ${index}`);
    last = buf.toString('latin1', bodyEnd + HASH_OPEN.length, bodyEnd + HASH_OPEN.length + 64);
    assert.equal(last, sha256Hex(buf.subarray(start, bodyEnd)), `hash of record ${index}`);
  }
}

describe('fillChain: native and JS fill the same bytes', () => {
  it('loads the native filler where it was built', needsModule, () => {
    assert.equal(nativeChain(), true);
  });

  it('fills random batches with checkpoints interleaved, in random ranges, on shared and plain memory, byte for byte as JS does', needsModule, () => {
    const rand = random(7);
    for (let round = 0; round < 60; round += 1) {
      const count = 1 + below(rand, round < 10 ? 8 : 400);
      const every = 1 + below(rand, 20);
      // Checkpoints: none, every `every`th, first and last, or runs of them back to back.
      const kind = round % 4;
      const batch = randomBatch(rand, count, (index) => (kind === 1 && index % every === every - 1) || (kind === 2 && (index === 0 || index === count - 1)) || (kind === 3 && index % every < 3));
      const shared = round % 3 !== 0;
      const js = copyOf(batch, shared);
      const native = copyOf(batch, shared);
      const prev = round === 0 ? GENESIS_HASH : sha256Hex(`round ${round}`);
      const jsHash = fillChain(js.buf, js.layout, 0, count, 100, prev, signer, false);
      // Native: the same records in up to four calls, each continuing from the last one's hash.
      const cuts = [0, below(rand, count + 1), below(rand, count + 1), below(rand, count + 1), count].sort((a, b) => a - b);
      let nativeHash = prev;
      for (let cut = 0; cut + 1 < cuts.length; cut += 1) nativeHash = fillChain(native.buf, native.layout, cuts[cut] ?? 0, cuts[cut + 1] ?? 0, 100, nativeHash, signer);
      assert.equal(nativeHash, jsHash, `round ${round}: last hash`);
      assert.ok(native.buf.equals(js.buf), `round ${round}: ${count} records, checkpoints kind ${kind}, cuts ${cuts.join(',')}: same bytes`);
      assertChained(native.buf, native.layout, count, prev);
    }
  });

  it('fills a batch in its own (shared) memory as encoded, at an offset into a larger buffer', needsModule, () => {
    const rand = random(8);
    const batch = randomBatch(rand, 50, (index) => index === 20);
    const js = copyOf(batch, true);
    const jsHash = fillChain(js.buf, js.layout, 0, 50, 1, GENESIS_HASH, signer, false);
    assert.equal(fillChain(batch.buffer, batch.layout, 0, 50, 1, GENESIS_HASH, signer), jsHash);
    assert.ok(batch.bytes().equals(js.buf));
    const outer = Buffer.alloc(batch.used + 100, 0xee);
    const fresh = randomBatch(random(8), 50, (index) => index === 20);
    fresh.buffer.copy(outer, 37, 0, fresh.used);
    const inner = outer.subarray(37, 37 + fresh.used);
    assert.equal(fillChain(inner, fresh.layout, 0, 50, 1, GENESIS_HASH, signer), jsHash);
    assert.ok(inner.equals(js.buf));
    assert.ok(outer.subarray(0, 37).every((byte) => byte === 0xee) && outer.subarray(37 + fresh.used).every((byte) => byte === 0xee), 'nothing written around it');
  });

  it('still refuses a checkpoint without a signer, having filled the records before it', needsModule, () => {
    const batch = randomBatch(random(9), 5, (index) => index === 3);
    assert.throws(() => fillChain(batch.buffer, batch.layout, 0, 5, 1, GENESIS_HASH, undefined), /a checkpoint record has no signer/);
    assertChained(batch.buffer, batch.layout, 3, GENESIS_HASH);
  });
});

describe('the native filler refuses a layout that points outside the batch', () => {
  /** A batch of 3 records inside 64 guard bytes either side; returns the guarded bytes and the batch's view. */
  function guarded(): { outer: Buffer; buf: Buffer; layout: Int32Array } {
    const batch = randomBatch(random(10), 3, () => false);
    const outer = Buffer.from(new SharedArrayBuffer(batch.used + 128)).fill(0xee);
    batch.buffer.copy(outer, 64, 0, batch.used);
    return { outer, buf: outer.subarray(64, 64 + batch.used), layout: copyOf(batch, true).layout };
  }
  const untouched = (outer: Buffer): boolean => outer.subarray(0, 64).every((byte) => byte === 0xee) && outer.subarray(outer.length - 64).every((byte) => byte === 0xee);

  const cases: [string, (layout: Int32Array, used: number) => void][] = [
    ['a hash field past the end', (layout, used) => (layout[2 * LAYOUT_STRIDE + AT_BODY_END] = used - 70)],
    ['a body end past the end', (layout, used) => (layout[2 * LAYOUT_STRIDE + AT_BODY_END] = used + 1000)],
    ['a negative line start', (layout) => (layout[2 * LAYOUT_STRIDE + AT_START] = -64)],
    ['a body that ends before it starts', (layout) => (layout[2 * LAYOUT_STRIDE + AT_BODY_END] = (layout[2 * LAYOUT_STRIDE + AT_START] ?? 0) - 1)],
    ['a prev field before the line', (layout) => (layout[2 * LAYOUT_STRIDE + AT_PREV] = -10)],
    ['a prev field past the body', (layout) => (layout[2 * LAYOUT_STRIDE + AT_PREV] = (layout[2 * LAYOUT_STRIDE + AT_BODY_END] ?? 0) - 63)],
    ['a prev field far past the end', (layout) => (layout[2 * LAYOUT_STRIDE + AT_PREV] = 0x7fffffff)],
  ];
  for (const [what, corrupt] of cases) {
    it(`refuses ${what}, after filling the records before it, writing nothing outside the batch`, needsModule, () => {
      const { outer, buf, layout } = guarded();
      corrupt(layout, buf.length);
      assert.throws(() => fillChain(buf, layout, 0, 3, 1, GENESIS_HASH, signer), (error: Error & { code?: string }) => error.code === 'FO_AUDIT_CHAIN_LAYOUT' && /record 2/.test(error.message));
      assert.ok(untouched(outer), 'the guard bytes are as they were');
      assertChained(buf, layout, 2, GENESIS_HASH);
    });
  }

  it('refuses a range beyond the layout and a prev that is not 64 lowercase hex characters', needsModule, () => {
    const { outer, buf, layout } = guarded();
    assert.throws(() => fillChain(buf, layout, 0, 4, 1, GENESIS_HASH, signer), RangeError);
    assert.throws(() => fillChain(buf, layout, 0, 3, 1, GENESIS_HASH.toUpperCase().replace(/0/g, 'A'), signer), TypeError);
    assert.throws(() => fillChain(buf, layout, 0, 3, 1, `${GENESIS_HASH}0`, signer), TypeError);
    assert.throws(() => fillChain(buf, layout, 0, 3, 1, GENESIS_HASH.slice(1), signer), TypeError);
    assert.ok(untouched(outer));
    // Nothing was filled: every prev field still holds the zeros the encoder left.
    for (let index = 0; index < 3; index += 1) {
      const prevAt = layout[index * LAYOUT_STRIDE + AT_PREV] ?? 0;
      assert.ok(buf.subarray(prevAt, prevAt + 64).every((byte) => byte === 0), `record ${index} untouched`);
    }
    assert.equal(layout[AT_SIG], -1);
  });
});

describe('AuditLog: logs chained natively and in JS', () => {
  it('writes the same files either way, and both verify', needsModule, async () => {
    const dir = await tempDir();
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const child = fileURLToPath(new URL('./test-support/chain-log-child.js', import.meta.url));
    const files = async (how: 'native' | 'js'): Promise<string[]> => {
      const path = join(dir, how, 'audit.log');
      const run = spawnSync(process.execPath, [child, path, keyFile, '20000', how], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const [filler, offThread] = run.stdout.trim().split(' ');
      assert.equal(filler, how);
      assert.ok(Number(offThread) > 0, `${how}: the chain worker filled batches too`);
      const verified = await verifyAuditLog({ path, keys: [await loadCheckpointVerifyKey(keyFile)] });
      assert.equal(verified.ok, true, verified.problem?.message);
      assert.equal(verified.signatures, 'verified');
      const segments = await listSegments(path);
      assert.ok(segments.length > 2, 'the log rotated');
      return [...segments.map((segment) => readFileSync(segment.path, 'latin1')), readFileSync(statePathFor(path), 'utf8')];
    };
    assert.deepEqual(await files('native'), await files('js'));
  });
});
