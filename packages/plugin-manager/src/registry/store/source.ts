/**
 * Reading a package file whole, once, so that the bytes verified are the bytes stored
 * (the store) or loaded (the registry), and refusing one above the size limit before
 * reading it.
 *
 * A regular file up to {@link SYNC_READ_LIMIT} is read with synchronous calls on this
 * thread (open, fstat, read, close: some 20-60 us for a package of a few tens of KiB,
 * from the page cache). Each asynchronous fs call is a round trip through libuv's thread
 * pool, and on a loaded machine a parked pool thread takes milliseconds to be scheduled:
 * the four calls of an asynchronous read made a plugin's load + start 2-4 ms slower one
 * time in ten (bench/README.md, "Start-up"). Anything else (a larger file, a FIFO, a
 * device) is read asynchronously as before. The file is opened with O_NONBLOCK so that
 * opening a FIFO never blocks the thread; it has no effect on a regular file's reads.
 * The price: a package not in the page cache blocks this thread for the disk's read (one
 * read of at most 1 MiB, once per load or install).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { ForgeError, fromFsError } from '@forgeone/common';

/** The largest file read synchronously, in bytes (1 MiB: well under a millisecond from the page cache). */
export const SYNC_READ_LIMIT = 1024 * 1024;
/** What the asynchronous path reads at a time from a file with no size (a FIFO, a device), in bytes. */
const ASYNC_CHUNK = 64 * 1024;

/**
 * A package's bytes: `source` itself, or the file it names.
 * @param maxSize `package_limits.max_package_size`, in bytes
 * @throws ForgeError FO_PACKAGE_TOO_LARGE, FO_IO_*
 */
export async function readPackageSource(source: string | Uint8Array, maxSize: number): Promise<Uint8Array> {
  if (typeof source !== 'string') return source;
  try {
    return readSmallFileSync(source, maxSize) ?? (await readFileAsync(source, maxSize));
  } catch (error) {
    throw fromFsError(error, 'read the package', source);
  }
}

/** The whole of `path` when it is a regular file of at most {@link SYNC_READ_LIMIT} bytes, else undefined. */
function readSmallFileSync(path: string, maxSize: number): Uint8Array | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return undefined;
    checkSize(path, info.size, maxSize);
    if (info.size > SYNC_READ_LIMIT) return undefined;
    // As FileHandle.readFile does: the size fstat gave, less if the file ends sooner.
    const bytes = Buffer.allocUnsafeSlow(info.size); // never a view of the shared pool: callers keep it
    let length = 0;
    while (length < bytes.length) {
      const read = readSync(fd, bytes, length, bytes.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return length === bytes.length ? bytes : bytes.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

async function readFileAsync(path: string, maxSize: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    checkSize(path, size, maxSize);
    // SECURITY: never past the limit. A FIFO or a device has no size to check first (a
    // symlink to /dev/zero never ends): read to its end, refused one byte past the limit
    // (FileHandle.readFile read all of it). A file with a size is read to that size, as
    // readFile does, with no extra read for its end (a thread-pool round trip).
    const chunks: Buffer[] = [];
    let total = 0;
    while (size === 0 || total < size) {
      const chunk = Buffer.allocUnsafeSlow(size > 0 ? size - total : Math.min(ASYNC_CHUNK, maxSize + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxSize) checkSize(path, total, maxSize, 'at least ');
    }
    if (chunks.length === 1) return chunks[0] as Buffer;
    const whole = Buffer.allocUnsafeSlow(total); // never a view of the shared pool (Buffer.concat may give one)
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(whole, at);
    return whole;
  } finally {
    await handle.close();
  }
}

function checkSize(path: string, size: number, maxSize: number, atLeast = ''): void {
  if (size > maxSize) {
    throw new ForgeError('FO_PACKAGE_TOO_LARGE', `package: expected at most ${maxSize} bytes, found ${atLeast}${size} bytes in ${path}`, {
      details: { limit: maxSize, actual: size, path },
    });
  }
}
