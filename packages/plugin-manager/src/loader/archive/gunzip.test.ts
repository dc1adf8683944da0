import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import { validPackage, withHeaderFields } from '../test-support/hostile.js';
import { gunzip, type GunzipOptions } from './gunzip.js';

const OPEN: Omit<GunzipOptions, 'declaredSize'> = { maxPackageSize: 1 << 30, maxCompressionRatio: 1000 };

async function inflateAll(chunks: Iterable<Uint8Array>, options: GunzipOptions): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const chunk of gunzip(chunks, options)) out.push(chunk);
  return Buffer.concat(out);
}

function* pieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) yield bytes.subarray(offset, offset + size);
}


describe("Node's own Gunzip (why the reader frames gzip itself)", () => {
  const member = gzipSync(Buffer.from('one'));

  it('joins a second gzip member into the output without complaint', () => {
    assert.equal(gunzipSync(Buffer.concat([member, gzipSync(Buffer.from('two'))])).toString(), 'onetwo');
  });

  it('skips zero bytes after the member without complaint', () => {
    assert.equal(gunzipSync(Buffer.concat([member, Buffer.alloc(64)])).toString(), 'one');
  });

  it('fails on other trailing bytes only because it takes them for a second header', () => {
    assert.throws(() => gunzipSync(Buffer.concat([member, Buffer.from('garbage')])), { code: 'Z_DATA_ERROR', message: 'incorrect header check' });
  });
});

describe('gunzip', () => {
  const archive = validPackage();
  const expected = gunzipSync(archive);

  for (const size of [1, 2, 7, 9, 10, 11, 4096, archive.length]) {
    it(`decompresses the same bytes when the input arrives in ${size}-byte pieces`, async () => {
      assert.deepEqual(await inflateAll(pieces(archive, size), { ...OPEN, declaredSize: archive.length }), expected);
    });
  }

  it('skips the optional FEXTRA, FNAME and FCOMMENT fields and checks FHCRC, even a byte at a time', async () => {
    const framed = withHeaderFields(archive);
    assert.deepEqual(await inflateAll(pieces(framed, 1), { ...OPEN, declaredSize: framed.length }), expected);
    const bad = withHeaderFields(archive, { headerCrcDelta: 1 });
    await assert.rejects(inflateAll(pieces(bad, 1), { ...OPEN, declaredSize: bad.length }), hasCode('FO_PACKAGE_CORRUPT'));
  });

  it('finds trailing bytes that arrive in a later piece than the trailer', async () => {
    const chunks = [archive, Buffer.from([0])];
    await assert.rejects(inflateAll(chunks, { ...OPEN, declaredSize: archive.length + 1 }), hasCode('FO_PACKAGE_TRAILING_DATA'));
  });

  it('counts bytes while reading, so a source longer than it declared is still capped', async () => {
    const options = { declaredSize: 10, maxPackageSize: archive.length - 1, maxCompressionRatio: 1000 };
    await assert.rejects(inflateAll(pieces(archive, 16), options), (error) => {
      assert.ok(ForgeError.is(error, 'FO_PACKAGE_TOO_LARGE'), String(error));
      assert.equal(error.details['limit'], archive.length - 1);
      return true;
    });
  });

  it('measures the ratio against the compressed size and stops at the first chunk over it', async () => {
    const zeros = gzipSync(Buffer.alloc(4 << 20));
    const options = { declaredSize: zeros.length, maxPackageSize: 1 << 30, maxCompressionRatio: 10 };
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of gunzip([zeros], options)) seen += chunk.length;
      })(),
      hasCode('FO_PACKAGE_COMPRESSION_RATIO'),
    );
    assert.ok(seen <= 10 * zeros.length, `${seen} bytes passed a limit of ${10 * zeros.length}`);
  });

  it('stops reading its source when the consumer stops early', async () => {
    let pulled = 0;
    function* source(): Generator<Uint8Array> {
      for (const piece of pieces(archive, 64)) {
        pulled += 1;
        yield piece;
      }
    }
    for await (const chunk of gunzip(source(), { ...OPEN, declaredSize: archive.length })) {
      assert.ok(chunk.length > 0);
      break;
    }
    assert.ok(pulled < Math.ceil(archive.length / 64), `pulled ${pulled} pieces`);
  });
});
