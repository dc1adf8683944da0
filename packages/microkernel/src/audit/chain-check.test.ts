/**
 * The native chain check (native/chain-check.c through ChainChecker.checkRun) against
 * the JS check (ChainChecker.check) on hostile lines: every case is checked both ways,
 * with scan chunks that cut lines anywhere, and must stop at the same line with the same
 * fault; verifyAuditLog must name the same first bad record natively as in JS.
 */
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChainChecker, GENESIS_ANCHOR, type ChainAnchor, type ChainFault } from './chain.js';
import { HASH_OPEN, LINE_CLOSE, TAIL_LENGTH, bodyHead, sha256Hex, type RecordType } from './format.js';
import { nativeChainModule, setNativeChain } from './native.js';
import { MAX_LINE, scanLines } from './scan.js';
import { needsNative } from './test-support/chain-modes.js';
import { below, hashOf, random, rehash, tempDir } from './test-support/logs.js';
import { verifyAuditLog } from './verify.js';

const TS = '2025-01-02T03:04:05.678Z';
// `{"seq":1` + ts + prev + type + `x"` + tail, as chain.ts counts it.
const MIN_LINE = 200;

/** A good record line (latin1) after a record whose hash is `prev`, with `size` bytes of data. */
function record(seq: number, prev: string, size: number, type: RecordType = 'event'): string {
  const body = `${bodyHead(seq, TS, prev, type)},"data":"${'x'.repeat(size)}"`;
  return `${body}${HASH_OPEN}${sha256Hex(Buffer.from(body, 'latin1'))}${LINE_CLOSE}`;
}

/** `count` chained lines from seq 1, data sizes from `size`. */
function chain(count: number, size: (index: number) => number, type: (index: number) => RecordType = () => 'event'): string[] {
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) lines.push(record(index + 1, index === 0 ? GENESIS_ANCHOR.hash : hashOf(lines[index - 1] ?? ''), size(index), type(index)));
  return lines;
}

const scratch = tempDir('forge-chain-check-');

const bytesOf = (lines: readonly string[], lastNewline = true): Buffer => Buffer.from(lines.join('\n') + (lastNewline ? '\n' : ''), 'latin1');

interface Outcome {
  readonly position: number;
  readonly seq: number;
  readonly hash: string;
  readonly fault: ChainFault | undefined;
  /** Offset of the line checking stopped at (the end when none). */
  readonly stop: number;
  /** Lines the native check accepted. */
  readonly ran: number;
}

/** The JS check alone, line by line. */
function inJs(bytes: Buffer, anchor: ChainAnchor = GENESIS_ANCHOR, maxLine = MAX_LINE): Outcome {
  const checker = new ChainChecker(anchor);
  let at = 0;
  for (let newline = bytes.indexOf(10, at); newline !== -1 && newline + 1 - at <= maxLine; newline = bytes.indexOf(10, at)) {
    if (checker.check(bytes, at, newline) === 0) break;
    at = newline + 1;
  }
  return { position: checker.position, seq: checker.seq, hash: checker.hash, fault: checker.fault, stop: at, ran: 0 };
}

/** As verification checks: a scan in `chunkSize` chunks, runs to the native check and the lines it leaves to the JS check. */
async function withRuns(bytes: Buffer, chunkSize: number, anchor: ChainAnchor = GENESIS_ANCHOR, maxLine = MAX_LINE): Promise<Outcome> {
  const file = join(await scratch, 'lines');
  await writeFile(file, bytes);
  const handle = await open(file, 'r');
  const checker = new ChainChecker(anchor);
  let ran = 0;
  try {
    const run = (buf: Buffer, start: number, end: number): number => {
      const before = checker.position;
      const stop = checker.checkRun(buf, start, end, end, maxLine, 0);
      ran += checker.position - before;
      return stop;
    };
    const scan = await scanLines(handle, 0, (buf, start, end) => checker.check(buf, start, end) !== 0, { chunkSize, maxLine, run });
    return { position: checker.position, seq: checker.seq, hash: checker.hash, fault: checker.fault, stop: scan.end, ran };
  } finally {
    await handle.close();
  }
}

/** Both ways agree: the same line stops them, with the same fault (a break's explanation only where the native side can give it exactly). */
function assertSame(native: Outcome, js: Outcome, context: string): void {
  assert.deepEqual([native.position, native.seq, native.hash, native.stop], [js.position, js.seq, js.hash, js.stop], context);
  assert.equal(native.fault?.code, js.fault?.code, context);
  if (native.fault?.code === 'FO_AUDIT_RECORD_CORRUPT') assert.equal(native.fault.exact, true, context);
  if (native.fault?.exact !== false) assert.deepEqual([native.fault?.message, native.fault?.firstBad], [js.fault?.message, js.fault?.firstBad], context);
}

