/**
 * HTTP/1.1 by hand over a plain socket, for the clients no HTTP library would be: one
 * that dribbles its headers, declares a gigabyte and sends a kilobyte, floods headers,
 * or connects and says nothing. It records what it sent and what came back, and when
 * the daemon closed the connection.
 */
import { connect, type Socket } from 'node:net';

/** Where to connect: the daemon's unix socket or its TCP listener (`http://HOST:PORT`). */
export type RawTarget = { readonly socket: string } | { readonly url: string };

/** The first response on a connection, parsed (content-length bodies only). */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The body parsed as JSON when it is JSON, else undefined. */
  readonly json: unknown;
}

/** One connection driven byte by byte. */
export class RawConnection {
  readonly #socket: Socket;
  readonly #chunks: Buffer[] = [];
  readonly #closed: Promise<void>;
  #isClosed = false;
  #accepted = 0;
  #error: string | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#chunks.push(chunk));
    // A peer that closes on us is an outcome here, not a failure.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#error ??= error.code ?? error.message;
    });
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#isClosed = true;
        resolve();
      });
    });
  }

  /** Opens a connection and waits until it is established. */
  static open(target: RawTarget): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      let socket: Socket;
      if ('socket' in target) socket = connect(target.socket);
      else {
        const url = new URL(target.url);
        socket = connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''));
      }
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Resolves when the connection is closed (by either side). */
  get closed(): Promise<void> {
    return this.#closed;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Bytes handed to the kernel so far (what the peer could have read). */
  get accepted(): number {
    return this.#accepted;
  }

  /** The socket error seen, if any (EPIPE, ECONNRESET when the daemon cut us off). */
  get error(): string | undefined {
    return this.#error;
  }

  /** Everything received so far. */
  received(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  /**
   * Writes `data` and waits until the kernel took it (resolves true), or the connection
   * closed first (false).
   */
  write(data: string | Uint8Array): Promise<boolean> {
    if (this.#isClosed || this.#socket.destroyed || this.#socket.writableEnded) return Promise.resolve(false);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    return new Promise((resolve) => {
      const onClose = (): void => resolve(false);
      this.#socket.once('close', onClose);
      this.#socket.write(bytes, (error) => {
        this.#socket.off('close', onClose);
        if (error === undefined || error === null) this.#accepted += bytes.length;
        resolve(error === undefined || error === null);
      });
    });
  }

  /** The first complete response received, or undefined when none (yet). */
  response(): RawResponse | undefined {
    return parseResponse(this.received());
  }

  /** Waits for a complete response, or for the connection to close without one (undefined). */
  async nextResponse(): Promise<RawResponse | undefined> {
    for (;;) {
      const parsed = this.response();
      if (parsed !== undefined || this.#isClosed) return parsed;
      await Promise.race([this.#closed, new Promise((resolve) => this.#socket.once('data', resolve))]);
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Parses the first response in `bytes`; undefined when it is not complete. */
export function parseResponse(bytes: Buffer): RawResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (bytes.length < end + 4 + length) return undefined;
  const body = bytes.subarray(end + 4, end + 4 + length);
  let json: unknown;
  if ((headers['content-type'] ?? '').startsWith('application/json') && body.length > 0) json = JSON.parse(body.toString('utf8')) as unknown;
  return { status, headers, body, json };
}

/** The catalog code of an error response, or `HTTP <status>` when it has none. */
export function codeOfResponse(response: RawResponse | undefined): string {
  if (response === undefined) return 'no response';
  const error = (response.json as { error?: { code?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' ? error.code : `HTTP ${response.status}`;
}

/** Resolves after `ms` milliseconds (pacing a slow client; never an assertion). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
