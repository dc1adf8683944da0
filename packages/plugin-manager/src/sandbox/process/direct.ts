/**
 * The host thread's own way into a sandbox for plain calls, past the relay thread.
 *
 * Through the relay (relay.ts) a call wakes three threads: the host's, the relay, the
 * sandbox's. On two CPUs one of them always waits for a core, and each wake-up costs
 * 10-20 us. So when the relay has nothing to pass on first, the host thread writes a
 * call's JOB frame into the shared ring (ring.ts) itself, spins for the answer while the
 * pool would (LaneEnv.fastWaitMs), and takes a DONE itself: two threads at work, both
 * spinning, no kernel wake-up when calls follow each other.
 *
 * Everything else stays the relay's. Whenever the sandbox answers with anything but a
 * well-formed DONE (telemetry, a host request, a trace, a frame the checks refuse, bytes
 * the ring's words do not account for) or has not answered when the spin ends, the host
 * thread hands the call over: the relay is told (OP.ADOPT in the slot) to read the call's
 * frames from where the host thread stopped, with every check of the relay and its
 * protocol-violation handling. The host thread consumes nothing it has not accepted, so a
 * hostile sandbox gains nothing here: it meets the relay's checks on the same bytes.
 *
 * Turns. The relay touches the channel only while the slot holds a job it was given
 * (REQUEST and on); the host thread sends only when the slot is IDLE and leaves it IDLE
 * (the relay sleeps on), and ends its turn with DONE (its answer) or REQUEST (a hand-over),
 * both published with the slot's atomics. The read and write positions live in a cursor
 * shared by these two threads only (never in the sandbox's memory).
 */
import { openSync, closeSync, constants } from 'node:fs';
import { Socket } from 'node:net';
import { FLAG, OP, STATE, STATUS, type RequestWords, type Slot } from '../pool-protocol.js';
import type { DirectCalls, DirectSink } from '../pool-worker-handle.js';
import { checkJobError } from './child-input.js';
import { CallIds } from './call-ids.js';
import { RING_BYTES, RING_CAPACITY, RING_WORDS, RingChannel, sharedMemory, type SharedMemoryModule } from './ring.js';
import { KIND, jobFlags, frameBytes, readBell, type Frame } from './wire.js';

/** Largest payload a call may carry to take the direct path (a larger one goes through the relay). */
export const DIRECT_MAX_PAYLOAD = 64 * 1024;
/** Wake-ups of the event loop one call may take without its answer before it is handed to the relay. */
export const DIRECT_MAX_WAKES = 16;
/** How long the sandbox spins for its next frame after an answer, in us: calls in a row then find it running. */
export const DIRECT_SANDBOX_SPIN_US = 50;


/** Synchronous calls in progress on this thread ({@link inSyncCall}). */
let syncCalls = 0;

/**
 * Runs `call`, a synchronous call (`callSync`), marked as one: while it waits, a direct
 * path that had to ring its sandbox awake does not spin (see {@link DirectPath.poll}).
 */
export function inSyncCall<T>(call: () => T): T {
  syncCalls += 1;
  try {
    return call();
  } finally {
    syncCalls -= 1;
  }
}

/** Calls a direct path sent: answered by the host thread, or handed to the relay. */
export interface DirectCounts {
  readonly answered: number;
  readonly handedOver: number;
}

/** The host thread's side of one sandbox's ring. See the module comment. */
export class DirectPath implements DirectCalls {
  readonly #channel: RingChannel;
  /** The ring's shared words, for the sandbox's parked word only (untrusted: a hint for how to wait, never for what to accept). */
  readonly #words: Int32Array;
  /** The call in flight had to ring the sandbox awake: it was parked when the JOB was sent. */
  #rang = false;
  readonly #bell: number;
  /** The host's doorbell FIFO (read end), reopened for each wait in the event loop. */
  readonly #fromSandbox: number;
  /** The same FIFO, non-blocking, for synchronous waits ({@link waitSync}): polled, then emptied. */
  readonly #syncBell: number;
  readonly #memory: SharedMemoryModule;
  readonly #spare = Buffer.allocUnsafe(64);
  /** Ids of the jobs sent, counted with the relay (call-ids.ts). */
  readonly #calls: CallIds;
  /** The wait in the event loop for the call in flight, if any. */
  #waiter: { readonly socket: Socket | undefined; readonly sink: DirectSink; readonly done: () => void } | undefined;
  #inFlight = false;
  #closed = false;
  /** The next call goes through the relay, which has a message for the sandbox first. */
  #relayNext = false;
  #answered = 0;
  #handedOver = 0;