const prevOf = (line: string): string => line.slice(line.indexOf('"prev":"') + 8, line.indexOf('"prev":"') + 72);
const withPrev = (line: string, prev: string): string => rehash(line.replace(prevOf(line), prev));
const setHash = (line: string, hash: string): string => line.slice(0, line.length - TAIL_LENGTH) + HASH_OPEN + hash + LINE_CLOSE;

/** Hostile changes to line k of a good chain; the expected JS verdict is whatever the JS check says. */
const HOSTILE: Record<string, (lines: string[], k: number) => void> = {
  'a hash field with a non-hex letter': (lines, k) => (lines[k] = setHash(lines[k] ?? '', `${hashOf(lines[k] ?? '').slice(0, 63)}g`)),
  'a hash field with a NUL byte': (lines, k) => (lines[k] = setHash(lines[k] ?? '', `\0${hashOf(lines[k] ?? '').slice(1)}`)),
  'a hash field with a byte above 0x7f': (lines, k) => (lines[k] = setHash(lines[k] ?? '', `${hashOf(lines[k] ?? '').slice(0, 30)}\u00ff${hashOf(lines[k] ?? '').slice(31)}`)),
  'an upper-case hex hash field': (lines, k) => (lines[k] = setHash(lines[k] ?? '', `${hashOf(lines[k] ?? '').toUpperCase().slice(0, 63)}A`)),
  'one upper-case hex digit in the hash field': (lines, k) => (lines[k] = setHash(lines[k] ?? '', `${hashOf(lines[k] ?? '').slice(0, 63)}${(hashOf(lines[k] ?? '').at(-1) ?? '') < 'a' ? 'F' : (hashOf(lines[k] ?? '').at(-1) ?? '').toUpperCase()}`)),
  'an upper-case prev, rehashed': (lines, k) => (lines[k] = withPrev(lines[k] ?? '', `${prevOf(lines[k] ?? '').toUpperCase().slice(0, 63)}A`)),
  'a prev matching only in its first 63 bytes, rehashed': (lines, k) => (lines[k] = withPrev(lines[k] ?? '', `${prevOf(lines[k] ?? '').slice(0, 63)}${prevOf(lines[k] ?? '').endsWith('0') ? '1' : '0'}`)),
  'a prev matching only in its first 8 bytes, rehashed': (lines, k) => (lines[k] = withPrev(lines[k] ?? '', `${prevOf(lines[k] ?? '').slice(0, 8)}${'e'.repeat(56)}`)),
  'a line shorter than the fixed part': (lines, k) => (lines[k] = (lines[k] ?? '').slice(0, 150)),
  'a line one byte shorter than any record': (lines, k) => (lines[k] = (lines[k] ?? '').slice(0, MIN_LINE - 1)),
  'a line of exactly the shortest length, not a record': (lines, k) => (lines[k] = (lines[k] ?? '').slice(0, MIN_LINE)),
  'an empty line': (lines, k) => (lines[k] = ''),
  'a seq with a leading zero, rehashed': (lines, k) => (lines[k] = rehash((lines[k] ?? '').replace('{"seq":', '{"seq":0'))),
  'a 16-digit seq, rehashed': (lines, k) => (lines[k] = rehash((lines[k] ?? '').replace(/^\{"seq":\d+/, '{"seq":1000000000000000'))),
  'the seq of the line before, rehashed': (lines, k) => (lines[k] = rehash((lines[k] ?? '').replace(/^\{"seq":\d+/, `{"seq":${k}`))),
  'an unknown type word, rehashed': (lines, k) => (lines[k] = rehash((lines[k] ?? '').replace('"type":"event"', '"type":"evenT"'))),
  'a closing bracket instead of a brace': (lines, k) => (lines[k] = `${(lines[k] ?? '').slice(0, -1)}]`),
  'an altered hash field name': (lines, k) => (lines[k] = (lines[k] ?? '').replace(',"hash":"', ',"hasH":"')),
  'a carriage return before the newline': (lines, k) => (lines[k] = `${lines[k] ?? ''}\r`),
  'a newline inside the line': (lines, k) => (lines[k] = `${(lines[k] ?? '').slice(0, 120)}\n${(lines[k] ?? '').slice(120)}`),
  'a changed data byte': (lines, k) => (lines[k] = (lines[k] ?? '').replace('"data":"x', '"data":"y')),
  'a changed data byte, rehashed (the next line no longer continues it)': (lines, k) => (lines[k] = rehash((lines[k] ?? '').replace('"data":"x', '"data":"y'))),
  'a deleted line': (lines, k) => void lines.splice(k, 1),
  'two lines swapped': (lines, k) => void lines.splice(k, 2, lines[k + 1] ?? '', lines[k] ?? ''),
  'a line repeated': (lines, k) => void lines.splice(k, 0, lines[k - 1] ?? ''),
};

describe('the native chain check agrees with the JS check', needsNative, () => {
  const good = chain(40, (index) => [0, 1, 7, 63, 64, 65, 300, 1021][index % 8] ?? 0);

  for (const [what, mutate] of Object.entries(HOSTILE)) {
    it(`stops at the same line with the same fault: ${what}, with chunk boundaries anywhere`, async () => {
      for (const k of [1, 17, 38]) {
        const lines = [...good];
        mutate(lines, k);
        const bytes = bytesOf(lines);
        const js = inJs(bytes);
        assert.ok(js.fault !== undefined && js.position >= k - 1, `${what} at ${k}: the JS check refuses it`);
        for (const chunkSize of [bytes.length, 4096, 333, 97]) {
          const native = await withRuns(bytes, chunkSize);
          assertSame(native, js, `${what} at line ${k}, chunks of ${chunkSize}`);
          assert.ok(native.ran >= Math.min(k, js.position) - 1 && native.ran > 0, `${what}: the native check accepted the lines before (${native.ran})`);
        }
      }
    });
  }

  it('agrees on 300 random single-byte changes (newlines, case bits, any byte) of records of random lengths', async () => {
    const rand = random(41);
    const lines = chain(30, () => below(rand, 900));
    const clean = bytesOf(lines);
    for (let round = 0; round < 300; round += 1) {
      const bytes = Buffer.from(clean);
      const at = below(rand, bytes.length);
      const choice = [10, (bytes[at] ?? 0) ^ 0x20, (bytes[at] ?? 0) ^ 1, below(rand, 256)][round % 4] ?? 0;
      bytes[at] = choice === bytes[at] ? (choice + 1) % 256 : choice;
      assertSame(await withRuns(bytes, 50 + below(rand, 5000)), inJs(bytes), `round ${round}: byte ${at} to ${bytes[at] ?? 0}`);
    }
  });

  it('leaves checkpoint and recovery records, the last line without a newline and an overlong line to the JS check', async () => {
    const lines = chain(12, (index) => (index === 9 ? 700 : 20), (index) => (index === 3 ? 'checkpoint' : index === 6 ? 'recovery' : 'event'));
    const complete = await withRuns(bytesOf(lines), 1 << 20);
    assertSame(complete, inJs(bytesOf(lines)), 'all good');
    assert.equal(complete.position, 12);
    assert.equal(complete.ran, 10, 'the checkpoint and the recovery record were checked in JS');
    assertSame(await withRuns(bytesOf(lines, false), 1 << 20), inJs(bytesOf(lines, false)), 'torn last line');
    assertSame(await withRuns(bytesOf(lines), 1 << 20, GENESIS_ANCHOR, 600), inJs(bytesOf(lines), GENESIS_ANCHOR, 600), 'a line over maxLine');
  });

  it('continues an anchor that is not a hash in JS first (a partial log), then natively', async () => {
    const anchor = { seq: 0, hash: 'not a hash: any 64 bytes the first line of a partial log names'.padEnd(64, '~') };
    const lines = [record(1, anchor.hash, 10)];
    for (let index = 1; index < 5; index += 1) lines.push(record(index + 1, hashOf(lines[index - 1] ?? ''), 10));
    const native = await withRuns(bytesOf(lines), 1 << 20, anchor);
    assertSame(native, inJs(bytesOf(lines), anchor), 'partial');
    assert.deepEqual([native.position, native.ran], [5, 4]);
  });
});

describe('ChainChecker.checkRun', needsNative, () => {
  const lines = chain(8, () => 40);
  const bytes = bytesOf(lines);
  const starts = lines.map((_, index) => lineStart(lines, index));

  it('takes no line that starts at the limit or later, nor one whose newline lies past the end, nor the stop seq', () => {
    const limited = new ChainChecker();
    assert.equal(limited.checkRun(bytes, 0, bytes.length, (starts[3] ?? 0) + 1, MAX_LINE, 0), starts[4]);
    assert.equal(limited.position, 4);
    const ended = new ChainChecker();
    // The newline of line 5 is in the buffer, one byte past `end`.
    assert.equal(ended.checkRun(bytes, 0, (starts[6] ?? 0) - 1, bytes.length, MAX_LINE, 0), starts[5]);
    const stopped = new ChainChecker();
    assert.equal(stopped.checkRun(bytes, 0, bytes.length, bytes.length, MAX_LINE, 3), starts[2]);
    assert.deepEqual([stopped.position, stopped.seq, stopped.hash], [2, 2, hashOf(lines[1] ?? '')]);
    setNativeChain(false);
    try {
      assert.equal(new ChainChecker().checkRun(bytes, 0, bytes.length, bytes.length, MAX_LINE, 0), 0, 'switched off: nothing taken');
    } finally {
      setNativeChain(true);
    }
  });

  it('marks a break found within 4096 lines after a run as not exact, and one after more as exact', () => {
    const long = chain(4200, () => 0);
    const deleted = [...long.slice(0, 4110), ...long.slice(4111)];
    const buf = bytesOf(deleted);
    // The run takes lines 0 to 4109 - jsLines; the JS check the jsLines up to the break at 4110.
    for (const [jsLines, exact] of [[4095, false], [4096, true]] as const) {
      const checker = new ChainChecker();
      let at = checker.checkRun(buf, 0, buf.length, lineStart(deleted, 4109 - jsLines) + 1, MAX_LINE, 0);
      assert.equal(checker.position, 4110 - jsLines);
      for (let newline = buf.indexOf(10, at); checker.check(buf, at, newline) !== 0; newline = buf.indexOf(10, at)) at = newline + 1;
      assert.deepEqual([checker.fault?.code, checker.fault?.firstBad, checker.fault?.exact], ['FO_AUDIT_CHAIN_BROKEN', 4110, exact], `${jsLines} lines in JS`);
    }
  });

  it('refuses arguments that are not as described, reading nothing', () => {
    const check = nativeChainModule()?.check;
    assert.ok(check !== undefined);
    const io = new Float64Array([0, 0, 0]);
    const hash = Buffer.from(GENESIS_ANCHOR.hash, 'latin1');
    assert.throws(() => check(bytes, 0, bytes.length + 1, bytes.length, MAX_LINE, io, hash), RangeError);
    assert.throws(() => check(bytes, 10, 9, bytes.length, MAX_LINE, io, hash), RangeError);
    assert.throws(() => check(bytes, -1, bytes.length, bytes.length, MAX_LINE, io, hash), TypeError);
    assert.throws(() => check(bytes, 0.5, bytes.length, bytes.length, MAX_LINE, io, hash), TypeError);
    assert.throws(() => check(bytes, 0, bytes.length, bytes.length, MAX_LINE, new Float64Array(2), hash), TypeError);
    assert.throws(() => check(bytes, 0, bytes.length, bytes.length, MAX_LINE, new Float64Array([-1, 0, 0]), hash), TypeError);
    assert.throws(() => check(bytes, 0, bytes.length, bytes.length, MAX_LINE, io, Buffer.from(GENESIS_ANCHOR.hash.replace(/0$/, 'A'))), TypeError);
    assert.throws(() => check(bytes, 0, bytes.length, bytes.length, MAX_LINE, io, hash.subarray(1)), TypeError);
    assert.throws(() => check(new Uint16Array(4) as unknown as Uint8Array, 0, 0, 0, MAX_LINE, io, hash), TypeError);
    assert.deepEqual([...io], [0, 0, 0]);
  });
});

/** Offset of line `index`. */
function lineStart(lines: readonly string[], index: number): number {
  let offset = 0;
  for (let at = 0; at < index; at += 1) offset += (lines[at]?.length ?? 0) + 1;
  return offset;
}

describe('verifyAuditLog names the same first bad record natively as in JS', needsNative, () => {
  it('for every hostile change, in a log of records of odd lengths', async () => {
    const good = chain(60, (index) => (index * 37) % 500);
    const dir = await tempDir('forge-chain-check-');
    const path = join(dir, 'audit.log');
    for (const [what, mutate] of Object.entries(HOSTILE)) {
      const lines = [...good];
      mutate(lines, 31);
      await writeFile(path, bytesOf(lines));
      const native = await verifyAuditLog({ path, statePath: null, threads: 1 });
      setNativeChain(false);
      const js = await verifyAuditLog({ path, statePath: null, threads: 1 }).finally(() => setNativeChain(true));
      assert.equal(js.ok, false, what);
      assert.deepEqual(native, js, what);
    }
  });
});
