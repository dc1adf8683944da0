import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ForgeError } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { HOSTILE_CASES, validPackage, withHeaderFields } from '../test-support/hostile.js';
import { gunzip, type GunzipOptions } from './gunzip.js';
import { IN_MEMORY_INFLATE_LIMIT, gunzipInMemory } from './gunzip-in-memory.js';
import { gzipDeterministic } from './gzip-framing.js';
import { resolveLimits, type ArchiveLimits } from './limits.js';

/** What one path made of some bytes: the output, a refusal's code, or (in memory only) "stream it". */
type Outcome = { readonly bytes: Buffer } | { readonly code: string; readonly produced: number } | { readonly streamed: true };

function optionsFor(bytes: Uint8Array, limits: Partial<ArchiveLimits> = {}): GunzipOptions {
  const resolved = resolveLimits(limits);
  return { declaredSize: bytes.length, maxPackageSize: resolved.maxPackageSize, maxCompressionRatio: resolved.maxCompressionRatio };
}

function refusal(error: unknown, produced: number): Outcome {
  assert.ok(error instanceof ForgeError, `threw ${String(error)}`);
  return { code: error.code, produced };
}

/** The streaming path, fed 64 KiB slices as readArchive feeds it. */
async function streamed(bytes: Uint8Array, options: GunzipOptions): Promise<Outcome> {
  const out: Uint8Array[] = [];
  let produced = 0;
  try {
    for await (const chunk of gunzip(slices(bytes), options)) {
      produced += chunk.length;
      if (produced <= IN_MEMORY_INFLATE_LIMIT) out.push(chunk);
    }
  } catch (error) {
    return refusal(error, produced);
  }
  return produced > IN_MEMORY_INFLATE_LIMIT ? { code: 'large output', produced } : { bytes: Buffer.concat(out) };
}

function inMemory(bytes: Uint8Array, options: GunzipOptions): Outcome {
  try {
    const out = gunzipInMemory(bytes, options);
    return out === undefined ? { streamed: true } : { bytes: out };
  } catch (error) {
    return refusal(error, 0);
  }
}

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += 64 * 1024) yield bytes.subarray(offset, offset + 64 * 1024);
}

/** The ISIZE field if the member ends with a trailer: the in-memory path's size hint. */
function claimedSize(bytes: Uint8Array): number {
  return bytes.length >= 18 ? Buffer.from(bytes).readUInt32LE(bytes.length - 4) : 0;
}

/**
 * Both paths over `bytes`: the same output or the same code; or in memory declined a
 * member that decompresses past its limit, or whose last four bytes claim it would.
 */
async function sameOnBothPaths(bytes: Uint8Array, limits: Partial<ArchiveLimits> = {}): Promise<Outcome> {
  const options = optionsFor(bytes, limits);
  const stream = await streamed(bytes, options);
  const memory = inMemory(bytes, options);
  if ('streamed' in memory) {
    const produced = 'produced' in stream ? stream.produced : 0;
    assert.ok(produced > IN_MEMORY_INFLATE_LIMIT || claimedSize(bytes) > IN_MEMORY_INFLATE_LIMIT, `declined a member the stream made ${JSON.stringify(stream).slice(0, 200)} of`);
  } else if ('code' in stream) {
    assert.ok('code' in memory, `the stream refused as ${stream.code}, in memory accepted`);
    assert.equal(memory.code, stream.code);
  } else {
    assert.ok('bytes' in memory && 'bytes' in stream, `the stream accepted, in memory refused as ${'code' in memory ? memory.code : '?'}`);
    assert.ok(memory.bytes.equals(stream.bytes), 'the two paths decompressed different bytes');
  }
  return memory;
}

