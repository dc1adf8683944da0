import { ForgeError, formatSize, toForgeError } from '@forgeone/common';
import { crc32, createInflateRaw } from 'node:zlib';
import { GzipHeaderParser, GzipTrailer } from './gzip-framing.js';

/** Limits and facts {@link gunzip} checks as it goes. */
export interface GunzipOptions {
  /** The compressed size known before reading (fstat or byteLength), in bytes. */
  readonly declaredSize: number;
  /** Most compressed bytes to read, in bytes (FO_PACKAGE_TOO_LARGE). */
  readonly maxPackageSize: number;
  /** Most decompressed bytes per compressed byte (FO_PACKAGE_COMPRESSION_RATIO). */
  readonly maxCompressionRatio: number;
}

/** Output chunk size of the inflater, in bytes: the most decompressed past a limit. */
const INFLATE_CHUNK = 64 * 1024;

/**
 * Decompresses exactly one gzip member from `source`, yielding the decompressed bytes.
 *
 * The member header and trailer are parsed here and only the deflate data goes through
 * zlib, so a second member, trailing bytes (even zeros, which Node's Gunzip skips) and
 * a short trailer are all seen. Output is pulled, so zlib decompresses at most about
 * two 64 KiB chunks ahead of the consumer; the ratio limit is checked on every chunk.
 *
 * @throws ForgeError FO_PACKAGE_NOT_GZIP, FO_PACKAGE_TOO_LARGE (counted while reading),
 *   FO_PACKAGE_COMPRESSION_RATIO, FO_PACKAGE_TRUNCATED (input ends inside the header,
 *   the deflate data or the trailer), FO_PACKAGE_CORRUPT (bad header, bad deflate data,
 *   CRC-32 or ISIZE mismatch), FO_PACKAGE_TRAILING_DATA (any byte after the trailer),
 *   and any ForgeError the source throws.
 */
export async function* gunzip(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: GunzipOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const header = new GzipHeaderParser();
  const trailer = new GzipTrailer();
  const inflate = createInflateRaw({ chunkSize: INFLATE_CHUNK });
  // Errors reach the consumer through the async iterator; this listener only keeps a
  // late error (after the consumer stopped listening) from crashing the process.
  inflate.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => inflate.once('close', resolve));
  let compressed = 0;
  let deflateEnded = false;
  let stopped = false;
  let pumpError: unknown;

  // Feeds the source to zlib. It never rejects: its failure is kept in pumpError and
  // destroys the inflater, which ends the consumer's loop below.
  const pump = async (): Promise<void> => {
    for await (const chunk of source) {
      if (stopped) return;
      compressed += chunk.length;
      if (compressed > options.maxPackageSize) throw tooLarge(options.maxPackageSize, compressed);
      let rest = chunk.subarray(header.done ? 0 : header.push(chunk));
      if (!header.done) continue;
      if (!deflateEnded && rest.length > 0) {
        if (inflate.destroyed) return;
        const before = inflate.bytesWritten;
        // A write's callback never fires if the inflater is destroyed meanwhile.
        await Promise.race([new Promise<void>((resolve) => inflate.write(rest, () => resolve())), closed]);
        if (stopped || inflate.destroyed) return;
        const used = inflate.bytesWritten - before;
        // zlib takes less than it was given only when the deflate stream has ended.
        if (used < rest.length) deflateEnded = true;
        rest = rest.subarray(used);
      }
      if (rest.length > 0) {
        const used = trailer.push(rest);
        if (used < rest.length) throw trailingData(compressed - rest.length + used, rest[used]);
      }
    }
    header.finish();
    // Z_FINISH: zlib reports a deflate stream cut short, or ends the output.
    if (!deflateEnded) inflate.end();
  };
  const pumping = pump().catch((error: unknown) => {
    pumpError = error;
    inflate.destroy();
  });

  let produced = 0;
  let crc = 0;
  let iterationError: unknown;
  let complete = false;
  try {
    for await (const out of inflate as AsyncIterable<Buffer>) {
      produced += out.length;
      const limit = options.maxCompressionRatio * Math.max(options.declaredSize, compressed);
      if (produced > limit) throw ratioExceeded(options.maxCompressionRatio, limit, produced, produced - out.length);
      crc = crc32(out, crc);
      yield out;
    }
    complete = true;
  } catch (error) {
    iterationError = error;
  } finally {
    // On success the pump is left to read to the end of the source (trailer, trailing
    // bytes); on failure or an early return it is stopped.
    if (!complete) {
      stopped = true;
      inflate.destroy();
    }
    await pumping;
  }
  if (pumpError !== undefined) throw toForgeError(pumpError);
  if (iterationError !== undefined) throw fromZlibError(iterationError, header.length + inflate.bytesWritten);
  inflate.destroy();
  trailer.verify(crc, produced, header.length + inflate.bytesWritten);
}

/** More compressed bytes than the limit: `actual` counted so far. */
export function tooLarge(limit: number, actual: number): ForgeError {
  return new ForgeError('FO_PACKAGE_TOO_LARGE', `package: expected at most ${formatSize(limit)}, found more than ${actual - 1} bytes while reading`, {
    details: { limit, actual },
  });
}

/** A byte after the member trailer, at compressed `offset`. */
export function trailingData(offset: number, next: number | undefined): ForgeError {
  return new ForgeError('FO_PACKAGE_TRAILING_DATA', `gzip stream: expected the end of the file after the member trailer at offset ${offset}, found more bytes${next === 0x1f ? ' (another gzip member?)' : ''}`, {
    details: { offset },
  });
}

/** More decompressed bytes than `ratio` times the compressed size allows: `produced` so far, the first `offset` of them within it. */
export function ratioExceeded(ratio: number, limit: number, produced: number, offset: number): ForgeError {
  return new ForgeError('FO_PACKAGE_COMPRESSION_RATIO', `package: expected at most ${ratio} decompressed bytes per compressed byte (${Math.floor(limit)} bytes), found more than ${offset} decompressed`, {
    details: { limit: Math.floor(limit), actual: produced, offset },
  });
}

/** Maps zlib's failures: a stream cut short is truncation, anything else corruption. */
export function fromZlibError(error: unknown, offset: number): ForgeError {
  if (error instanceof ForgeError) return error;
  const code = (error as { code?: unknown }).code;
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'Z_BUF_ERROR') {
    return new ForgeError('FO_PACKAGE_TRUNCATED', `gzip stream: expected complete deflate data, found the input ends (${reason}) at compressed offset ${offset}`, {
      details: { offset },
      cause: error,
    });
  }
  if (code === 'Z_DATA_ERROR') {
    return new ForgeError('FO_PACKAGE_CORRUPT', `gzip stream: expected valid deflate data, found ${reason} near compressed offset ${offset}`, {
      details: { offset },
      cause: error,
    });
  }
  return toForgeError(error);
}
