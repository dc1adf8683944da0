/**
 * The process backend's fast transport: frames (wire.ts) pass through two byte rings in
 * memory shared by the relay thread and the sandbox process (a sealed memfd, mapped by
 * native/shared-memory.c), and the FIFOs carry only doorbells: one byte written when the
 * other side has parked. A side waiting for bytes or room spins on the shared words for
 * {@link RING_SPIN_MS} first (on machines with CPUs to spare), so back-to-back calls need
 * not wake the kernel: between two processes alone, a FIFO round trip costs 8-10 us on a
 * 2-vCPU machine, a spinning ring round trip 3-6 us with frames (docs/sandbox.md). Not the
 * default transport yet: see ProcessOptions.transport.
 *
 * ```
 * words (Int32, first 4 KiB)       DOWN (host -> sandbox)      UP (sandbox -> host)
 *   [16] DOWN written  [17] DOWN read   bytes 4 KiB .. +CAPACITY    next CAPACITY bytes
 *   [32] UP written    [33] UP read
 *   [48] sandbox parked [49] host parked   0 running, 1 parked for bytes, 3 for room, 2 rung
 *   [64] how long the sandbox spins before it parks, in us (written by the host, read by the sandbox)
 * ```
 * Sequence words count bytes modulo 2^32; each is written by one side only.
 *
 * Parking without a lost wake-up: the waiter sets its parked word to what it waits for
 * (bytes or room) and then reads the other side's sequence; the other side publishes its
 * sequence and then reads the parked word, both with read-modify-write atomics (full
 * fences), so at least one sees the other. A side that sees its peer parked for what it
 * just made (bytes written, room freed) swaps the word to 2 and writes one doorbell byte. Spare bytes only cause a
 * spurious wake-up; a closed FIFO (the other side gone) ends the channel as before.
 *
 * SECURITY: on the host's side every word the sandbox writes is untrusted: a sequence that
 * claims more than the ring holds is a protocol violation, every byte of a frame is read
 * once (its words in place, its payload copied out: the sandbox may change them at any
 * time, so no check and use may see two values), the host's own
 * positions are kept in private fields (never read back), and the memfd is sealed so the
 * sandbox cannot shrink it under the host's mapping (SIGBUS). A sandbox that rings the
 * host's doorbell without end costs the relay one read per 64 bytes.
 */
import { writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ChannelClosed, MAX_FRAME_BYTES, decodeFrame, readBell, decodeFrameAt, encodeFrame, encodeFrameAt, frameBytes, violation, type Frame, type FrameChannel } from './wire.js';

/** Bytes of each ring (a power of two); a larger frame streams through in pieces. */
export const RING_CAPACITY = 256 * 1024;
/** Size of the shared memory: the words' page and both rings. */
export const RING_BYTES = 4096 + 2 * RING_CAPACITY;
/**
 * How long a side spins on the shared words before it parks on its doorbell, in ms: 50 us
 * with four or more CPUs, else none. A call has three threads at work (the host's, the
 * relay, the sandbox's); on two CPUs a spinning side takes the core another needs, and
 * calls took 100-140 us instead of 15-20 over the FIFOs (bench/process.mjs).
 */
export const RING_SPIN_MS = availableParallelism() >= 4 ? 0.05 : 0;

/** Indices of the shared Int32 words (exported for the hostile-sandbox tests). */
export const RING_WORDS = Object.freeze({ DOWN_WRITTEN: 16, DOWN_READ: 17, UP_WRITTEN: 32, UP_READ: 33, SANDBOX_PARKED: 48, HOST_PARKED: 49, SANDBOX_SPIN_US: 64 });
const { DOWN_WRITTEN, DOWN_READ, UP_WRITTEN, UP_READ, SANDBOX_PARKED, HOST_PARKED, SANDBOX_SPIN_US } = RING_WORDS;
/** The most a host may ask a sandbox to spin, in microseconds. */
export const MAX_SANDBOX_SPIN_US = 1000;
const MASK = RING_CAPACITY - 1;
/** Values of a parked word: what its side waits for, or that it was rung. */
const RUNNING = 0;
const WANTS_BYTES = 1;
const RUNG = 2;
const WANTS_ROOM = 3;
const BELL = new Uint8Array([1]);
const EMPTY = new Uint8Array(0);

/**
 * Refuses a frame length out of range.
 * SECURITY: checked before allocating, so a hostile length cannot make the host allocate.
 */
function checkLength(length: number, limit: number): void {
  if (length < 1 || length > limit) throw violation(`a frame of ${length} bytes (limit ${limit})`, { length, limit });
}

export { sharedMemory, type SharedMemoryModule } from '../../abi/shared-memory.js';

