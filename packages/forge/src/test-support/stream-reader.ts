/**
 * A client of the daemon's streams for tests: opens a GET, collects what arrives, and
 * waits for what a test expects (a log line, an SSE event) or for the end. Also a
 * client that sends its request and then reads nothing, to play the slow reader.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { DaemonTarget } from '../daemon/client.js';

/** One Server-Sent Event. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** An open stream. */
export interface StreamClient {
  readonly status: number;
  readonly contentType: string;
  /** Everything received so far. */
  text(): string;
  /** Resolves with what was received once `test` holds on it; rejects, saying what arrived, if the stream ends first. */
  until(test: (text: string) => boolean, what: string): Promise<string>;
  /** Resolves when the response ended or its connection closed. */
  readonly ended: Promise<void>;
  /** Closes the connection from this side. */
  close(): void;
}

/** Opens a stream at `path` (a GET). */
export function openStream(target: DaemonTarget, path: string): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const url = 'socket' in target ? new URL(`http://forge${path}`) : new URL(path, target.url);
    const outgoing = httpRequest(
      {
        method: 'GET',
        ...('socket' in target ? { socketPath: target.socket } : { hostname: url.hostname, port: url.port }),
        path: `${url.pathname}${url.search}`,
        headers: target.token === undefined ? {} : { authorization: `Bearer ${target.token}` },
      },
      (response: IncomingMessage) => {
        let received = '';
        let done = false;
        const waiters: { test: (text: string) => boolean; what: string; resolve: (text: string) => void; reject: (error: Error) => void }[] = [];
        const check = (): void => {
          for (const waiter of [...waiters]) {
            if (waiter.test(received)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(received);
            } else if (done) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.reject(new Error(`the stream ended before ${waiter.what}; it sent:\n${received.slice(-2000)}`));
            }
          }
        };
        const ended = new Promise<void>((resolveEnd) => {
          const finish = (): void => {
            done = true;
            check();
            resolveEnd();
          };
          response.once('end', finish);
          response.once('close', finish);
        });
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          received += chunk;
          check();
        });
        response.on('error', () => undefined);
        resolve({
          status: response.statusCode ?? 0,
          contentType: String(response.headers['content-type'] ?? ''),
          text: () => received,
          until: (test, what) =>
            new Promise((resolveWait, rejectWait) => {
              waiters.push({ test, what, resolve: resolveWait, reject: rejectWait });
              check();
            }),
          ended,
          close: () => outgoing.destroy(),
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** The events of an SSE text, comments and incomplete events left out. */
export function sseEvents(text: string): SseEvent[] {
  const blocks = text.split('\n\n');
  blocks.pop(); // the part after the last blank line is not a whole event yet
  return blocks.flatMap((block) => {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice('event: '.length);
      else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
    }
    return data.length === 0 ? [] : [{ event, data: data.join('\n') }];
  });
}

/** The whole lines of an NDJSON text, parsed. */
export function ndjsonLines(text: string): unknown[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.map((line) => JSON.parse(line) as unknown);
}

/**
 * Sends `GET path` over the unix socket `socketPath` and reads nothing: the socket is
 * paused, so the daemon's writes pile up in the kernel's buffers and then in the
 * stream's queue. `resume()` starts reading; the returned promise of `drained` resolves
 * with everything the daemon sent once the connection closes.
 */
export function stalledClient(socketPath: string, path: string): { readonly socket: Socket; resume(): Promise<string> } {
  const socket = connect(socketPath);
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: forge\r\n\r\n`);
  return {
    socket,
    resume: () =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.resume();
      }),
  };
}

/**
 * Resolves once `check()` holds, looking again every 10 ms; rejects after `limitMs`
 * (default 20 s: a bound on waiting, not an expectation of speed).
 */
export async function eventually(check: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
