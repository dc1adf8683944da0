/**
 * The wire between the host and one confined sandbox process: length-prefixed frames on
 * a pair of FIFOs, read and written with blocking system calls on both ends (the host's
 * relay thread, relay.ts; the sandbox's main thread, child.ts).
 *
 * ```
 * frame := u32le length | u8 kind | body           (length counts kind and body)
 * body  := i32le words... | i64le words... | payload  (the counts are fixed per kind)
 * ```
 *
 * SECURITY: the host reads the sandbox's frames as hostile input. {@link readFrame}
 * refuses a frame longer than its limit before allocating it, an unknown kind, and a
 * body shorter than its kind's fixed words; structured bodies (telemetry, traces, HTTP
 * hops) are JSON, never a deserializer that can build arbitrary objects, and are checked
 * field by field by the reader (child-input.ts). Frames the host sends use the V8
 * serializer (the spec of a plugin holds Uint8Arrays and bigints), read only by the child.
 */
import { readSync, writeSync } from 'node:fs';
import { ForgeError } from '@forgeone/common';

/** Frame kinds. Host to sandbox: JOB, MSG, REPLY. Sandbox to host: READY, HOST, DONE, TELEMETRY, TRACE. */
export const KIND = Object.freeze({ JOB: 1, MSG: 2, REPLY: 3, READY: 16, HOST: 17, DONE: 18, TELEMETRY: 19, TRACE: 20 });

/** How many i32 and i64 words each kind's body starts with. */
const LAYOUT: Readonly<Record<number, readonly [number, number]>> = {
  [KIND.JOB]: [5, 1], // op, plugin, name, flags (jobFlags), call id | fuel
  [KIND.MSG]: [0, 0],
  [KIND.REPLY]: [1, 1], // status | charge
  [KIND.READY]: [0, 0],
  [KIND.HOST]: [3, 1], // op, plugin, name | fuel
  [KIND.DONE]: [5, 2], // status, flags, elapsedUs, memoryPages, call id | fuel, charge
  [KIND.TELEMETRY]: [1, 0], // the number of the audit-mirror batch it ends (pool-audit-mirror.ts), or 0
  [KIND.TRACE]: [0, 0],
};

/** Most telemetry items (audit entries, logs, events, anomalies) one TELEMETRY frame may carry; the host refuses more as a violation. */
export const MAX_TELEMETRY_ITEMS = 4096;

/** The largest frame either side accepts: a payload of 64 MiB and its words. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024 + 64;

/** One decoded frame. `payload` is a view into the frame's buffer. */
export interface Frame {
  readonly kind: number;
  readonly ints: readonly number[];
  readonly bigs: readonly bigint[];
  readonly payload: Uint8Array;
}

/** A frame the other side sent that the protocol does not allow. */
export function violation(message: string, details: Record<string, unknown> = {}): ForgeError {
  return new ForgeError('FO_SANDBOX_PROTOCOL_VIOLATION', `the sandbox process broke its protocol: ${message}`, { details });
}

/** The other end closed its side: the sandbox process (or its host) is gone. */
export class ChannelClosed extends Error {
  constructor() {
    super('the sandbox channel was closed');
    this.name = 'ChannelClosed';
  }
}

/**
 * Bytes of a frame of `kind` with these words and a payload of `payloadLength` bytes, its
 * length prefix included.
 * @throws Error when the words do not match the kind's layout (a bug of the writer)
 */
export function frameBytes(kind: number, ints: readonly number[], bigs: readonly bigint[], payloadLength: number): number {
  const layout = LAYOUT[kind];
  if (layout === undefined || ints.length !== layout[0] || bigs.length !== layout[1]) throw new Error(`wire: bad words for frame kind ${kind}`);
  return 5 + 4 * ints.length + 8 * bigs.length + payloadLength;
}

/**
 * Writes a frame at `at` of `view` (and `bytes`, the same memory), which has room for its
 * {@link frameBytes}: the ring writes frames straight into the shared memory this way.
 * @returns the offset after the frame
 */
