import { crc32, inflateRawSync } from 'node:zlib';
import { fromZlibError, ratioExceeded, tooLarge, trailingData, type GunzipOptions } from './gunzip.js';
import { GzipHeaderParser, GzipTrailer, MIN_CHUNK, TRAILER_BYTES } from './gzip-framing.js';

/**
 * Most bytes {@link gunzipInMemory} decompresses, whatever the ratio limit allows: it
 * blocks the event loop while it inflates (4 MiB: some 3-10 ms) and holds the whole
 * output, so larger packages go through the streaming {@link gunzip}.
 */
export const IN_MEMORY_INFLATE_LIMIT = 4 * 1024 * 1024;

/**
 * Decompresses the one gzip member of `bytes` in a single synchronous zlib call, for a
 * package already in memory: the streaming {@link gunzip} hands zlib 64 KiB at a time
 * through the thread pool, which costs more than the inflating itself.
 *
 * It checks what gunzip checks, with the same codes: the header is parsed by the same
 * parser, only the deflate data goes through zlib (`bytesWritten` is where it ended),
 * then the trailer (CRC-32 and ISIZE) and the absence of any byte after it. The output
 * is capped by `maxOutputLength` at the ratio limit, so a bomb is refused after at most
 * that many bytes, held in memory at once (gunzip holds two 64 KiB chunks).
 *
 * The ISIZE field is read first, only as a size hint: zlib's output buffer is sized by
 * it (capped by the limits), so an honest package is inflated into one buffer rather
 * than 16 KiB chunks joined at the end. A package whose hint is over
 * {@link IN_MEMORY_INFLATE_LIMIT}, or that decompresses to more than that while the
 * ratio limit is higher, is left to gunzip (`undefined`).
 *
 * @returns the decompressed bytes, or undefined when they are to be streamed instead.
 * @throws ForgeError FO_PACKAGE_TOO_LARGE, FO_PACKAGE_NOT_GZIP, FO_PACKAGE_TRUNCATED,
 *   FO_PACKAGE_CORRUPT, FO_PACKAGE_COMPRESSION_RATIO, FO_PACKAGE_TRAILING_DATA, as gunzip.
 */
export function gunzipInMemory(bytes: Uint8Array, options: GunzipOptions): Buffer | undefined {
  if (bytes.length > options.maxPackageSize) throw tooLarge(options.maxPackageSize, bytes.length);
  const header = new GzipHeaderParser();
  const start = header.push(bytes);
  header.finish();
  const limit = Math.floor(options.maxCompressionRatio * Math.max(options.declaredSize, bytes.length));
  const cap = Math.min(limit, IN_MEMORY_INFLATE_LIMIT);
  const hint = bytes.length - start >= TRAILER_BYTES ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32LE(bytes.length - 4) : 0;
  if (hint > IN_MEMORY_INFLATE_LIMIT) return undefined;
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // One byte more than the hint, so that output of exactly that size ends the call
    // without zlib allocating a second chunk to find out.
    const chunkSize = Math.max(MIN_CHUNK, Math.min(hint, cap) + 1);
    inflated = inflateRawSync(bytes.subarray(start), { info: true, chunkSize, maxOutputLength: Math.max(1, cap) }) as unknown as typeof inflated;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_BUFFER_TOO_LARGE') throw fromZlibError(error, start);
    if (cap < limit) return undefined;
    throw ratioExceeded(options.maxCompressionRatio, limit, limit + 1, limit);
  }
  const output = inflated.buffer;
  // maxOutputLength is at least 1, so a limit of 0 is checked here.
  if (output.length > limit) throw ratioExceeded(options.maxCompressionRatio, limit, output.length, limit);
  // zlib finished (Z_FINISH succeeded), so the deflate data ended at bytesWritten.
  const end = start + inflated.engine.bytesWritten;
  const trailer = new GzipTrailer();
  const rest = bytes.subarray(end);
  const used = trailer.push(rest);
  if (used < rest.length) throw trailingData(end + used, rest[used]);
  trailer.verify(crc32(output), output.length, end);
  return output;
}
