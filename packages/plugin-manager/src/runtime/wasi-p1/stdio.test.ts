import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesInput, lineOutput } from './stdio.js';

describe('WASI standard streams', () => {
  it('lineOutput passes on whole lines across writes and the unterminated rest on flush', () => {
    const lines: string[] = [];
    const output = lineOutput((line) => lines.push(line));
    output.write(Buffer.from('first li'));
    output.write(Buffer.from('ne\nsecond\n\nthi'));
    assert.deepEqual(lines, ['first line', 'second', '']);
    output.write(Buffer.from('rd'));
    output.flush();
    assert.deepEqual(lines, ['first line', 'second', '', 'third']);
  });

  it('lineOutput cuts a line without a newline into pieces of at most maxLineBytes', () => {
    const lines: string[] = [];
    const output = lineOutput((line) => lines.push(line), 4);
    output.write(Buffer.from('abcdefghij'));
    assert.deepEqual(lines, ['abcd', 'efgh']);
    output.write(Buffer.from('\n'));
    assert.deepEqual(lines, ['abcd', 'efgh', 'ij']);
    output.write(Buffer.from('wxyz'));
    output.write(Buffer.from('\n'));
    assert.deepEqual(lines, ['abcd', 'efgh', 'ij', 'wxyz'], 'a full piece then its newline is one line, not two');
  });

  it('bytesInput reads its bytes in order, then 0 at the end, and says how many are left', () => {
    const input = bytesInput('hello');
    const into = new Uint8Array(8);
    assert.equal(input.available?.(), 5);
    assert.equal(input.read(into, 2, 3), 3);
    assert.equal(Buffer.from(into.subarray(2, 5)).toString(), 'hel');
    assert.equal(input.read(into, 0, 8), 2);
    assert.equal(input.read(into, 0, 8), 0);
    assert.equal(input.available?.(), 0);
  });
});
