import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { TAR_END, entry, file } from '../test-support/hostile.js';
import { DEFAULT_ARCHIVE_LIMITS } from './limits.js';
import { TarParser, type TarEvent } from './tar-parser.js';

/** Runs a parser over `tar` in pieces and flattens the events to comparable strings. */
function parse(tar: Uint8Array, size: number): string[] {
  const parser = new TarParser(DEFAULT_ARCHIVE_LIMITS);
  const seen: string[] = [];
  const data = new Map<string, Buffer[]>();
  let current = '';
  const record = (event: TarEvent): void => {
    if (event.kind === 'begin') {
      current = event.header.path;
      seen.push(`begin ${current} ${event.header.size} @${event.header.offset}`);
      data.set(current, []);
    } else if (event.kind === 'data') data.get(current)?.push(Buffer.from(event.chunk));
    else seen.push(`end ${current} ${Buffer.concat(data.get(current) ?? []).toString('hex').slice(0, 16)}`);
  };
  for (let offset = 0; offset < tar.length; offset += size) for (const event of parser.push(tar.subarray(offset, offset + size))) record(event);
  parser.finish();
  return seen;
}

const TAR = Buffer.concat([file('a', 'alpha'), entry({ name: 'empty' }), file('assets/b', Buffer.alloc(1500, 0xbb)), TAR_END, Buffer.alloc(9 * 1024)]);

describe('TarParser', () => {
  const whole = parse(TAR, TAR.length);

  it('reports each entry with its header offset, size and data', () => {
    assert.deepEqual(whole, [
      'begin a 5 @0',
      'end a 616c706861',
      'begin empty 0 @1024',
      'end empty ',
      'begin assets/b 1500 @1536',
      'end assets/b bbbbbbbbbbbbbbbb',
    ]);
  });

  for (const size of [1, 3, 511, 512, 513, 1000]) {
    it(`yields the same events when fed ${size}-byte pieces`, () => {
      assert.deepEqual(parse(TAR, size), whole);
    });
  }

  it('accepts zero record padding after the end marker, as GNU tar writes', () => {
    assert.doesNotThrow(() => parse(Buffer.concat([file('a'), TAR_END, Buffer.alloc(10240)]), 4096));
  });

  it('accepts an archive with no entries', () => {
    assert.deepEqual(parse(TAR_END, 1024), []);
  });

  it('checks a header only when the consumer asks for it, so earlier entries are handled first', () => {
    const parser = new TarParser({ ...DEFAULT_ARCHIVE_LIMITS, maxEntries: 1 });
    const events = parser.push(Buffer.concat([file('a'), file('b')]));
    assert.equal(events.next().value?.kind, 'begin');
    assert.equal(events.next().value?.kind, 'data');
    assert.equal(events.next().value?.kind, 'end');
    assert.throws(() => events.next(), (error) => ForgeError.is(error, 'FO_PACKAGE_TOO_MANY_ENTRIES'));
  });

  it('names the entry and the missing byte count when data is cut short', () => {
    const parser = new TarParser(DEFAULT_ARCHIVE_LIMITS);
    for (const event of parser.push(Buffer.concat([entry({ name: 'cut', size: 100 }).subarray(0, 512), Buffer.alloc(40)]))) assert.ok(event);
    assert.throws(
      () => parser.finish(),
      (error) => ForgeError.is(error, 'FO_PACKAGE_TRUNCATED') && error.details['entry'] === 'cut' && error.details['missing'] === 60,
    );
  });
});
