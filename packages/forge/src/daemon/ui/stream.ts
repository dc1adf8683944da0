/**
 * Long-lived API responses read line by line: the event stream (Server-Sent Events) and
 * followed plugin logs (NDJSON). EventSource cannot send an Authorization header, so
 * both are read with fetch() and a stream reader, and reconnect by themselves with
 * exponential backoff (1 s doubling to 30 s, with jitter so many tabs do not return in
 * step) after the daemon restarts or the network drops.
 */
import { ApiError, describe, isMissing, type Api } from './api.js';

/** What a stream is doing, for its panel's status line. */
export type StreamStatus =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'open' }
  | { readonly kind: 'retrying'; readonly inMs: number; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string }
  | { readonly kind: 'stopped' };

/** What a {@link LiveStream} reads. */
export interface StreamOptions {
  readonly api: Api;
  /** Path and query, e.g. `/v1/events?types=lifecycle,audit`. */
  readonly path: string;
  readonly accept: string;
  /** Each line of the body, without its line ending. */
  readonly onLine: (line: string) => void;
  readonly onStatus: (status: StreamStatus) => void;
  /** Called each time a connection opens (before its first line). */
  readonly onOpen?: () => void;
  /** First and largest wait before reconnecting, in ms (defaults 1000 and 30000). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** How long a connection must have lasted for the next wait to start again at the first delay, in ms. */
const HEALTHY_MS = 10_000;

/** A line longer than this (1 MiB) ends the connection: the daemon never sends one. */
const MAX_LINE = 1 << 20;

/** Reads `body` to its end, calling `onLine` with each line (LF or CRLF). */
export async function readLines(body: ReadableStream<Uint8Array> | null, onLine: (line: string) => void): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let start = 0;
    for (let end = buffer.indexOf('\n', start); end !== -1; end = buffer.indexOf('\n', start)) {
      const line = buffer.slice(start, end);
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = end + 1;
    }
    buffer = buffer.slice(start);
    if (buffer.length > MAX_LINE) throw new Error('the stream sent a line longer than 1 MiB');
  }
  buffer += decoder.decode();
  if (buffer !== '') onLine(buffer);
}

/**
 * A Server-Sent Events parser: feed it lines, it calls `onEvent` with each event's type
 * (`message` when unnamed) and data (its `data:` lines joined). Comments (`: ping`) are
 * dropped.
 */
export function sseParser(onEvent: (type: string, data: string) => void): (line: string) => void {
  let type = '';
  let data: string[] = [];
  return (line) => {
    if (line === '') {
      if (data.length > 0) onEvent(type === '' ? 'message' : type, data.join('\n'));
      type = '';
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  };
}

/** A stream that stays connected until stopped (see the module comment). */
export class LiveStream {
  readonly #options: StreamOptions;
  #controller: AbortController | undefined;
  #stopped = false;
  #started = false;
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: StreamOptions) {
    this.#options = options;
  }

  /** Connects (once). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#run();
  }

  /** Disconnects for good. */
  stop(): void {
    this.#stopped = true;
    this.#controller?.abort();
    this.#wakeUp();
    this.#options.onStatus({ kind: 'stopped' });
  }

  /** Ends the current connection and opens a new one after the first delay (the daemon said we fell behind). */
  reconnect(): void {
    this.#controller?.abort();
  }

  async #run(): Promise<void> {
    const min = this.#options.minDelayMs ?? 1000;
    const max = this.#options.maxDelayMs ?? 30_000;
    let delay = min;
    while (!this.#stopped) {
      const controller = new AbortController();
      this.#controller = controller;
      this.#options.onStatus({ kind: 'connecting' });
      let reason: string;
      let openedAt: number | undefined;
      try {
        const response = await this.#options.api.send('GET', this.#options.path, this.#options.accept, controller.signal);
        openedAt = Date.now();
        this.#options.onStatus({ kind: 'open' });
        this.#options.onOpen?.();
        await readLines(response.body, this.#options.onLine);
        reason = 'the daemon ended the stream';
      } catch (error) {
        if (this.#stopped) return;
        if (isMissing(error)) {
          this.#options.onStatus({ kind: 'unavailable', reason: describe(error) });
          return;
        }
        // A refused token logs the page out (api.ts); a role or request the daemon refuses will not change by retrying.
        if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
          this.#options.onStatus({ kind: 'failed', reason: describe(error) });
          return;
        }
        reason = controller.signal.aborted ? 'reconnecting' : describe(error);
      }
      if (this.#stopped) return;
      // A connection that held for a while was a good one: start the backoff again. One the
      // daemon keeps closing at once keeps backing off.
      if (openedAt !== undefined && Date.now() - openedAt >= HEALTHY_MS) delay = min;
      const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
      this.#options.onStatus({ kind: 'retrying', inMs: wait, reason });
      await this.#sleep(wait);
      delay = Math.min(max, delay * 2);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => this.#wakeUp(), ms);
    });
  }

  #wakeUp(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** A status as a short sentence. */
export function statusText(status: StreamStatus): string {
  switch (status.kind) {
    case 'connecting':
      return 'connecting\u2026';
    case 'open':
      return 'live';
    case 'retrying':
      return `reconnecting in ${Math.ceil(status.inMs / 1000)} s (${status.reason})`;
    case 'unavailable':
      return 'not available from this daemon';
    case 'failed':
      return `stopped: ${status.reason}`;
    case 'stopped':
      return 'stopped';
  }
}
