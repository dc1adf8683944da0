/**
 * Long-lived responses: a followed log (NDJSON) and the event stream (Server-Sent
 * Events). A stream takes its response over from fastify (`reply.hijack()`), writes
 * chunks as they come, sends a keep-alive chunk every `heartbeatMs`, and ends when the
 * client goes away, when the client falls too far behind, or when the daemon stops.
 *
 * SECURITY: a client cannot make the daemon buffer without bound. Chunks are handed to
 * the socket only while it takes them; while it does not (the client reads slowly, or
 * not at all), they wait in a queue of at most `maxQueued` chunks and `maxQueuedBytes`
 * bytes, and past either the client gets one last chunk saying so
 * (FO_DAEMON_STREAM_OVERFLOW) and the stream ends; a connection that does not take even
 * that within `lingerMs` is cut. At most `maxOpen` streams are open at once, every
 * client together (FO_DAEMON_TOO_MANY_STREAMS). Streams are exempt from the idle
 * timeout of ordinary requests (daemon.request_timeout): the heartbeat keeps
 * intermediaries from closing them, and a write to a vanished client ends them.
 */
import type { ServerResponse } from 'node:http';
import { ForgeError } from '@forgeone/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The bounds of streams. */
export interface StreamLimits {
  /** Most streams open at once, all clients together (default 64). */
  readonly maxOpen: number;
  /** Most chunks (events, log records) waiting for a slow client before its stream is ended (default 1,000). */
  readonly maxQueued: number;
  /** Most bytes waiting for a slow client before its stream is ended (default 4 MiB). */
  readonly maxQueuedBytes: number;
  /** Time between keep-alive chunks, in ms (default 15,000). */
  readonly heartbeatMs: number;
  /** How long an ended stream may take to deliver its last chunk before its connection is cut, in ms (default 2,000). */
  readonly lingerMs: number;
}

/** The defaults of {@link StreamLimits}. */
export const DEFAULT_STREAM_LIMITS: StreamLimits = Object.freeze({ maxOpen: 64, maxQueued: 1000, maxQueuedBytes: 4 * 1024 * 1024, heartbeatMs: 15_000, lingerMs: 2000 });

/** How one kind of stream is written. */
export interface StreamFormat {
  readonly contentType: string;
  /** The keep-alive chunk. */
  readonly heartbeat: string;
  /** The last chunk a client that fell behind gets. */
  overflow(error: ForgeError): string;
}

/** One open stream. */
export class Stream {
  readonly #raw: ServerResponse;
  readonly #format: StreamFormat;
  readonly #limits: StreamLimits;
  readonly #cleanups: (() => void)[] = [];
  readonly #heartbeat: NodeJS.Timeout;
  #queue: string[] = [];
  #queuedBytes = 0;
  #waiting = false;
  #ended = false;

  /** @internal Made by {@link Streams.open}. */
  constructor(raw: ServerResponse, format: StreamFormat, limits: StreamLimits, forget: () => void) {
    this.#raw = raw;
    this.#format = format;
    this.#limits = limits;
    this.#cleanups.push(forget);
    this.#heartbeat = setInterval(() => {
      if (!this.#waiting) this.send(format.heartbeat);
    }, limits.heartbeatMs);
    this.#heartbeat.unref();
    raw.on('close', () => this.#finish());
    // A write to a vanished client fails; 'close' follows and ends the stream.
    raw.on('error', () => undefined);
  }

  /** False once the stream has ended (the client left, fell behind, or the daemon stops). */
  get open(): boolean {
    return !this.#ended;
  }

  /** True while the client is not taking what was written (chunks are queued). */
  get behind(): boolean {
    return this.#waiting;
  }

  /** Runs `cleanup` (an unsubscribe) when the stream ends, however it ends. */
  onEnd(cleanup: () => void): void {
    if (this.#ended) cleanup();
    else this.#cleanups.push(cleanup);
  }

  /** Writes `chunk`, or queues it while the client is behind; ends the stream when the queue is full. */
  send(chunk: string): void {
    if (this.#ended) return;
    if (!this.#waiting) {
      if (!this.#raw.write(chunk)) this.#wait();
      return;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#queue.length > this.#limits.maxQueued || this.#queuedBytes > this.#limits.maxQueuedBytes) {
      const error = new ForgeError(
        'FO_DAEMON_STREAM_OVERFLOW',
        `the client fell behind by more than ${this.#limits.maxQueued} records or ${this.#limits.maxQueuedBytes} bytes; the stream ends here, reconnect to continue`,
        { details: { queued: this.#queue.length, queuedBytes: this.#queuedBytes } },
      );
      this.#queue = [];
      this.#queuedBytes = 0;
      this.end(this.#format.overflow(error));
    }
  }

  /** Ends the stream after `last`; a client that does not take it within lingerMs is cut off. */
  end(last?: string): void {
    if (this.#ended) return;
    this.#finish();
    this.#raw.end(last);
    if (!this.#raw.writableFinished) {
      const linger = setTimeout(() => this.#raw.destroy(), this.#limits.lingerMs);
      linger.unref();
      this.#raw.once('close', () => clearTimeout(linger));
    }
  }

  /** Cuts the connection now (the daemon stops and this client is not reading). */
  destroy(): void {
    this.#finish();
    this.#raw.destroy();
  }

  #wait(): void {
    this.#waiting = true;
    this.#raw.once('drain', () => this.#drain());
  }

  #drain(): void {
    this.#waiting = false;
    while (!this.#ended && this.#queue.length > 0) {
      const chunk = this.#queue.shift() as string;
      this.#queuedBytes -= chunk.length;
      if (!this.#raw.write(chunk)) {
        this.#wait();
        return;
      }
    }
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#heartbeat);
    this.#queue = [];
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }
}

/** Every open stream of a daemon, and their bounds. */
export class Streams {
  readonly limits: StreamLimits;
  readonly #open = new Set<Stream>();
  #closed = false;

  constructor(limits: Partial<StreamLimits> = {}) {
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Open streams whose client is not taking what is written (chunks wait in their queue). */
  get behind(): number {
    let count = 0;
    for (const stream of this.#open) if (stream.behind) count += 1;
    return count;
  }

  /**
   * Takes `reply` over and starts a stream on it (status 200, the format's type).
   * @throws ForgeError FO_DAEMON_TOO_MANY_STREAMS, FO_DAEMON_SHUTTING_DOWN (nothing is written then)
   */
  open(request: FastifyRequest, reply: FastifyReply, format: StreamFormat): Stream {
    if (this.#closed) throw new ForgeError('FO_DAEMON_SHUTTING_DOWN', 'the daemon is stopping and opens no new streams');
    if (this.#open.size >= this.limits.maxOpen) {
      throw new ForgeError('FO_DAEMON_TOO_MANY_STREAMS', `the daemon already serves ${this.#open.size} streams, its most; close one or retry later`, {
        details: { limit: this.limits.maxOpen },
      });
    }
    void reply.hijack();
    // Streams live longer than any request: the idle timeout of requests does not apply.
    request.raw.socket.setTimeout(0);
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': format.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'close' });
    raw.flushHeaders();
    const stream: Stream = new Stream(raw, format, this.limits, () => this.#open.delete(stream));
    this.#open.add(stream);
    return stream;
  }

  /** Ends every stream (cutting those whose client is not reading) and opens no more; for the daemon's stop. */
  closeAll(): void {
    this.#closed = true;
    for (const stream of [...this.#open]) {
      if (stream.behind) stream.destroy();
      else stream.end();
    }
  }
}
