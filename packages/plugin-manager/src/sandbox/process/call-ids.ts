/**
 * Call ids: the host numbers the jobs it sends to a sandbox (JOB frames carry the
 * number), and the DONE that ends a job must echo it (relay.ts, direct.ts).
 */

/**
 * The id of the last job the host sent to a sandbox (JOB frames carry it; the sandbox
 * echoes it in the DONE that ends the job). The host's threads that take turns on one
 * sandbox (the relay and the direct path) count in the same word: the third of the ring's
 * cursor (ring.ts RingChannel.cursorBytes), or a private one for the FIFOs.
 */
export class CallIds {
  readonly #last: Int32Array;

  constructor(cursor?: SharedArrayBuffer) {
    this.#last = cursor === undefined ? new Int32Array(1) : new Int32Array(cursor, 8, 1);
  }

  /** The id of the job sent last. */
  get last(): number {
    return this.#last[0] as number;
  }

  /** A new id for a job about to be sent (wrapping at 2^31). */
  next(): number {
    const id = ((this.#last[0] as number) + 1) | 0;
    this.#last[0] = id;
    return id;
  }
}