export function encodeFrameAt(view: DataView, bytes: Uint8Array, at: number, kind: number, ints: readonly number[], bigs: readonly bigint[], payload: Uint8Array, total: number): number {
  view.setUint32(at, total - 4, true);
  view.setUint8(at + 4, kind);
  let offset = at + 5;
  for (const value of ints) {
    view.setInt32(offset, value | 0, true);
    offset += 4;
  }
  for (const value of bigs) {
    view.setBigInt64(offset, BigInt.asIntN(64, value), true);
    offset += 8;
  }
  bytes.set(payload, offset);
  return offset + payload.length;
}

/** Encodes a frame. */
export function encodeFrame(kind: number, ints: readonly number[], bigs: readonly bigint[], payload: Uint8Array = new Uint8Array(0)): Buffer {
  const total = frameBytes(kind, ints, bigs, payload.length);
  const frame = Buffer.allocUnsafe(total);
  encodeFrameAt(new DataView(frame.buffer, frame.byteOffset, total), frame, 0, kind, ints, bigs, payload, total);
  return frame;
}

/** Decodes a frame's kind and body (without its length prefix). @throws FO_SANDBOX_PROTOCOL_VIOLATION */
export function decodeFrame(body: Buffer): Frame {
  return decodeFrameAt(new DataView(body.buffer, body.byteOffset, body.length), body, 0, body.length, false);
}

/**
 * Decodes the frame body (kind and body, no length prefix) of `length` bytes at `at` of
 * `view` (and `bytes`, the same memory). The payload is a view into `bytes`, or a copy when
 * `copy` (memory the other side may write: the shared ring), a plain Uint8Array either way.
 *
 * SECURITY: every byte of the body is read once (each word into a number or bigint, the
 * payload copied when `copy`), so a sandbox changing the shared memory meanwhile cannot make
 * a check and a use see different values.
 * @throws FO_SANDBOX_PROTOCOL_VIOLATION for an empty body, an unknown kind, a body shorter than its kind's words
 */
export function decodeFrameAt(view: DataView, bytes: Uint8Array, at: number, length: number, copy: boolean): Frame {
  if (length < 1) throw violation('an empty frame');
  const kind = view.getUint8(at);
  const layout = LAYOUT[kind];
  if (layout === undefined) throw violation(`an unknown frame kind ${kind}`, { kind });
  const fixed = 4 * layout[0] + 8 * layout[1];
  if (length < 1 + fixed) throw violation(`a frame of kind ${kind} shorter than its ${fixed} bytes of words`, { kind, length });
  const ints: number[] = [];
  const bigs: bigint[] = [];
  let offset = at + 1;
  for (let i = 0; i < layout[0]; i += 1, offset += 4) ints.push(view.getInt32(offset, true));
  for (let i = 0; i < layout[1]; i += 1, offset += 8) bigs.push(view.getBigInt64(offset, true));
  const end = at + length;
  return { kind, ints, bigs, payload: copy ? Uint8Array.prototype.slice.call(bytes, offset, end) : new Uint8Array(bytes.buffer, bytes.byteOffset + offset, end - offset) };
}

/** Reads exactly `length` bytes, blocking. @throws ChannelClosed at end of file */
function readExactly(fd: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let read = 0;
  while (read < length) {
    let got: number;
    try {
      got = readSync(fd, buffer, read, length - read, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      if (code === 'EBADF' || code === 'EPIPE' || code === 'ECONNRESET') throw new ChannelClosed();
      throw error;
    }
    if (got === 0) throw new ChannelClosed();
    read += got;
  }
  return buffer;
}

/**
 * One read of a doorbell FIFO (ring.ts) into `spare`, retried on EINTR.
 * @returns the bytes read; 0 at its end or on an error (the other side is gone); -1 when a non-blocking one is empty (EAGAIN)
 */
export function readBell(fd: number, spare: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, spare, 0, spare.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EINTR') return code === 'EAGAIN' ? -1 : 0;
    }
  }
}

