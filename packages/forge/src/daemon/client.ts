/**
 * A client of the daemon's API, over its unix socket or its TCP listener: what the CLI
 * uses when a daemon runs, and what the tests drive it with. A failed request comes
 * back as the ForgeError the daemon sent (code, message, details), so callers handle
 * a daemon's refusal exactly as a local one.
 *
 * Besides whole answers ({@link send}, {@link call}) it reads streamed ones line by line
 * ({@link openStream}: NDJSON logs, Server-Sent Events), with a bound on the length of a
 * line and on the time between two lines, so a daemon that misbehaves cannot make its
 * client hold unbounded memory or hang without a word.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { ForgeError } from '@forgeone/common';

/** Where the daemon is. */
export type DaemonTarget = { readonly socket: string; readonly token?: string } | { readonly url: string; readonly token?: string };

/** One request. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query, e.g. `/v1/plugins?start=true`. */
  readonly path: string;
  /** A JSON body (serialised), or raw bytes sent as application/octet-stream. */
  readonly json?: unknown;
  readonly bytes?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Give up when nothing moves for this long, in ms (default 120 s; for streams, 60 s:
   * the daemon sends a keep-alive every 15 s).
   */
  readonly timeoutMs?: number;
  /** Called as the body is flushed to the connection: bytes sent so far, and the total. */
  readonly onUploadProgress?: (sent: number, total: number) => void;
  /** Aborting it closes the connection; a stream then ends quietly. */
  readonly signal?: AbortSignal;
}

/** A response. */
export interface ApiResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** An answer that is being streamed: its lines as they arrive. */
export interface ApiStream {
  readonly contentType: string;
  /**
   * Every line of the body, without its line break, as it arrives. Ends when the daemon
   * ends the response or the request's signal aborts.
   * @throws ForgeError FO_DAEMON_UNREACHABLE (the connection broke, a line was too long,
   *   or nothing arrived within the timeout)
   */
  readonly lines: AsyncIterable<string>;
}

/** The size of the pieces a body is written in, so progress can be reported. */
const UPLOAD_CHUNK = 64 * 1024;
/** The longest line a stream may send, in UTF-16 code units (a log record is far shorter). */
export const MAX_STREAM_LINE = 1024 * 1024;

interface Opened {
  readonly outgoing: ClientRequest;
  readonly response: IncomingMessage;
}

function where(target: DaemonTarget): string {
  return 'socket' in target ? target.socket : target.url;
}

/** Sends the request and resolves once the response's head has arrived. */
function open(target: DaemonTarget, request: ApiRequest, defaultTimeoutMs: number): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const payload = request.bytes !== undefined ? Buffer.from(request.bytes) : request.json !== undefined ? Buffer.from(JSON.stringify(request.json)) : undefined;
    const headers: Record<string, string> = { ...request.headers };
    if (target.token !== undefined) headers['authorization'] = `Bearer ${target.token}`;
    if (payload !== undefined) {
      headers['content-type'] ??= request.bytes !== undefined ? 'application/octet-stream' : 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const url = 'socket' in target ? new URL(`http://forge${request.path}`) : new URL(request.path, target.url);
    const timeoutMs = request.timeoutMs ?? defaultTimeoutMs;
    const outgoing = httpRequest(
      {
        method: request.method,
        ...('socket' in target ? { socketPath: target.socket } : { hostname: url.hostname, port: url.port }),
        path: `${url.pathname}${url.search}`,
        headers,
        timeout: timeoutMs,
      },
      (response: IncomingMessage) => resolve({ outgoing, response }),
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`nothing arrived within ${timeoutMs} ms`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (request.signal?.aborted === true) reject(new ForgeError('FO_DAEMON_UNREACHABLE', 'the request was abandoned before the daemon answered', { details: { reason: 'aborted' } }));
      else if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new ForgeError('FO_DAEMON_NOT_RUNNING', `no daemon answers at ${where(target)}; start one with forge daemon`, { details: { reason: error.code } }));
      } else reject(unreachable(error));
    });
    const signal = request.signal;
    if (signal !== undefined) {
      const abort = (): void => {
        outgoing.destroy(new Error('aborted by the caller'));
      };
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
    }
    if (payload === undefined || request.onUploadProgress === undefined) outgoing.end(payload);
    else writeInChunks(outgoing, payload, request.onUploadProgress);
  });
}

/** Writes `payload` piece by piece, waiting for the connection to drain, reporting each piece once flushed. */
function writeInChunks(outgoing: ClientRequest, payload: Buffer, progress: (sent: number, total: number) => void): void {
  let offset = 0;
  const next = (): void => {
    while (offset < payload.length) {
      const end = Math.min(offset + UPLOAD_CHUNK, payload.length);
      const more = outgoing.write(payload.subarray(offset, end), (error) => {
        if (error === null || error === undefined) progress(end, payload.length);
      });
      offset = end;
      if (!more) {
        outgoing.once('drain', next);
        return;
      }
    }
    outgoing.end();
  };
  if (payload.length === 0) outgoing.end();
  else next();
}