describe('gunzipInMemory and the streaming gunzip agree', () => {
  for (const hostile of HOSTILE_CASES) {
    it(`on a package with ${hostile.name}`, async () => {
      await sameOnBothPaths(hostile.build(), hostile.limits);
    });
  }

  it('on valid packages: optional header fields, stored blocks, 2 MiB of random bytes', async () => {
    for (const bytes of [validPackage(), withHeaderFields(validPackage()), gzipDeterministic(randomBytes(2 << 20), 0), gzipDeterministic(randomBytes(2 << 20), 1)]) {
      assert.ok('bytes' in (await sameOnBothPaths(bytes)));
    }
  });

  it('on an ISIZE that lies (too small: more output chunks; too large: a bigger buffer), refusing both as FO_PACKAGE_CORRUPT', async () => {
    const packed = gzipSync(randomBytes(300_000));
    for (const size of [1, 299_999, 300_001, IN_MEMORY_INFLATE_LIMIT]) {
      const lying = Buffer.from(packed);
      lying.writeUInt32LE(size, lying.length - 4);
      const outcome = await sameOnBothPaths(lying);
      assert.ok('code' in outcome && outcome.code === 'FO_PACKAGE_CORRUPT', JSON.stringify(outcome));
    }
  });

  it('on a ratio limit below one decompressed byte for the whole package (zlib takes no bound under 1)', async () => {
    const outcome = await sameOnBothPaths(validPackage(), { maxCompressionRatio: 1e-6 });
    assert.ok('code' in outcome && outcome.code === 'FO_PACKAGE_COMPRESSION_RATIO');
  });

  it('on mutated gzip bytes (fuzz)', async () => {
    const base = fc.constantFrom(validPackage(), withHeaderFields(validPackage()), gzipDeterministic(Buffer.alloc(5000, 7), 0));
    const edit = fc.record({ at: fc.nat(), byte: fc.nat(255), cut: fc.boolean() });
    const mutated = fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 3 })).map(([bytes, edits]) => {
      let out = Buffer.from(bytes);
      for (const change of edits) {
        const at = change.at % (out.length + 1);
        if (change.cut) out = out.subarray(0, at);
        else if (at < out.length) out[at] = change.byte;
      }
      return out;
    });
    await runFuzz(
      'gunzip-in-memory',
      400,
      (settings) => fc.check(fc.asyncProperty(mutated, async (bytes) => void (await sameOnBothPaths(bytes))), settings),
      (details) => fc.asyncDefaultReportMessage(details),
    );
  });
});

describe('gunzipInMemory', () => {
  it('refuses a gzip bomb whose ISIZE hides its size at the ratio limit, not after inflating it whole', () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    bomb.writeUInt32LE(1000, bomb.length - 4);
    // A ratio whose limit (40 x ~65 KB) is under IN_MEMORY_INFLATE_LIMIT: this path refuses it itself.
    const options = { declaredSize: bomb.length, maxPackageSize: 1 << 30, maxCompressionRatio: 40 };
    assert.throws(() => gunzipInMemory(bomb, options), (error) => ForgeError.is(error, 'FO_PACKAGE_COMPRESSION_RATIO') && error.details['limit'] === 40 * bomb.length);
  });

  it(`leaves to the stream a member whose ISIZE says more than ${IN_MEMORY_INFLATE_LIMIT} bytes`, () => {
    const packed = gzipSync(Buffer.alloc(IN_MEMORY_INFLATE_LIMIT + 1));
    assert.equal(gunzipInMemory(packed, { declaredSize: packed.length, maxPackageSize: 1 << 30, maxCompressionRatio: 1e6 }), undefined);
  });

  it(`leaves to the stream a member that decompresses past ${IN_MEMORY_INFLATE_LIMIT} bytes while its ISIZE says less`, () => {
    const packed = gzipSync(Buffer.alloc(IN_MEMORY_INFLATE_LIMIT + 1));
    packed.writeUInt32LE(1000, packed.length - 4);
    assert.equal(gunzipInMemory(packed, { declaredSize: packed.length, maxPackageSize: 1 << 30, maxCompressionRatio: 1e6 }), undefined);
  });

  it('decompresses a package whose ISIZE is honest into one buffer of its size', () => {
    const data = randomBytes(1 << 20);
    const out = gunzipInMemory(gzipDeterministic(data, 0), { declaredSize: 0, maxPackageSize: 1 << 30, maxCompressionRatio: 100 });
    assert.ok(out !== undefined && out.equals(data));
    assert.equal(out.buffer.byteLength, data.length + 1, 'zlib wrote into one buffer sized by the hint');
  });
});