/** One side of a ring channel. See the module comment. */
export class RingChannel implements FrameChannel {
  readonly #words: Int32Array;
  readonly #in: Uint8Array;
  readonly #out: Uint8Array;
  /** The same rings, for reading and writing a frame's words in place. */
  readonly #inView: DataView;
  readonly #outView: DataView;
  readonly #inWritten: number;
  readonly #inRead: number;
  readonly #outWritten: number;
  readonly #outRead: number;
  readonly #parked: number;
  readonly #peerParked: number;
  readonly #bell: number;
  readonly #ring: number;
  readonly #host: boolean;
  readonly #spinMs: number;
  readonly #spare = Buffer.allocUnsafe(64);
  /**
   * Bytes this side has written to its out ring [0] and read from its in ring [1] (mod
   * 2^32): never read back from the shared page. On the host's side they may live in
   * memory shared by the host's own threads only (the relay and the host thread's
   * direct path, direct.ts, which take turns through the pool slot).
   */
  readonly #cursor: Int32Array;
  readonly #idle: ((bell: number) => void) | undefined;
  /** This side rang its peer awake since its last wait. */
  #woke = false;

  /**
   * @param memory the shared mapping ({@link RING_BYTES})
   * @param side whose side this is: the host's checks every word of the sandbox's
   * @param bell the FIFO this side's doorbell rings on (read end, blocking)
   * @param ring the FIFO of the other side's doorbell (write end; a full one is never waited for)
   * @param cursor this side's positions ({@link RingChannel.cursorBytes}), shared by the host's threads that take turns on the channel; default: private
   * @param idle run before each blocking wait on the doorbell (the sandbox's idle collection: idle-memory.ts)
   */
  constructor(memory: ArrayBuffer, side: 'host' | 'sandbox', bell: number, ring: number, cursor?: SharedArrayBuffer, idle?: (bell: number) => void) {
    if (memory.byteLength !== RING_BYTES) throw new Error(`ring: expected ${RING_BYTES} bytes of shared memory, found ${memory.byteLength}`);
    this.#host = side === 'host';
    this.#spinMs = RING_SPIN_MS;
    this.#words = new Int32Array(memory, 0, 1024);
    const down = new Uint8Array(memory, 4096, RING_CAPACITY);
    const up = new Uint8Array(memory, 4096 + RING_CAPACITY, RING_CAPACITY);
    [this.#in, this.#out] = this.#host ? [up, down] : [down, up];
    this.#inView = new DataView(this.#in.buffer, this.#in.byteOffset, RING_CAPACITY);
    this.#outView = new DataView(this.#out.buffer, this.#out.byteOffset, RING_CAPACITY);
    [this.#inWritten, this.#inRead, this.#outWritten, this.#outRead] = this.#host ? [UP_WRITTEN, UP_READ, DOWN_WRITTEN, DOWN_READ] : [DOWN_WRITTEN, DOWN_READ, UP_WRITTEN, UP_READ];
    [this.#parked, this.#peerParked] = this.#host ? [HOST_PARKED, SANDBOX_PARKED] : [SANDBOX_PARKED, HOST_PARKED];
    this.#bell = bell;
    this.#ring = ring;
    this.#cursor = new Int32Array(cursor ?? new ArrayBuffer(RingChannel.cursorBytes), 0, 2);
    this.#idle = idle;
  }

  /** Bytes of a cursor shared by host threads: the two positions, then the id of the last job sent (call-ids.ts). */
  static readonly cursorBytes = 12;

  get #written(): number {
    return this.#cursor[0] as number;
  }

  set #written(value: number) {
    this.#cursor[0] = value;
  }

  get #read(): number {
    return this.#cursor[1] as number;
  }

