import { ForgeError, formatSize, fromFsError, toForgeError } from '@forgeone/common';
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { gunzip, type GunzipOptions } from './gunzip.js';
import { gunzipInMemory } from './gunzip-in-memory.js';
import { resolveLimits, type ArchiveLimits } from './limits.js';
import type { ArchiveEntry, EntrySink } from './sink.js';
import { TarParser } from './tar-parser.js';

/** Size of the pieces the package is read in, in bytes. */
const READ_CHUNK = 64 * 1024;

/** A package opened for streaming: its size before reading, and its bytes (`whole` when in memory). */
interface PackageSource {
  readonly size: number;
  readonly chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  readonly whole?: Uint8Array;
  close(): Promise<void>;
}

/**
 * Streams a .forgepkg (a file path, read with a file stream, or bytes in memory) through
 * gunzip and a tar parser under `limits`, feeding each entry to `sink` as it arrives.
 * From a file, nothing is buffered beyond one read chunk, one inflate chunk and one
 * header block; bytes in memory are decompressed whole, up to 4 MiB (see
 * {@link decompressed}), then parsed, each entry's data reaching the sink in one write.
 *
 * @param limits overrides of {@link DEFAULT_ARCHIVE_LIMITS}.
 * @returns the entries in archive order, each with its SHA-256.
 * @throws ForgeError, after `sink.abort()` has removed what the sink wrote:
 *   - the file: FO_IO_* (cannot be opened or read), FO_PACKAGE_TOO_LARGE (by fstat,
 *     and counted while reading);
 *   - gzip: FO_PACKAGE_NOT_GZIP, FO_PACKAGE_TRUNCATED, FO_PACKAGE_CORRUPT,
 *     FO_PACKAGE_TRAILING_DATA, FO_PACKAGE_COMPRESSION_RATIO;
 *   - tar: FO_PACKAGE_TRUNCATED, FO_PACKAGE_CORRUPT, FO_PACKAGE_TRAILING_DATA and
 *     every code of the entry checks (types, names, sizes, counts, duplicates);
 *   - whatever ForgeError the sink throws (the package layer's layout rules);
 *   - FO_INTERNAL_UNEXPECTED for malformed limits or a failure that is a bug.
 */
export async function readArchive(source: string | Uint8Array, sink: EntrySink, limits: Partial<ArchiveLimits> = {}): Promise<ArchiveEntry[]> {
  try {
    const resolved = resolveLimits(limits);
    const input = await openSource(source, resolved.maxPackageSize);
    try {
      return await unpack(input, sink, resolved);
    } finally {
      await input.close();
    }
  } catch (error) {
    // abort() must not throw; if it does, the read's own failure is the one reported.
    await sink.abort().catch(() => undefined);
    throw toForgeError(error);
  }
}

async function unpack(input: PackageSource, sink: EntrySink, limits: ArchiveLimits): Promise<ArchiveEntry[]> {
  const parser = new TarParser(limits);
  const entries: ArchiveEntry[] = [];
  let current: { readonly path: string; readonly size: number; readonly hash: Hash } | undefined;
  const options = { declaredSize: input.size, maxPackageSize: limits.maxPackageSize, maxCompressionRatio: limits.maxCompressionRatio };
  const tar = decompressed(input, options);
  for await (const chunk of tar.chunks) {
    for (const event of parser.push(chunk)) {
      switch (event.kind) {
        case 'begin':
          current = { path: event.header.path, size: event.header.size, hash: createHash('sha256') };
          await sink.beginEntry(current.path, current.size);
          break;
        case 'data':
          current?.hash.update(event.chunk);
          await sink.write(event.chunk, tar.stable);
          break;
        case 'end': {
          if (current === undefined) break;
          const entry: ArchiveEntry = { path: current.path, size: current.size, sha256: current.hash.digest('hex') };
          current = undefined;
          await sink.endEntry(entry);
          entries.push(entry);
          break;
        }
      }
    }
  }
  parser.finish();
  return entries;
}

/**
 * The tar stream: for bytes in memory, decompressed in one call when
 * {@link gunzipInMemory} accepts the whole gzip member; otherwise streamed.
 *
 * SECURITY: whatever the in-memory path refuses is read again by the streaming path,
 * before any entry reached the sink, so every refusal is the streaming path's own:
 * the same code, message and archive order (a tar problem early in the stream is
 * reported before a deflate error later in it, which one call cannot tell apart).
 * A refused package costs at most twice the decompression, capped by the ratio limit.
 */
function decompressed(input: PackageSource, options: GunzipOptions): { chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>; stable: boolean } {
  if (input.whole !== undefined) {
    try {
      const tar = gunzipInMemory(input.whole, options);
      // Nothing else holds this buffer: the sink may keep views of it (EntrySink.write).
      if (tar !== undefined) return { chunks: [tar], stable: true };
    } catch {
      // Refused: the streaming path below reports it.
    }
  }
  return { chunks: gunzip(input.chunks, options), stable: false };
}

/**
 * Opens the package. A file's size comes from fstat on the opened handle (so it is the
 * file that is then read) and is checked before any byte is read.
 */
async function openSource(source: string | Uint8Array, maxPackageSize: number): Promise<PackageSource> {
  if (typeof source !== 'string') {
    checkSize(source.byteLength, maxPackageSize);
    return { size: source.byteLength, chunks: slices(source), whole: source, close: () => Promise.resolve() };
  }
  let handle: FileHandle;
  try {
    handle = await open(source, 'r');
  } catch (error) {
    throw fromFsError(error, 'open the package', source);
  }
  let size: number;
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new ForgeError('FO_IO_FAILED', `cannot read the package ${source}: expected a regular file, found another kind of file`, {
        details: { path: source },
      });
    }
    checkSize(info.size, maxPackageSize);
    size = info.size;
  } catch (error) {
    await handle.close();
    throw fromFsError(error, 'inspect the package', source);
  }
  const stream = handle.createReadStream({ highWaterMark: READ_CHUNK, autoClose: false });
  return {
    size,
    chunks: fsErrorsAsForge(stream, source),
    close: async () => {
      stream.destroy();
      await handle.close();
    },
  };
}

function checkSize(size: number, maxPackageSize: number): void {
  if (size > maxPackageSize) {
    throw new ForgeError('FO_PACKAGE_TOO_LARGE', `package: expected at most ${formatSize(maxPackageSize)}, found ${size} bytes`, {
      details: { limit: maxPackageSize, actual: size },
    });
  }
}

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += READ_CHUNK) yield bytes.subarray(offset, offset + READ_CHUNK);
}

async function* fsErrorsAsForge(stream: AsyncIterable<unknown>, path: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw fromFsError(error, 'read the package', path);
  }
}
