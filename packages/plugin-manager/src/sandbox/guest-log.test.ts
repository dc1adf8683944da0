import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError, createLogger, silentLogger, type LogRecord } from '@forgeone/common';
import { GuestLog, LineOutput, MAX_LINE_BYTES } from './guest-log.js';

const encoder = new TextEncoder();

function recorder(): { records: LogRecord[]; log: (clock: () => number) => GuestLog } {
  const records: LogRecord[] = [];
  const logger = createLogger((record) => records.push(record), 'trace');
  return { records, log: (clock) => new GuestLog(logger, { perSecond: 1, burst: 2 }, clock) };
}

describe('guest output lines', () => {
  it('never holds more than one line limit of a line written without a newline, and passes it on cut once', () => {
    const lines: [string, boolean][] = [];
    const output = new LineOutput((text, truncated) => lines.push([text, truncated]));
    const chunk = new Uint8Array(1 << 20).fill(0x62);
    let most = 0;
    for (let i = 0; i < 100; i += 1) {
      output.write(chunk);
      most = Math.max(most, output.pendingBytes);
    }
    assert.ok(most <= MAX_LINE_BYTES, `held ${most} bytes`);
    output.write(encoder.encode('tail\nnext line\npartial'));
    output.flush();
    assert.deepEqual(
      lines.map(([text, truncated]) => [text.length, truncated]),
      [
        [MAX_LINE_BYTES, true],
        ['next line'.length, false],
        ['partial'.length, false],
      ],
      'the rest of the cut line, up to its newline, is dropped',
    );
  });

  it('splits lines across writes and keeps a line of exactly the limit whole', () => {
    const lines: [string, boolean][] = [];
    const output = new LineOutput((text, truncated) => lines.push([text, truncated]));
    output.write(encoder.encode('he'));
    output.write(encoder.encode('llo\n\nworld'));
    output.write(encoder.encode(`\n${'c'.repeat(MAX_LINE_BYTES)}\n`));
    assert.deepEqual(lines, [
      ['hello', false],
      ['', false],
      ['world', false],
      ['c'.repeat(MAX_LINE_BYTES), false],
    ]);
  });
});

describe('the log budget shared by forge.log and stdio', () => {
  it('drops lines past the rate, then counts them in one summary when logging resumes', () => {
    let now = 0;
    const { records, log } = recorder();
    const guest = log(() => now);
    const stdout = guest.output('stdout');
    stdout.write(encoder.encode('1\n2\n3\n4\n5\n'));
    assert.deepEqual(records.map((record) => record.message), ['1', '2']);
    now += 1000;
    stdout.write(encoder.encode('6\n'));
    assert.deepEqual(
      records.slice(2).map((record) => [record.message, record.fields['suppressed']]),
      [
        ["the plugin's log rate limit dropped 3 lines it wrote to stdout and stderr", 3],
        ['6', undefined],
      ],
    );
  });

  it('refuses forge.log once stdout emptied the bucket, and reports dropped lines when closed', () => {
    const { records, log } = recorder();
    const guest = log(() => 0);
    guest.output('stderr').write(encoder.encode('a\nb\nc\n'));
    const forgeLog = guest.forgeLog();
    assert.throws(
      () => forgeLog.handler(new Uint8Array([2, ...encoder.encode('hi')]), { call: 'forge.log', logger: silentLogger, decide: () => undefined }),
      (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_RATE_LIMITED'),
    );
    guest.close();
    assert.deepEqual(
      records.map((record) => [record.level, record.fields['source'], record.fields['suppressed']]),
      [
        ['warn', 'stderr', undefined],
        ['warn', 'stderr', undefined],
        ['warn', 'stdio', 1],
      ],
    );
  });
});