  set #read(value: number) {
    this.#cursor[1] = value;
  }

  /** Asks the sandbox to spin `us` microseconds (at most {@link MAX_SANDBOX_SPIN_US}) on the shared words before it parks. Host side only. */
  setSandboxSpin(us: number): void {
    if (this.#host) Atomics.store(this.#words, SANDBOX_SPIN_US, Math.max(0, Math.min(MAX_SANDBOX_SPIN_US, Math.round(us))));
  }

  /**
   * Says that this side waits for bytes, without sleeping here: the host thread waits for
   * its doorbell in its event loop instead (direct.ts); {@link unpark} when it wakes.
   * @returns false when bytes came meanwhile (then it is not parked)
   * @throws what a bad sequence word throws (host side: a protocol violation)
   */
  parkForBytes(): boolean {
    Atomics.exchange(this.#words, this.#parked, WANTS_BYTES);
    if (this.#available() === 0) return true;
    this.unpark();
    return false;
  }

  /** Ends a wait {@link parkForBytes} began. */
  unpark(): void {
    Atomics.store(this.#words, this.#parked, RUNNING);
  }

  /** True when a frame of `bytes` fits in the out ring now. @throws what a bad read position throws (host side: a protocol violation) */
  fits(bytes: number): boolean {
    return this.#room() >= bytes;
  }

  /**
   * The length prefix and kind of the next frame, once its first five bytes are in the in
   * ring (each byte read once: the other side may change them after); never waits, takes nothing.
   * @throws what a bad sequence word throws (host side: a protocol violation)
   */
  peek(): { readonly length: number; readonly kind: number } | undefined {
    if (this.#available() < 5) return undefined;
    return { length: this.#u32(0), kind: this.#in[(this.#read + 4) & MASK] as number };
  }

  /**
   * What `use` makes of the next frame, when the whole frame is in the in ring and `use`
   * returns something for it; else undefined, with nothing consumed. Never waits. The
   * frame is copied out and decoded before `use` sees it, and taken (the read position
   * moved) only when `use` returns a value.
   * @throws what a bad sequence word, a malformed frame or `use` throws (nothing taken)
   */
  tryRead<T>(use: (frame: Frame) => T | undefined, limit: number = MAX_FRAME_BYTES): T | undefined {
    const available = this.#available();
    if (available < 5) return undefined;
    const length = this.#u32(0);
    if (length < 1 || length > limit || available < 4 + length) return undefined;
    const used = use(this.#decode(length));
    if (used === undefined) return undefined;
    this.#advance(4 + length);
    return used;
  }

  /**
   * The little-endian u32 `skip` bytes past the read position (which the caller knows are
   * in the ring), its four bytes read once each, in place (a frame's length prefix).
   */
  #u32(skip: number): number {
    const at = this.#read + skip;
    const bytes = this.#in;
    return ((bytes[at & MASK] as number) | ((bytes[(at + 1) & MASK] as number) << 8) | ((bytes[(at + 2) & MASK] as number) << 16)) + (bytes[(at + 3) & MASK] as number) * 2 ** 24;
  }

  /**
   * Decodes the frame body of `length` bytes after the length prefix at the read position
   * (the caller knows it is all in the ring): in place when it lies in one piece, its
   * payload copied out (wire.ts decodeFrameAt reads every byte once); else copied out
   * whole first, as it wraps around the ring's end.
   */
  #decode(length: number): Frame {
    const at = (this.#read + 4) & MASK;
    return at + length <= RING_CAPACITY ? decodeFrameAt(this.#inView, this.#in, at, length, true) : decodeFrame(this.#copy(4, length));
  }

  /** Takes `count` bytes read in place: moves and publishes the read position, and wakes a peer waiting for room. */
  #advance(count: number): void {
    this.#read = (this.#read + count) >>> 0;
    Atomics.exchange(this.#words, this.#inRead, this.#read | 0);
    this.#notify(WANTS_ROOM);
  }

  /** `length` bytes of the in ring from `skip` bytes past the read position, copied out. */
  #copy(skip: number, length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length);
    const at = (this.#read + skip) & MASK;
    const first = Math.min(length, RING_CAPACITY - at);
    bytes.set(this.#in.subarray(at, at + first), 0);
    if (length > first) bytes.set(this.#in.subarray(0, length - first), first);
    return bytes;
  }

  /**
   * Reads the next frame, waiting for it: decoded in place when it is whole in the ring
   * already (the usual case: frames are small), else taken piece by piece.
   * @throws FO_SANDBOX_PROTOCOL_VIOLATION (host side); ChannelClosed
   */
  read(limit: number = MAX_FRAME_BYTES): Frame {
    const available = this.#available();
    if (available < 4) return this.#readLength(this.#take(4).readUInt32LE(0), limit);
    const length = this.#u32(0);
    if (available < 4 + length) {
      this.#advance(4);
      return this.#readLength(length, limit);
    }
    checkLength(length, limit);
    const frame = this.#decode(length);
    this.#advance(4 + length);
    return frame;
  }

  /** Reads the body of a frame whose length prefix was taken, waiting for it. */
  #readLength(length: number, limit: number): Frame {
    checkLength(length, limit);
    return decodeFrame(this.#take(length));
  }

  /**
   * Encodes and writes a frame: straight into the out ring when it has room for it in one
   * piece now (no frame built apart, no copy but the payload's), else as {@link write}.
   * @throws ChannelClosed; what a bad read position throws (host side: a protocol violation)
   */
  send(kind: number, ints: readonly number[], bigs: readonly bigint[], payload: Uint8Array = EMPTY): void {
    const total = frameBytes(kind, ints, bigs, payload.length);
    const at = this.#written & MASK;
    if (at + total > RING_CAPACITY || this.#room() < total) return this.write(encodeFrame(kind, ints, bigs, payload));
    encodeFrameAt(this.#outView, this.#out, at, kind, ints, bigs, payload, total);
    this.#written = (this.#written + total) >>> 0;
    Atomics.exchange(this.#words, this.#outWritten, this.#written | 0);
    this.#notify(WANTS_BYTES);
  }

  /** Writes a whole frame, waiting for room as the other side reads. @throws ChannelClosed */
  write(frame: Uint8Array): void {
    let offset = 0;
    while (offset < frame.length) {
      let room = this.#room();
      if (room === 0) {
        this.#wait(() => this.#room() > 0, WANTS_ROOM);
        room = this.#room();
      }
      const count = Math.min(room, frame.length - offset);
      const at = this.#written & MASK;
      const first = Math.min(count, RING_CAPACITY - at);
      this.#out.set(frame.subarray(offset, offset + first), at);
      if (count > first) this.#out.set(frame.subarray(offset + first, offset + count), 0);
      this.#written = (this.#written + count) >>> 0;
      Atomics.exchange(this.#words, this.#outWritten, this.#written | 0);
      this.#notify(WANTS_BYTES);
      offset += count;
    }
  }

  /** Copies `length` bytes out of the in ring, waiting for them. */
  #take(length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      let available = this.#available();
      if (available === 0) {
        this.#wait(() => this.#available() > 0, WANTS_BYTES);
        available = this.#available();
      }
      const count = Math.min(available, length - got);
      const at = this.#read & MASK;
      const first = Math.min(count, RING_CAPACITY - at);
      bytes.set(this.#in.subarray(at, at + first), got);
      if (count > first) bytes.set(this.#in.subarray(0, count - first), got + first);
      this.#advance(count);
      got += count;
    }
    return bytes;
  }

  /** Bytes the other side has written and this side not read yet. */
  #available(): number {
    const available = ((Atomics.load(this.#words, this.#inWritten) >>> 0) - this.#read) >>> 0;
    if (available > RING_CAPACITY) throw this.#broken(`claims ${available} unread bytes in a ring of ${RING_CAPACITY}`);
    return available;
  }

  /** Room left in the out ring. */
  #room(): number {
    const unread = (this.#written - (Atomics.load(this.#words, this.#outRead) >>> 0)) >>> 0;
    if (unread > RING_CAPACITY) throw this.#broken(`claims to have read ${unread} bytes past what was written to it`);
    return RING_CAPACITY - unread;
  }

  #broken(what: string): Error {
    return this.#host ? violation(`the shared ring ${what}`) : new Error(`ring: the host ${what}`);
  }

  /** Spins, then parks on the doorbell saying what it waits for (`reason`), until `ready()`. */
  #wait(ready: () => boolean, reason: number): void {
    // A peer just rung awake is likely queued on this CPU (a pipe write is a sync wake-up): spinning would hold it off.
    const woke = this.#woke;
    this.#woke = false;
    const spinMs = this.#host || woke ? this.#spinMs : Math.max(this.#spinMs, Math.min(MAX_SANDBOX_SPIN_US, Atomics.load(this.#words, SANDBOX_SPIN_US)) / 1000);
    const until = performance.now() + spinMs;
    for (let round = 1; !ready(); round += 1) {
      if ((round & 63) !== 0 || performance.now() < until) continue;
      Atomics.exchange(this.#words, this.#parked, reason);
      if (!ready()) this.#sleep();
      Atomics.store(this.#words, this.#parked, RUNNING);
    }
  }

  /** Blocks on the doorbell FIFO until at least one byte (or its end) arrives. */
  #sleep(): void {
    this.#idle?.(this.#bell);
    for (;;) {
      const got = readBell(this.#bell, this.#spare);
      if (got === 0) throw new ChannelClosed();
      if (got > 0) return;
    }
  }

  /**
   * Rings the other side when it has parked waiting for what this side just made (bytes
   * or room), once per parking: a reader that frees room does not wake a peer that waits
   * for bytes (each spurious wake-up is two context switches).
   */
  #notify(made: number): void {
    if (Atomics.load(this.#words, this.#peerParked) !== made || Atomics.compareExchange(this.#words, this.#peerParked, made, RUNG) !== made) return;
    this.#woke = true;
    for (;;) {
      try {
        writeSync(this.#ring, BELL, 0, 1);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A full doorbell FIFO (a non-blocking end) has rings the other side has not read yet: it will wake.
        if (code === 'EAGAIN') return;
        if (code === 'EINTR') continue;
        throw new ChannelClosed();
      }
    }
  }
}
