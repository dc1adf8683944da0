/**
 * The guest's standard streams. By default stdin is empty and stdout/stderr are
 * discarded: a plugin sees and says nothing unless its host hands it a stream. A
 * plugin's output normally goes to its log stream through a {@link WasiOutput};
 * `forge wasi run` passes the process's own descriptors with {@link hostFdInput} and
 * {@link hostFdOutput}.
 */
import { fstatSync, readSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { isNodeSystemError } from '@forgeone/common';

/**
 * What fd_fdstat_get reports for a standard stream. Pipes and in-memory streams are
 * `unknown` (preview1 has no pipe type), so a guest's isatty() is false for them; a
 * terminal is a `character_device`.
 */
export type StdioFiletype = 'unknown' | 'character_device' | 'regular_file';

/** Where the guest's stdin comes from. */
export interface WasiInput {
  /**
   * Copies up to `length` bytes into `into` at `offset`, blocking until at least one
   * byte or the end of input.
   * @returns the number of bytes copied; 0 means end of input
   */
  read(into: Uint8Array, offset: number, length: number): number;
  /** Bytes readable without blocking, when known (poll_oneoff reports it). */
  available?(): number | undefined;
  /** Default `unknown`. */
  readonly filetype?: StdioFiletype;
}

/** Where the guest's stdout or stderr goes. */
export interface WasiOutput {
  /**
   * Takes the bytes of one fd_write. `bytes` is a view of guest memory that is valid
   * only during the call: copy it to keep it.
   */
  write(bytes: Uint8Array): void;
  /** Default `unknown`. */
  readonly filetype?: StdioFiletype;
}

/** stdin holding `data` (a string is UTF-8 encoded), then end of input. */
export function bytesInput(data: Uint8Array | string): WasiInput {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let position = 0;
  return {
    read(into, offset, length) {
      const count = Math.min(length, bytes.length - position);
      into.set(bytes.subarray(position, position + count), offset);
      position += count;
      return count;
    },
    available: () => bytes.length - position,
  };
}

/** An empty stdin. */
export const EMPTY_INPUT: WasiInput = bytesInput(new Uint8Array(0));

/** An output that drops everything. */
export const DISCARD_OUTPUT: WasiOutput = { write: () => undefined };

/** An output that keeps every byte, for tests and small captures. */
export interface CollectedOutput extends WasiOutput {
  /** Everything written so far. */
  bytes(): Buffer;
  /** Everything written so far, decoded as UTF-8. */
  text(): string;
}

/** An output that keeps every byte written to it. */
export function collectOutput(): CollectedOutput {
  const chunks: Buffer[] = [];
  return {
    write: (bytes) => void chunks.push(Buffer.from(bytes)),
    bytes: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** An output that also passes on what it still holds when the guest is done. */
export interface FlushableOutput extends WasiOutput {
  /** Passes on an unterminated last line. Call once the guest has finished. */
  flush(): void;
}

/**
 * An output for a log stream: hands the guest's text to `onLine` one line at a time,
 * without the newline, decoded as UTF-8 (invalid bytes become U+FFFD). A line longer
 * than `maxLineBytes` is passed on in pieces of that many bytes, so a guest that never
 * writes a newline cannot make the host buffer without bound.
 *
 * @param maxLineBytes longest piece passed on, in bytes; default 4096
 */
export function lineOutput(onLine: (line: string) => void, maxLineBytes = 4096): FlushableOutput {
  let pending = Buffer.alloc(0);
  const emit = (bytes: Buffer): void => onLine(bytes.toString('utf8'));
  return {
    write(bytes) {
      let data = pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([pending, bytes]);
      for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10)) {
        for (let at = 0; at < newline; at += maxLineBytes) emit(data.subarray(at, Math.min(newline, at + maxLineBytes)));
        if (newline === 0) emit(Buffer.alloc(0));
        data = data.subarray(newline + 1);
      }
      while (data.length > maxLineBytes) {
        emit(data.subarray(0, maxLineBytes));
        data = data.subarray(maxLineBytes);
      }
      pending = Buffer.from(data);
    },
    flush() {
      if (pending.length > 0) emit(pending);
      pending = Buffer.alloc(0);
    },
  };
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Runs `operation`, waiting a millisecond and retrying while a non-blocking descriptor says EAGAIN. */
function retryWhileAgain(operation: () => number): number {
  for (;;) {
    try {
      return operation();
    } catch (error) {
      if (!isNodeSystemError(error, 'EAGAIN')) throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** What a host descriptor looks like to the guest. */
function filetypeOfHostFd(fd: number): StdioFiletype {
  if (isatty(fd)) return 'character_device';
  try {
    const stats = fstatSync(fd);
    if (stats.isCharacterDevice()) return 'character_device';
    if (stats.isFile()) return 'regular_file';
  } catch {
    // A closed or odd descriptor is just an unknown stream; reads and writes report the failure.
  }
  return 'unknown';
}

/**
 * stdin read from a host descriptor (usually 0) with blocking reads. The descriptor
 * is never closed by WASI.
 */
export function hostFdInput(fd: number): WasiInput {
  return {
    read: (into, offset, length) => retryWhileAgain(() => readSync(fd, into, offset, length, null)),
    filetype: filetypeOfHostFd(fd),
  };
}

/**
 * stdout or stderr written to a host descriptor (usually 1 or 2) with synchronous
 * writes, so output appears while the guest runs. The descriptor is never closed.
 */
export function hostFdOutput(fd: number): WasiOutput {
  return {
    write(bytes) {
      let done = 0;
      while (done < bytes.length) done += retryWhileAgain(() => writeSync(fd, bytes, done, bytes.length - done));
    },
    filetype: filetypeOfHostFd(fd),
  };
}