  private constructor(channel: RingChannel, words: Int32Array, bell: number, fromSandbox: number, syncBell: number, memory: SharedMemoryModule, calls: CallIds) {
    this.#channel = channel;
    this.#words = words;
    this.#bell = bell;
    this.#fromSandbox = fromSandbox;
    this.#syncBell = syncBell;
    this.#memory = memory;
    this.#calls = calls;
  }

  /**
   * Maps the sandbox's ring on the host thread. `toSandbox` is reopened non-blocking, so
   * that a sandbox which never reads its doorbell cannot block the host thread.
   * @returns undefined when the ring or the doorbell cannot be had (calls then go through the relay)
   */
  static open(memfd: number, fromSandbox: number, toSandbox: number, cursor: SharedArrayBuffer): DirectPath | undefined {
    const memory = sharedMemory();
    if (memory === undefined) return undefined;
    let bell: number | undefined;
    let syncBell: number | undefined;
    try {
      bell = openSync(`/proc/self/fd/${toSandbox}`, constants.O_WRONLY | constants.O_NONBLOCK);
      syncBell = openSync(`/proc/self/fd/${fromSandbox}`, constants.O_RDONLY | constants.O_NONBLOCK);
      // The host thread never sleeps in a blocking read of its doorbell (it waits in its event loop, or in poll(2)), so the channel's blocking read end is the relay's.
      const mapping = memory.map(memfd, RING_BYTES);
      const channel = new RingChannel(mapping, 'host', fromSandbox, bell, cursor);
      channel.setSandboxSpin(DIRECT_SANDBOX_SPIN_US);
      return new DirectPath(channel, new Int32Array(mapping, 0, 1024), bell, fromSandbox, syncBell, memory, new CallIds(cursor));
    } catch {
      if (bell !== undefined) closeSync(bell);
      if (syncBell !== undefined) closeSync(syncBell);
      return undefined;
    }
  }

