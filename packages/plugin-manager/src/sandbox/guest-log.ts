/**
 * Everything a plugin logs, under one budget: its forge.log records and the lines it
 * writes to WASI stdout and stderr draw on the same token bucket, the `log` rate of its
 * host-call limits (syscall/limits.ts: 200 records a second, bursts of 1,000, by
 * default; `off` disables it for both). Without it a plugin could flood the host's log
 * through fd_write, which costs it one host call per line, as fast as forge.log could
 * before it was limited.
 *
 * - A stdout or stderr line over the limit is dropped, and counted. The guest's fd_write
 *   still succeeds (an error would make a well-meaning guest retry, and spin). When a
 *   line next gets through, and when the plugin stops (its `stop` step, or its instance
 *   is closed), the host gets one `warn` record with `source: "stdio"` and
 *   `suppressed: <count>`.
 * - forge.log over the limit is refused with FO_SYSCALL_RATE_LIMITED, as before.
 * - A line is at most {@link MAX_LINE_BYTES}: a longer one is cut there and logged at
 *   once with `truncated: true`, and the rest of it, up to its newline, is dropped, so a
 *   guest writing 100 MiB without a newline makes the host hold at most 4 KiB and log
 *   one record. Text is decoded as UTF-8 (invalid bytes become U+FFFD).
 */
import { createLogger, type LogFields, type Logger, type LogRecord } from '@forgeone/common';
import type { HostFunctionDefinition } from '../abi/index.js';
import type { FlushableOutput } from '../runtime/index.js';
import { TokenBucket, type RateLimit } from '../syscall/index.js';
// The forge.log definition around a bucket we own, so stdio can share it.
import { rateLimitedLog } from '../syscall/log.js';

/** The longest line logged whole, in bytes; longer ones are cut (default of the runtime's line output too). */
export const MAX_LINE_BYTES = 4096;

const NEWLINE = 10;
const decoder = new TextDecoder();

/** A plugin's log budget. See the module comment. Not thread-safe. */
export class GuestLog {
  readonly #logger: Logger;
  readonly #limit: RateLimit | 'off';
  readonly #bucket: TokenBucket | undefined;
  /** Made by the first {@link output} (WASI plugins only). */
  #outputs: LineOutput[] | undefined;
  /** stdout and stderr lines dropped since the last summary. */
  #suppressed = 0;

  /**
   * @param logger where records go (the plugin's)
   * @param limit the plugin's `log` rate
   * @param now monotonic clock, in ms (default performance.now)
   */
  constructor(logger: Logger, limit: RateLimit | 'off', now: () => number = () => performance.now()) {
    this.#logger = logger;
    this.#limit = limit;
    this.#bucket = limit === 'off' ? undefined : new TokenBucket(limit, now);
  }

  /** forge.log, drawing on the shared bucket (FO_SYSCALL_RATE_LIMITED past it). */
  forgeLog(): HostFunctionDefinition {
    return rateLimitedLog(this.#bucket, this.#limit);
  }

  /** The WASI output of `stream`: lines at `info` (stdout) or `warn` (stderr), `source` naming the stream. */
  output(stream: 'stdout' | 'stderr'): FlushableOutput {
    const output = new LineOutput((text, truncated) => this.#line(stream, text, truncated));
    (this.#outputs ??= []).push(output);
    return output;
  }

  /** Reports the lines dropped since the last report, if any (the plugin stopped). */
  reportSuppressed(): void {
    const suppressed = this.#suppressed;
    if (suppressed === 0) return;
    this.#suppressed = 0;
    const rate = this.#limit === 'off' ? {} : { perSecond: this.#limit.perSecond, burst: this.#limit.burst };
    this.#logger.warn(`the plugin's log rate limit dropped ${suppressed} lines it wrote to stdout and stderr`, { source: 'stdio', suppressed, ...rate });
  }

  /** Passes on unterminated lines and reports what was dropped. Call once the instance is done. */
  close(): void {
    for (const output of this.#outputs ?? []) output.flush();
    this.reportSuppressed();
  }

  #line(stream: 'stdout' | 'stderr', text: string, truncated: boolean): void {
    if (this.#bucket !== undefined && this.#bucket.take() !== 0) {
      this.#suppressed += 1;
      return;
    }
    this.reportSuppressed();
    const message = truncated ? `${text} [cut: the line was longer than ${MAX_LINE_BYTES} bytes]` : text;
    const fields = truncated ? { source: stream, truncated: true, maxLineBytes: MAX_LINE_BYTES } : { source: stream };
    if (stream === 'stdout') this.#logger.info(message, fields);
    else this.#logger.warn(message, fields);
  }
}

/**
 * Splits a stream into lines without ever holding more than {@link MAX_LINE_BYTES}: a
 * longer line is passed on cut, once, and the rest of it is skipped up to its newline.
 */
export class LineOutput implements FlushableOutput {
  readonly #onLine: (text: string, truncated: boolean) => void;
  readonly #line = new Uint8Array(MAX_LINE_BYTES);
  #length = 0;
  /** True while skipping the rest of a line that was cut. */
  #skipping = false;

  constructor(onLine: (text: string, truncated: boolean) => void) {
    this.#onLine = onLine;
  }

  /** Bytes held for the current line (at most {@link MAX_LINE_BYTES}). */
  get pendingBytes(): number {
    return this.#length;
  }

  write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, at);
      const end = newline === -1 ? bytes.length : newline;
      if (!this.#skipping) this.#take(bytes.subarray(at, end));
      if (newline === -1) return;
      if (!this.#skipping) this.#emit(false);
      this.#skipping = false;
      at = newline + 1;
    }
  }

  flush(): void {
    if (!this.#skipping && this.#length > 0) this.#emit(false);
    this.#skipping = false;
    this.#length = 0;
  }

  /** Appends part of a line; past the limit, passes the line on cut and skips the rest. */
  #take(part: Uint8Array): void {
    const room = MAX_LINE_BYTES - this.#length;
    this.#line.set(part.subarray(0, room), this.#length);
    this.#length += Math.min(room, part.length);
    if (part.length > room) {
      this.#emit(true);
      this.#skipping = true;
    }
  }

  #emit(truncated: boolean): void {
    const text = decoder.decode(this.#line.subarray(0, this.#length));
    this.#length = 0;
    this.#onLine(text, truncated);
  }
}

/**
 * createLogger(sink, 'trace') as a class: the same records, but its methods live on the
 * prototype, so each of thousands of hosted plugins holds one small object rather than
 * seven closures.
 */
export class SinkLogger implements Logger {
  readonly #sink: (record: LogRecord) => void;

  constructor(sink: (record: LogRecord) => void) {
    this.#sink = sink;
  }

  trace(message: string, fields: LogFields = {}): void {
    this.#sink({ level: 'trace', message, fields: { ...fields }, time: Date.now() });
  }

  debug(message: string, fields: LogFields = {}): void {
    this.#sink({ level: 'debug', message, fields: { ...fields }, time: Date.now() });
  }

  info(message: string, fields: LogFields = {}): void {
    this.#sink({ level: 'info', message, fields: { ...fields }, time: Date.now() });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.#sink({ level: 'warn', message, fields: { ...fields }, time: Date.now() });
  }

  error(message: string, fields: LogFields = {}): void {
    this.#sink({ level: 'error', message, fields: { ...fields }, time: Date.now() });
  }

  child(fields: LogFields): Logger {
    return createLogger(this.#sink, 'trace', fields);
  }
}
