/**
 * Reads a file line by line in large chunks, handing each complete line to a visitor
 * as a view into the chunk (no per-line copy or string). Shared by verification,
 * recovery and tail.
 *
 * A run visitor may take many lines at once (verification's native check): it is offered
 * the bytes from each line start on, before that line is visited, and says where it
 * stopped; the line there is then visited as usual.
 *
 * Two buffers alternate so that the next chunk is read while this one is visited. Each
 * buffer keeps `maxLine` bytes free in front of its data, where the unfinished last line
 * of the previous chunk is copied, so lines never need a buffer of their own.
 */
import type { FileHandle } from 'node:fs/promises';

/** Sees one line `buf[start, end)` (newline excluded) that starts at file offset `offset`; false stops the scan. */
export type LineVisitor = (buf: Buffer, start: number, end: number, offset: number) => boolean;

/**
 * Takes a run of lines at once: `buf[start, end)` holds the bytes read from the line at
 * `start` (file offset `offset`) on. Returns the index where it stopped, the start of a
 * line (`start` when it took none); it takes only complete lines of at most `maxLine`
 * bytes with their newline, and only lines the line visitor would have accepted.
 */
export type RunVisitor = (buf: Buffer, start: number, end: number, offset: number) => number;

/** How a scan ended. */
export interface ScanResult {
  /**
   * File offset after the last line the visitor accepted: the start of the line it
   * refused, of an incomplete last line, or of an overlong line; else the end of the file.
   */
  readonly end: number;
  /** What stopped the scan before the end of the file. */
  readonly stop: 'visitor' | 'incomplete' | 'overlong' | undefined;
}

/** Options for {@link scanLines}. */
export interface ScanOptions {
  /** Bytes read at a time (default 4 MiB). */
  readonly chunkSize?: number;
  /** Longest line accepted, newline included (default 1 MiB); a longer one stops the scan. */
  readonly maxLine?: number;
  /** Offset to stop at (default: the file's size when the scan starts). */
  readonly until?: number;
  /** Offered the lines from each line start on before that line is visited (default: none, every line is visited). */
  readonly run?: RunVisitor;
}

/** Longest line a scan accepts by default: well above the largest record the writer makes (about 250 KiB). */
export const MAX_LINE = 1024 * 1024;

/**
 * Visits every complete line of `handle` from offset `from`. A last line without a
 * newline is not visited; the result says where it starts.
 */
export async function scanLines(handle: FileHandle, from: number, visit: LineVisitor, options: ScanOptions = {}): Promise<ScanResult> {
  const until = options.until ?? (await handle.stat()).size;
  const maxLine = options.maxLine ?? MAX_LINE;
  const run = options.run;
  const chunk = Math.max(1, Math.min(options.chunkSize ?? 4 * 1024 * 1024, until - from));
  const reserve = Math.min(maxLine, until - from);
  let buf = Buffer.allocUnsafe(reserve + chunk);
  let other = Buffer.allocUnsafe(reserve + chunk);
  const read = (buf: Buffer, position: number): Promise<number> =>
    position >= until ? Promise.resolve(0) : handle.read(buf, reserve, Math.min(chunk, until - position), position).then((result) => result.bytesRead);

  let position = from;
  let pending = read(buf, position);
  // The unfinished line carried over: where it sits in the previous buffer, and its file offset.
  let carryFrom: Buffer | undefined;
  let carryStart = 0;
  let carryEnd = 0;
  let carryOffset = from;
  for (;;) {
    const bytesRead = await pending;
    const carry = carryEnd - carryStart;
    if (bytesRead === 0) return { end: carryOffset, stop: carry === 0 ? undefined : carry >= maxLine ? 'overlong' : 'incomplete' };
    position += bytesRead;
    if (carry > reserve) return { end: carryOffset, stop: 'overlong' };
    // Move the carried bytes in front of the new data before the other buffer is reused.
    if (carryFrom !== undefined && carry > 0) carryFrom.copy(buf, reserve - carry, carryStart, carryEnd);
    pending = read(other, position);
    const regionStart = reserve - carry;
    const regionEnd = reserve + bytesRead;
    const view = buf.subarray(0, regionEnd);
    let lineStart = regionStart;
    for (;;) {
      if (run !== undefined) lineStart = run(buf, lineStart, regionEnd, carryOffset + (lineStart - regionStart));
      const newline = view.indexOf(10, lineStart);
      if (newline === -1) break;
      const offset = carryOffset + (lineStart - regionStart);
      if (newline + 1 - lineStart > maxLine) {
        await pending;
        return { end: offset, stop: 'overlong' };
      }
      if (!visit(buf, lineStart, newline, offset)) {
        await pending;
        return { end: offset, stop: 'visitor' };
      }
      lineStart = newline + 1;
    }
    carryOffset += lineStart - regionStart;
    carryFrom = buf;
    carryStart = lineStart;
    carryEnd = regionEnd;
    [buf, other] = [other, buf];
  }
}