  /** What became of the calls sent here so far. */
  get counts(): DirectCounts {
    return { answered: this.#answered, handedOver: this.#handedOver };
  }

  /** True while a call sent by the host thread has neither been answered to it nor handed over. */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /**
   * Sends a call's JOB frame when the slot is idle and the frame fits in the ring now.
   * @returns false when it did not (the caller goes through the relay)
   */
  send(slot: Slot, request: RequestWords, payload: Uint8Array): boolean {
    if (this.#relayNext) {
      this.#relayNext = false;
      return false;
    }
    if (this.#closed || this.#inFlight || slot.state !== STATE.IDLE || payload.length > DIRECT_MAX_PAYLOAD) return false;
    const ints = [request.op, request.plugin, request.name, jobFlags(request.trace === true, request.cpu ?? -1), 0];
    const bigs = [request.fuel ?? 0n];
    // Kept for a hand-over: the relay needs the plugin the call is for.
    slot.writeRequest({ ...request, op: OP.ADOPT, length: 0 });
    this.#rang = false;
    try {
      if (!this.#channel.fits(frameBytes(KIND.JOB, ints, bigs, payload.length))) return false;
      ints[4] = this.#calls.next();
      // Encoded straight into the ring (ring.ts send): no frame is built apart.
      this.#channel.send(KIND.JOB, ints, bigs, payload);
      // Not running once the JOB is published: it was parked, and send rang it (ring.ts #notify).
      this.#rang = Atomics.load(this.#words, RING_WORDS.SANDBOX_PARKED) !== 0;
    } catch {
      // The sandbox claims a read position past what was written, or it is gone: the call
      // is in flight all the same, and the relay it is handed to finds out.
    }
    this.#inFlight = true;
    return true;
  }

  /**
   * Takes the call's answer if it has come: a DONE that passes the relay's checks is
   * written into `sink`, the slot set to DONE (not notified: only the host thread waits
   * on it now). Anything else first (left in the ring, unread) hands the call over; so
   * does no answer by `until` (performance.now() ms), unless `keep`: the call then stays
   * in flight, for {@link whenAnswered}.
   *
   * Inside a synchronous call ({@link inSyncCall}) whose JOB had to ring the sandbox
   * awake, it looks once and does not spin: the caller then waits in poll(2)
   * ({@link waitSync}), off its core. A doorbell is a FIFO write, a "sync" wake-up, which
   * tends to queue the sandbox on this thread's own core; spinning there held the sandbox
   * off for the whole spin, and every call took the spin plus a wake-up (callSync
   * median 66-73 us against 23-32 us without the spin, load average 8-9: docs/sandbox.md).
   * @returns true when the answer was taken
   */
  poll(sink: DirectSink, until: number, keep = false): boolean {
    if (keep && syncCalls > 0 && this.#rang) {
      const step = this.#step(sink);
      if (step === 'other') this.handOff(sink.slot);
      return step === 'answered';
    }
    for (let round = 0; ; round += 1) {
      // The clock is read before the ring, so that an answer that came while this thread
      // was off its core (preempted, or `until` already past) is still taken, not handed over.
      const late = (round & 63) === 63 && performance.now() >= until;
      const step = this.#step(sink);
      if (step === 'answered') return true;
      if (step === 'other' || late) {
        if (step === 'other' || !keep) this.handOff(sink.slot);
        return false;
      }
    }
  }

  /**
   * Calls `done` once the call in flight is answered here (into `sink`) or handed over,
   * waiting in the event loop meanwhile: this side parks on the ring and a non-blocking
   * descriptor of its doorbell FIFO wakes the loop when the sandbox rings, so that no
   * other thread wakes for the call. `done` may run before this returns.
   */
  whenAnswered(sink: DirectSink, done: () => void, wakes = 0): void {
    for (;;) {
      const step = this.#step(sink);
      // SECURITY: a sandbox that rings without answering (or a closed doorbell) would keep the
      // event loop busy; past DIRECT_MAX_WAKES the relay's thread waits for it instead.
      if (step === 'other' || (step === 'none' && wakes > DIRECT_MAX_WAKES)) this.handOff(sink.slot);
      if (step !== 'none' || wakes > DIRECT_MAX_WAKES) return done();
      let parked: boolean;
      try {
        parked = this.#channel.parkForBytes();
      } catch {
        this.handOff(sink.slot); // a word the checks refuse: the relay reads it again, and says so
        return done();
      }
      if (!parked) continue;
      let socket: Socket | undefined;
      try {
        socket = new Socket({ fd: openSync(`/proc/self/fd/${this.#fromSandbox}`, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
      } catch {
        this.#channel.unpark();
        this.handOff(sink.slot); // no descriptor to wait on: the relay waits instead
        return done();
      }
      const waiter = { socket, sink, done };
      this.#waiter = waiter;
      socket.unref();
      const wake = (): void => {
        if (this.#waiter !== waiter) return;
        this.#endWait();
        this.whenAnswered(sink, done, wakes + 1);
      };
      socket.once('data', wake);
      socket.once('close', wake); // the sandbox is gone: the next step finds out, or hands over
      socket.on('error', () => undefined);
      return;
    }
  }

  /**
   * Waits for the answer of the call in flight blocking the host thread, until `until`
   * (performance.now() ms), for a synchronous call, which cannot wait in the event loop:
   * parked on the ring, in poll(2) on the doorbell FIFO, so that only this thread wakes
   * when the sandbox answers (handing the call over instead woke the relay, which then
   * woke this thread: two wake-ups, and the relay's spin on a core the sandbox needs).
   * Anything but an answer hands the call over as {@link poll} does, and so does `until`
   * passing (the caller then times the call out), or a sandbox ringing more than
   * {@link DIRECT_MAX_WAKES} times without answering, or its doorbell closing.
   * @returns true when the answer was taken
   */
  waitSync(sink: DirectSink, until: number): boolean {
    for (let wakes = 0; ; ) {
      const step = this.#step(sink);
      if (step === 'answered') return true;
      const left = until - performance.now();
      if (step === 'other' || left <= 0 || wakes > DIRECT_MAX_WAKES) break;
      let parked: boolean;
      try {
        parked = this.#channel.parkForBytes();
      } catch {
        break; // a word the checks refuse: the relay reads it again, and says so
      }
      if (!parked) continue;
      const rang = this.#memory.waitReadable(this.#syncBell, Math.ceil(left));
      this.#channel.unpark();
      if (!rang) continue;
      wakes += 1;
      if (!this.#emptyBell()) break; // the sandbox closed its end: the relay finds out
    }
    this.handOff(sink.slot);
    return false;
  }

  /** Reads the doorbell bytes waiting on the FIFO. @returns false at its end (the sandbox is gone) */
  #emptyBell(): boolean {
    for (;;) {
      const got = readBell(this.#syncBell, this.#spare);
      if (got === 0) return false;
      if (got < this.#spare.length) return true; // -1: empty now
    }
  }

  /** One look at the ring: the answer taken, a frame for the relay, or nothing yet. */
  #step(sink: DirectSink): 'answered' | 'other' | 'none' {
    let other = false;
    try {
      const head = this.#channel.peek();
      // Anything but a DONE that fits in the ring whole is the relay's (a larger one streams through in pieces).
      other = head !== undefined && (head.kind !== KIND.DONE || head.length < 1 || head.length > RING_CAPACITY - 4);
      const answer = other
        ? undefined
        : this.#channel.tryRead((frame) => {
            const checked = checkDone(frame, this.#calls.last);
            other = checked === undefined;
            return checked;
          }, RING_CAPACITY - 4);
      if (answer !== undefined) {
        this.#write(sink, answer);
        return 'answered';
      }
    } catch {
      other = true; // a word or frame the checks refuse: the relay reads it again, and says so
    }
    return other ? 'other' : 'none';
  }

  /** Ends a wait in the event loop: no more doorbells read here (later ones are the relay's), not parked. */
  #endWait(): { readonly done: () => void } | undefined {
    const waiter = this.#waiter;
    if (waiter === undefined) return undefined;
    this.#waiter = undefined;
    waiter.socket?.destroy();
    this.#channel.unpark();
    return waiter;
  }

  /** Gives the call in flight to the relay (OP.ADOPT, written when it was sent); a wait in the event loop for it ends, and is told. */
  handOff(slot: Slot): void {
    if (!this.#inFlight) return;
    const waiter = this.#endWait();
    this.#inFlight = false;
    this.#handedOver += 1;
    slot.signal(STATE.REQUEST);
    if (waiter !== undefined) queueMicrotask(waiter.done);
  }

  /** Sends the next call through the relay: it has something to tell the sandbox first (the audit log's state). */
  relayNext(): void {
    this.#relayNext = true;
  }

  /** Stops sending (the sandbox is being replaced); a call in flight is the caller's to hand over. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endWait();
    closeSync(this.#bell);
    closeSync(this.#syncBell);
  }

  #write(sink: DirectSink, answer: Answer): void {
    const slot = sink.slot;
    sink.stash(answer.payload);
    slot.writeAnswer({ status: answer.status, length: -1, fuel: answer.fuel, charge: answer.charge });
    slot.elapsedUs = answer.elapsedUs;
    slot.memoryBytes = answer.pages * 65_536;
    slot.flags = answer.flags;
    this.#inFlight = false;
    this.#answered += 1;
    slot.settle(STATE.DONE);
    // Taken by a synchronous wait while a wait in the event loop was registered: that one ends, and is told.
    const waiter = this.#endWait();
    if (waiter !== undefined) queueMicrotask(waiter.done);
  }
}

/** A checked DONE. */
interface Answer {
  readonly status: number;
  readonly flags: number;
  readonly elapsedUs: number;
  readonly pages: number;
  readonly fuel: bigint;
  readonly charge: bigint;
  readonly payload: Uint8Array;
}

/**
 * A DONE frame of job `call` as the relay checks it (relay.ts #relayJob, #done); undefined for any other frame or
 * a DONE those checks refuse, which the host thread leaves to the relay.
 * @throws what checking a job error throws (nothing is taken then either)
 */
function checkDone(frame: Frame, call: number): Answer | undefined {
  if (frame.kind !== KIND.DONE) return undefined;
  const [status = 0, flags = 0, elapsedUs = 0, pages = 0, id] = frame.ints;
  const valid = id === call && (status === STATUS.OK || status === STATUS.ERROR || status === STATUS.NONE) && (flags & ~(FLAG.POISONED | FLAG.RECREATED)) === 0 && pages >= 0 && pages <= 65_536 && elapsedUs >= 0;
  if (!valid) return undefined;
  const payload = status === STATUS.ERROR ? checkJobError(frame.payload) : frame.payload;
  return { status, flags, elapsedUs, pages, fuel: frame.bigs[0] ?? 0n, charge: frame.bigs[1] ?? 0n, payload };
}