/**
 * Sends one request and reads the whole response.
 * @throws ForgeError FO_DAEMON_NOT_RUNNING (nothing listens), FO_DAEMON_UNREACHABLE (the
 *   exchange broke off)
 */
export async function send(target: DaemonTarget, request: ApiRequest): Promise<ApiResponse> {
  const { response } = await open(target, request, 120_000);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
    response.on('error', (error) => reject(unreachable(error)));
  });
}

function unreachable(error: Error): ForgeError {
  return new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon did not complete the request: ${error.message}`, { details: { reason: error.message } });
}

/**
 * The ForgeError a failed response carries (its `error` body), or undefined for a success.
 * A body that is not the daemon's error shape is FO_DAEMON_UNREACHABLE.
 */
export function failureOf(response: ApiResponse): ForgeError | undefined {
  if (response.status < 400) return undefined;
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { error?: unknown };
    if (typeof parsed.error === 'object' && parsed.error !== null) return ForgeError.fromJSON(parsed.error);
  } catch {
    // not JSON: fall through
  }
  return new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon answered ${response.status} without an error body`, { details: { status: response.status } });
}

/**
 * Sends a request and returns its JSON answer.
 * @throws ForgeError the daemon's refusal, FO_DAEMON_UNREACHABLE (an answer that is not JSON), or the codes of {@link send}
 */
export async function call<T>(target: DaemonTarget, request: ApiRequest): Promise<T> {
  const response = await send(target, request);
  const failure = failureOf(response);
  if (failure !== undefined) throw failure;
  if (response.body.length === 0) return undefined as T;
  try {
    return JSON.parse(response.body.toString('utf8')) as T;
  } catch {
    throw new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon answered ${response.status} with a body that is not JSON`, { details: { status: response.status, reason: 'malformed answer' } });
  }
}

/**
 * Sends a request whose answer is a stream (logs with follow, events) and returns once
 * its head has arrived; read {@link ApiStream.lines} to the end or abort the signal.
 * @throws ForgeError the daemon's refusal (read whole), or the codes of {@link send}
 */
export async function openStream(target: DaemonTarget, request: ApiRequest): Promise<ApiStream> {
  const { response } = await open(target, request, 60_000);
  const status = response.statusCode ?? 0;
  if (status >= 400) {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    throw failureOf({ status, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }) ?? unreachable(new Error(`status ${status}`));
  }
  return { contentType: String(response.headers['content-type'] ?? ''), lines: splitLines(response, request.signal) };
}

async function* splitLines(response: IncomingMessage, signal: AbortSignal | undefined): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  try {
    for await (const chunk of response) {
      pending += decoder.write(chunk as Buffer);
      for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
        yield pending.slice(0, newline).replace(/\r$/, '');
        pending = pending.slice(newline + 1);
      }
      if (pending.length > MAX_STREAM_LINE) {
        response.destroy();
        throw new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon sent a line longer than ${MAX_STREAM_LINE} characters; the stream was closed`, { details: { reason: 'line too long' } });
      }
    }
  } catch (error) {
    if (signal?.aborted === true) return;
    throw error instanceof ForgeError ? error : unreachable(error as Error);
  }
  if (signal?.aborted === true) return;
  pending += decoder.end();
  if (pending !== '') yield pending;
}

/** One Server-Sent Event: its type (`message` when it names none) and its data lines joined. */
export interface ServerEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Reads Server-Sent Events from the lines of a `text/event-stream`: `event:` and `data:`
 * fields, comments (`: ping`) skipped, a blank line ending each event. An event with a
 * type but no data is delivered too (the daemon's `overflow` may carry none).
 * @throws ForgeError FO_DAEMON_UNREACHABLE for an event whose data is longer than {@link MAX_STREAM_LINE}, and what `lines` throws
 */
export async function* serverEvents(lines: AsyncIterable<string>): AsyncGenerator<ServerEvent> {
  let event = '';
  let data: string[] = [];
  let size = 0;
  for await (const line of lines) {
    if (line === '') {
      if (data.length > 0 || event !== '') yield { event: event === '' ? 'message' : event, data: data.join('\n') };
      event = '';
      data = [];
      size = 0;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
    if (field === 'event') event = value;
    else if (field === 'data') {
      size += value.length + 1;
      if (size > MAX_STREAM_LINE) throw new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon sent an event longer than ${MAX_STREAM_LINE} characters`, { details: { reason: 'event too long' } });
      data.push(value);
    }
  }
}
