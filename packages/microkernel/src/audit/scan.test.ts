import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanLines, type ScanOptions, type ScanResult } from './scan.js';
import { tempDir } from './test-support/logs.js';

async function scan(content: string, options: ScanOptions & { from?: number; stopAt?: string } = {}): Promise<{ lines: [string, number][]; result: ScanResult }> {
  const file = join(await tempDir('forge-audit-scan-'), 'f');
  await writeFile(file, content, 'latin1');
  const handle = await open(file, 'r');
  const lines: [string, number][] = [];
  try {
    const result = await scanLines(
      handle,
      options.from ?? 0,
      (buf, start, end, offset) => {
        const text = buf.toString('latin1', start, end);
        if (text === options.stopAt) return false;
        lines.push([text, offset]);
        return true;
      },
      options,
    );
    return { lines, result };
  } finally {
    await handle.close();
  }
}

/** Lines of varied lengths, an empty one among them, and each one's offset. */
const CONTENT = 'alpha\nbeta\n\ngamma-delta-epsilon\nz\n';
const LINES: [string, number][] = [
  ['alpha', 0],
  ['beta', 6],
  ['', 11],
  ['gamma-delta-epsilon', 12],
  ['z', 32],
];

describe('scanLines', () => {
  it('visits every line with its file offset, whatever the chunk size', async () => {
    const content = CONTENT;
    const expected = LINES;
    for (const chunkSize of [1, 2, 3, 5, 7, 64, 4096]) {
      const { lines, result } = await scan(content, { chunkSize });
      assert.deepEqual(lines, expected, `chunk ${chunkSize}`);
      assert.deepEqual(result, { end: content.length, stop: undefined }, `chunk ${chunkSize}`);
    }
  });

  it('does not visit an incomplete last line and says where it starts', async () => {
    for (const chunkSize of [1, 4, 4096]) {
      const { lines, result } = await scan('one\ntwo\nthr', { chunkSize });
      assert.deepEqual(lines.map(([text]) => text), ['one', 'two']);
      assert.deepEqual(result, { end: 8, stop: 'incomplete' });
    }
  });

  it('stops at a line longer than maxLine, with or without its newline', async () => {
    for (const chunkSize of [2, 3, 4096]) {
      assert.deepEqual((await scan('ok\nthis-is-long\nok\n', { chunkSize, maxLine: 8 })).result, { end: 3, stop: 'overlong' }, `chunk ${chunkSize}`);
      assert.deepEqual((await scan('ok\nthis-is-long-and-never-ends', { chunkSize, maxLine: 8 })).result, { end: 3, stop: 'overlong' }, `chunk ${chunkSize}`);
    }
  });

  it('stops where the visitor refuses, and starts at a given offset', async () => {
    const { lines, result } = await scan('a\nb\nc\nd\n', { chunkSize: 3, from: 2, stopAt: 'c' });
    assert.deepEqual(lines, [['b', 2]]);
    assert.deepEqual(result, { end: 4, stop: 'visitor' });
  });

  it('offers the lines to a run visitor before each line, which takes whole lines; the visitor sees the rest, at the same offsets', async () => {
    const content = `${CONTENT}omega\ntail`;
    const all: [string, number][] = [...LINES, ['omega', 34]];
    for (const chunkSize of [1, 3, 7, 4096]) {
      const taken: [string, number][] = [];
      let offers = 0;
      // Takes up to `offers % 3` complete lines of the offered bytes, as a native check would.
      const run = (buf: Buffer, start: number, end: number, offset: number): number => {
        let at = start;
        for (let count = offers++ % 3; count > 0; count -= 1) {
          const newline = buf.indexOf(10, at);
          if (newline === -1 || newline >= end) break;
          taken.push([buf.toString('latin1', at, newline), offset + (at - start)]);
          at = newline + 1;
        }
        return at;
      };
      const { lines, result } = await scan(content, { chunkSize, run });
      assert.ok(taken.length > 0 && lines.length > 0, `chunk ${chunkSize}: both took lines`);
      assert.deepEqual([...taken, ...lines].sort((a, b) => a[1] - b[1]), all, `chunk ${chunkSize}`);
      assert.deepEqual(result, { end: 40, stop: 'incomplete' }, `chunk ${chunkSize}`);
    }
  });

  it('handles an empty file', async () => {
    assert.deepEqual((await scan('')).result, { end: 0, stop: undefined });
  });
});