/**
 * Reads the next frame from `fd`, blocking.
 * @throws ChannelClosed at end of file; FO_SANDBOX_PROTOCOL_VIOLATION for a frame over `limit` bytes or malformed
 */
export function readFrame(fd: number, limit: number = MAX_FRAME_BYTES): Frame {
  const length = readExactly(fd, 4).readUInt32LE(0);
  // SECURITY: checked before allocating, so a hostile length cannot make the host allocate.
  if (length < 1 || length > limit) throw violation(`a frame of ${length} bytes (limit ${limit})`, { length, limit });
  return decodeFrame(readExactly(fd, length));
}

/** Writes a whole frame to `fd`, blocking. @throws ChannelClosed when the reader is gone */
export function writeFrame(fd: number, frame: Uint8Array): void {
  let written = 0;
  while (written < frame.length) {
    try {
      written += writeSync(fd, frame, written, frame.length - written);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      if (code === 'EPIPE' || code === 'EBADF' || code === 'ECONNRESET') throw new ChannelClosed();
      throw error;
    }
  }
}

/** Frames one way and the other between the relay and its sandbox: FIFOs alone, or the shared-memory ring (ring.ts). */
export interface FrameChannel {
  /** The next frame, waiting for it. @throws FO_SANDBOX_PROTOCOL_VIOLATION, ChannelClosed */
  read(limit?: number): Frame;
  /** Sends a frame (from {@link encodeFrame}), waiting for room. @throws ChannelClosed */
  write(frame: Uint8Array): void;
  /** Encodes and sends a frame (as {@link encodeFrame}), waiting for room; the ring encodes it in place. @throws ChannelClosed */
  send(kind: number, ints: readonly number[], bigs: readonly bigint[], payload?: Uint8Array): void;
}

/** Frames over a pair of blocking FIFOs (when the shared-memory module was not built). */
export class FifoChannel implements FrameChannel {
  constructor(
    readonly input: number,
    readonly output: number,
  ) {}

  read(limit?: number): Frame {
    return readFrame(this.input, limit);
  }

  write(frame: Uint8Array): void {
    writeFrame(this.output, frame);
  }

  send(kind: number, ints: readonly number[], bigs: readonly bigint[], payload?: Uint8Array): void {
    writeFrame(this.output, encodeFrame(kind, ints, bigs, payload));
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON bytes of `value`; Uint8Arrays as `{"$b64": ...}`, bigints as `{"$big": ...}`. */
export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(
    JSON.stringify(value, function (this: Record<string, unknown>, key, current: unknown) {
      const raw = this[key];
      if (raw instanceof Uint8Array) return { $b64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
      if (typeof current === 'bigint') return { $big: current.toString() };
      return current;
    }),
  );
}

/**
 * The value {@link jsonBytes} wrote, with Uint8Arrays and bigints restored.
 * @throws FO_SANDBOX_PROTOCOL_VIOLATION for bytes that are not UTF-8 JSON
 */
export function fromJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes), (_key, value: unknown) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const keys = Object.keys(value);
        const record = value as Record<string, unknown>;
        if (keys.length === 1 && typeof record['$b64'] === 'string') return new Uint8Array(Buffer.from(record['$b64'], 'base64'));
        if (keys.length === 1 && typeof record['$big'] === 'string' && /^-?\d{1,20}$/.test(record['$big'])) return BigInt(record['$big']);
      }
      return value;
    });
  } catch (error) {
    throw violation(`a body that is not UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * A JOB frame's flags word: bit 1, trace the call's host calls; bits 8 and up, the CPU the
 * host thread waits on for the answer + 1 (0: it does not wait synchronously), so that the
 * sandbox keeps off that CPU (RequestWords.cpu, thread-priority.ts HostCpuAvoider).
 */
export function jobFlags(trace: boolean, cpu: number): number {
  return (trace ? 1 : 0) | ((Math.max(-1, cpu) + 1) << 8);
}

/** The fields {@link jobFlags} packed. */
export function readJobFlags(flags: number): { trace: boolean; cpu: number } {
  return { trace: (flags & 1) === 1, cpu: (flags >>> 8) - 1 };
}
